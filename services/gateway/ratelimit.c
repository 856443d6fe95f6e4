/* Per-client-address rate limits: one token bucket per address, refilled at `per_s` tokens a
 * second up to `burst`. Addresses live in a bounded set-associative table (a full set forgets its
 * least recently seen address, which then starts again with a full bucket): memory stays fixed
 * whatever the number of clients, at the price of some leniency under address churn. Identity
 * throttles failed logins itself (AUTH-8); this only keeps one client from flooding the edge. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define WAYS 8
#define ADDR_MAX 64

struct bucket {
    char addr[ADDR_MAX];     /* "" = free */
    double tokens;
    int64_t last_mono;       /* refill reference and recency */
};

struct rate_set {
    pthread_mutex_t mu;
    struct bucket b[WAYS];
};

struct gateway_rate {
    size_t nsets;            /* a power of two */
    double per_s, burst;
    struct rate_set *sets;
};

struct gateway_rate *gateway_rate_new(size_t capacity, double per_s, double burst) {
    if (per_s <= 0 || capacity == 0)
        return NULL; /* no limit */
    struct gateway_rate *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->nsets = 1;
    while (r->nsets * WAYS < capacity)
        r->nsets *= 2;
    r->per_s = per_s;
    r->burst = burst < 1 ? 1 : burst;
    r->sets = calloc(r->nsets, sizeof *r->sets);
    if (!r->sets) {
        free(r);
        return NULL;
    }
    for (size_t i = 0; i < r->nsets; i++)
        pthread_mutex_init(&r->sets[i].mu, NULL);
    return r;
}

void gateway_rate_free(struct gateway_rate *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->nsets; i++)
        pthread_mutex_destroy(&r->sets[i].mu);
    free(r->sets);
    free(r);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

bool gateway_rate_take(struct gateway_rate *r, const char *client, int64_t now_mono, int *retry_after_s) {
    if (!r)
        return true;
    client = client && *client ? client : "?";
    struct rate_set *s = &r->sets[fnv1a(client) & (r->nsets - 1)];
    bool ok;
    pthread_mutex_lock(&s->mu);
    struct bucket *b = NULL, *victim = NULL;
    for (int i = 0; i < WAYS && !b; i++) {
        struct bucket *x = &s->b[i];
        if (x->addr[0] && strncmp(x->addr, client, ADDR_MAX - 1) == 0)
            b = x;
        else if (!victim || (victim->addr[0] && (!x->addr[0] || x->last_mono < victim->last_mono)))
            victim = x; /* a free slot, else the least recently seen */
    }
    if (!b) {
        b = victim;
        strncpy(b->addr, client, ADDR_MAX - 1);
        b->addr[ADDR_MAX - 1] = '\0';
        b->tokens = r->burst;
        b->last_mono = now_mono;
    }
    if (now_mono > b->last_mono) {
        b->tokens += (double)(now_mono - b->last_mono) / 1e6 * r->per_s;
        if (b->tokens > r->burst)
            b->tokens = r->burst;
    }
    b->last_mono = now_mono > b->last_mono ? now_mono : b->last_mono;
    if (b->tokens >= 1) {
        b->tokens -= 1;
        ok = true;
    } else {
        ok = false;
        if (retry_after_s) {
            double wait = ceil((1 - b->tokens) / r->per_s);
            *retry_after_s = wait < 1 ? 1 : wait > 3600 ? 3600 : (int)wait;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}
