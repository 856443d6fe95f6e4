/* argon2_bench: how long identity takes to hash (and verify) one password with its argon2id
 * parameters (AUTH-2), measured with identity's own password.c. Prints one line per parameter set:
 * the configured one (MKT_ARGON2_OPS, MKT_ARGON2_MEM_KIB; production defaults t=2, m=19456 KiB)
 * and, for reference, libsodium's "interactive" preset. bench/identity.sh runs it.
 *   env: MKT_ARGON2_OPS, MKT_ARGON2_MEM_KIB, BENCH_ARGON2_N (hashes per set, default 20) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../../services/identity/password.c"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run(const char *label, const struct password_params *p, int n) {
    char h[PASSWORD_HASH_MAX];
    struct err e = {0};
    double total = 0, min = 1e18, max = 0, verify = 0;
    if (password_params_check(p, &e) != ERR_OK) {
        fprintf(stderr, "argon2_bench: %s\n", e.msg);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        if (password_hash(p, "Correct-Horse-9-Battery", h, &e) != ERR_OK) {
            fprintf(stderr, "argon2_bench: %s\n", e.msg);
            return 1;
        }
        double t1 = now_ms();
        if (!password_verify(h, "Correct-Horse-9-Battery")) {
            fprintf(stderr, "argon2_bench: verification failed\n");
            return 1;
        }
        double t2 = now_ms(), d = t1 - t0;
        total += d, verify += t2 - t1;
        min = d < min ? d : min;
        max = d > max ? d : max;
    }
    printf("argon2id %-12s t=%llu m=%zu KiB: %.1f ms per hash (min %.1f, max %.1f; verify %.1f ms), %.1f hashes/s "
           "per core\n",
           label, p->ops, p->mem_bytes / 1024, total / n, min, max, verify / n, 1000.0 * n / total);
    return 0;
}

int main(void) {
    const char *ops = getenv("MKT_ARGON2_OPS"), *mem = getenv("MKT_ARGON2_MEM_KIB"), *count = getenv("BENCH_ARGON2_N");
    struct password_params configured = {
        ops && *ops ? strtoull(ops, NULL, 10) : 2,
        (size_t)(mem && *mem ? strtoull(mem, NULL, 10) : 19456) * 1024,
    };
    struct password_params interactive = {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
    int n = count && atoi(count) > 0 ? atoi(count) : 20;
    if (run("configured", &configured, n) != 0 || run("interactive", &interactive, n) != 0)
        return 1;
    return 0;
}
