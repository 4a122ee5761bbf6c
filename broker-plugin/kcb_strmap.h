/* kcb_strmap.h: a small string-keyed hash map (open addressing) whose keys
 * live in a kcp_arena. Used to group connections by principal and labels
 * for the summary mode and the metrics export. */
#ifndef KCB_STRMAP_H
#define KCB_STRMAP_H

#include "kcp_wire.h"

#include <stddef.h>
#include <stdint.h>

typedef struct kcb_strmap {
    kcp_arena *arena;       /* keys are copied here; not owned */
    struct kcb_strmap_slot *slots;
    size_t cap, len;        /* cap is a power of two */
} kcb_strmap;

/* FNV-1a: short keys (principals, labels) hash fast and spread well. */
static inline uint64_t kcb_fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Starts an empty map whose keys are copied into arena. */
void kcb_strmap_init(kcb_strmap *m, kcp_arena *arena);
/* Frees the slot table (keys stay in the arena). */
void kcb_strmap_free(kcb_strmap *m);
/* Finds key, inserting it with value *inserted_value when absent. Returns
 * the stored value, or -1 when memory ran out. The stored key (copy) is
 * returned in *stored_key when not NULL. */
int64_t kcb_strmap_upsert(kcb_strmap *m, const char *key, size_t key_len, int64_t value_if_new,
                          const char **stored_key);

#endif
