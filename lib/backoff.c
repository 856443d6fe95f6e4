/* Exponential backoff with full jitter (see backoff.h). */
#include "backoff.h"

#include "crypto.h"

int64_t backoff_ceiling(const struct backoff *b, int attempt) {
    int64_t base = b->base > 0 ? b->base : 1;
    int64_t cap = b->cap > base ? b->cap : base;
    int64_t d = base;
    for (int i = 1; i < attempt && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    return d < cap ? d : cap;
}

int64_t backoff_delay(const struct backoff *b, int attempt, uint32_t rnd) {
    int64_t base = b->base > 0 ? b->base : 1;
    int64_t ceiling = backoff_ceiling(b, attempt);
    uint64_t span = (uint64_t)(ceiling - base) + 1;
    return base + (int64_t)((uint64_t)rnd * span / 4294967296ULL);
}

int64_t backoff_next(const struct backoff *b, int attempt) {
    uint32_t rnd;
    crypto_random(&rnd, sizeof rnd);
    return backoff_delay(b, attempt, rnd);
}
