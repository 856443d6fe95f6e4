/* Test helpers for the notifier's unit tests (see helpers.h). */
#include "helpers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[PATH_MAX];
static char templates[PATH_MAX + 64];

static bool has_templates(const char *dir) {
    char p[PATH_MAX + 64];
    struct stat st;
    snprintf(p, sizeof p, "%s/services/notifier/templates", dir);
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *th_repo_root(void) {
    if (root[0])
        return root;
    char cand[PATH_MAX];
    if (getcwd(cand, sizeof cand) && has_templates(cand)) {
        snprintf(root, sizeof root, "%s", cand);
        return root;
    }
    ssize_t n = readlink("/proc/self/exe", cand, sizeof cand - 1);
    if (n > 0) {
        cand[n] = '\0';
        for (char *cut = strrchr(cand, '/'); cut; cut = strrchr(cand, '/')) {
            *cut = '\0';
            if (has_templates(cand)) {
                snprintf(root, sizeof root, "%s", cand);
                return root;
            }
        }
    }
    snprintf(root, sizeof root, ".");
    return root;
}

const char *th_templates_dir(void) {
    snprintf(templates, sizeof templates, "%s/services/notifier/templates", th_repo_root());
    return templates;
}

static int hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

char *th_qp_decode(const char *s, size_t n) {
    char *out = malloc(n + 1), *o = out;
    for (size_t i = 0; i < n;) {
        if (s[i] == '=' && i + 1 < n && s[i + 1] == '\n') {
            i += 2; /* soft break (LF, as a Maildir stores it) */
        } else if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 3; /* soft break */
        } else if (s[i] == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 3;
        } else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            *o++ = '\n';
            i += 2;
        } else {
            *o++ = s[i++];
        }
    }
    *o = '\0';
    return out;
}

char *th_header_decode(const char *s) {
    size_t n = strlen(s);
    char *out = calloc(1, n + 1), *o = out;
    while (*s) {
        if (strncmp(s, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(s + 10, "?=");
            if (!end)
                break;
            size_t bin_len = 0;
            sodium_base642bin((unsigned char *)o, n - (size_t)(o - out), s + 10, (size_t)(end - s - 10), NULL, &bin_len,
                              NULL, sodium_base64_VARIANT_ORIGINAL);
            o += bin_len;
            s = end + 2;
            /* whitespace between two encoded-words is not part of the text */
            const char *p = s;
            while (*p == '\r' || *p == '\n' || *p == ' ')
                p++;
            if (strncmp(p, "=?UTF-8?B?", 10) == 0)
                s = p;
        } else if (*s == '\r' && s[1] == '\n' && s[2] == ' ') {
            s += 2; /* unfold: keep the space */
        } else if (*s == '\n' && s[1] == ' ') {
            s += 1;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

bool th_sink_start(struct th_sink *s) {
    memset(s, 0, sizeof *s);
    s->port = free_port();
    snprintf(s->maildir, sizeof s->maildir, "/tmp/notifier-unit-%d-%d", (int)getpid(), s->port);
    snprintf(s->url, sizeof s->url, "smtp://127.0.0.1:%d", s->port);
    char listen[64], pythonpath[PATH_MAX + 64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
    snprintf(pythonpath, sizeof pythonpath, "PYTHONPATH=%s/tests/programs/mail_sink", th_repo_root());
    /* posix_spawn, not fork: Criterion's fork handlers must not run in a child. */
    char *envp[] = {pythonpath, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL};
    char *argv[] = {"python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c", "mkt_sink.Sink", s->maildir, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, "/usr/bin/python3", &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return false;
    s->pid = pid;
    for (int i = 0; i < 200; i++) {
        if (port_open(s->port))
            return true;
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

void th_sink_stop(struct th_sink *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->maildir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", s->maildir);
}

int th_sink_count(const struct th_sink *s) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s/new", s->maildir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

char *th_sink_first(const struct th_sink *s) {
    char dir[300], path[600];
    snprintf(dir, sizeof dir, "%s/new", s->maildir);
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char *content = NULL;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            break;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        content = calloc(1, (size_t)len + 1);
        if (fread(content, 1, (size_t)len, f) != (size_t)len) {
            free(content);
            content = NULL;
        }
        fclose(f);
        break;
    }
    closedir(d);
    return content;
}
