/* String-keyed open-addressing hash map (linear probing). */
#include "kcb_strmap.h"

#include <stdlib.h>
#include <string.h>

struct kcb_strmap_slot {
    const char *key; /* NUL-terminated copy in the arena; NULL = empty */
    size_t key_len;
    uint64_t hash;
    int64_t value;
};

void kcb_strmap_init(kcb_strmap *m, kcp_arena *arena)
{
    memset(m, 0, sizeof *m);
    m->arena = arena;
}

void kcb_strmap_free(kcb_strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}

static int grow(kcb_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    struct kcb_strmap_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int64_t kcb_strmap_upsert(kcb_strmap *m, const char *key, size_t key_len, int64_t value_if_new,
                          const char **stored_key)
{
    if ((m->len + 1) * 2 > m->cap && grow(m))
        return -1;
    uint64_t h = kcb_fnv1a(key, key_len);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].key) {
        struct kcb_strmap_slot *s = &m->slots[j];
        if (s->hash == h && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
            if (stored_key)
                *stored_key = s->key;
            return s->value;
        }
        j = (j + 1) & (m->cap - 1);
    }
    char *copy = kcp_arena_alloc(m->arena, key_len + 1);
    if (!copy)
        return -1;
    memcpy(copy, key, key_len);
    m->slots[j].key = copy;
    m->slots[j].key_len = key_len;
    m->slots[j].hash = h;
    m->slots[j].value = value_if_new;
    m->len++;
    if (stored_key)
        *stored_key = copy;
    return value_if_new;
}
