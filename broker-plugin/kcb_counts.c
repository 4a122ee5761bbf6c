/* Live connection counts per principal, listener and client software, for
 * the host's metrics export. */
#include "kcb_internal.h"
#include "kcb_strmap.h"

#include <stdlib.h>
#include <string.h>

typedef struct group {
    const char *principal, *listener, *name, *version;
    uint64_t count;
} group;

/* Writes the four labels into *buf as one key, NUL-separated, growing *buf
 * (*cap bytes) to fit labels of any length. Returns the key's length, or 0
 * when out of memory. */
static size_t group_key(char **buf, size_t *cap, const char *const labels[4])
{
    size_t len[4], need = 0;
    for (int i = 0; i < 4; i++)
        need += (len[i] = strlen(labels[i])) + 1;
    if (need > *cap) {
        char *b = realloc(*buf, need);
        if (!b)
            return 0;
        *buf = b;
        *cap = need;
    }
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        memcpy(*buf + n, labels[i], len[i] + 1);
        n += len[i] + 1;
    }
    return n;
}

int kcb_registry_counts(kcb_registry *reg, kcb_count_fn fn, void *opaque)
{
    kcp_arena arena = {0};
    kcb_strmap map;
    kcb_strmap_init(&map, &arena);
    group *groups = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    char *key = NULL;
    size_t key_cap = 0;

    for (uint32_t i = 0; i < reg->cfg.shards && rc == 0; i++) {
        kcb_shard *sh = &reg->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (uint32_t j = 0; j < sh->used && rc == 0; j++) {
            const kcb_conn *c = sh->slots[j];
            if (!c)
                continue;
            const char *labels[4] = {kcb__istr_or(c->rec.principal, KCB_ANONYMOUS),
                                     kcb__istr_or(c->rec.listener, ""),
                                     kcb__istr_or(c->rec.sw_name, KCB_UNKNOWN),
                                     kcb__istr_or(c->rec.sw_version, KCB_UNKNOWN)};
            size_t klen = group_key(&key, &key_cap, labels);
            const char *stored;
            int64_t idx = klen ? kcb_strmap_upsert(&map, key, klen, (int64_t)n, &stored) : -1;
            if (idx < 0) {
                rc = -1;
                break;
            }
            if ((size_t)idx == n) {
                if (n == cap) {
                    size_t ncap = cap ? cap * 2 : 16;
                    group *g = realloc(groups, ncap * sizeof *g);
                    if (!g) {
                        rc = -1;
                        break;
                    }
                    groups = g;
                    cap = ncap;
                }
                /* The stored key holds the four labels back to back. */
                groups[n].principal = stored;
                groups[n].listener = groups[n].principal + strlen(groups[n].principal) + 1;
                groups[n].name = groups[n].listener + strlen(groups[n].listener) + 1;
                groups[n].version = groups[n].name + strlen(groups[n].name) + 1;
                groups[n].count = 0;
                n++;
            }
            groups[idx].count++;
        }
        pthread_mutex_unlock(&sh->lock);
    }
    if (rc == 0)
        for (size_t i = 0; i < n; i++)
            fn(opaque, groups[i].principal, groups[i].listener, groups[i].name, groups[i].version,
               groups[i].count);
    free(groups);
    free(key);
    kcb_strmap_free(&map);
    kcp_arena_free(&arena);
    return rc;
}
