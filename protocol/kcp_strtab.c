/* Distinct strings by index: open addressing with linear probing over
 * (hash, index) slots, FNV-1a over the bytes (the strings are short). */
#include "kcp_strtab.h"

#include <stdlib.h>
#include <string.h>

void kcp_strtab_init(kcp_strtab *t)
{
    memset(t, 0, sizeof *t);
}

void kcp_strtab_free(kcp_strtab *t)
{
    free(t->v);
    free(t->slots);
    kcp_arena_free(&t->arena);
    kcp_strtab_init(t);
}

void kcp_strtab_reset(kcp_strtab *t)
{
    if (t->slots)
        memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof *t->slots);
    t->n = 0;
    kcp_arena_reset(&t->arena);
}

static uint32_t hash_of(kcp_str s)
{
    uint32_t h = 2166136261u;
    for (int32_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.ptr[i]) * 16777619u;
    return h;
}

static void place(kcp_strtab_slot *slots, uint32_t mask, kcp_strtab_slot e)
{
    uint32_t at = e.hash & mask;
    while (slots[at].index1)
        at = (at + 1) & mask;
    slots[at] = e;
}

/* Room for one entry more, slots at most half full afterwards. */
static int grow(kcp_strtab *t)
{
    if (t->n == INT32_MAX - 1)
        return -1;
    if (t->n == t->cap) {
        int32_t cap = t->cap ? (t->cap > INT32_MAX / 2 ? INT32_MAX - 1 : t->cap * 2) : 16;
        kcp_str *v = realloc(t->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    size_t want = (size_t)t->n * 2 + 2;
    if (t->slots && want <= (size_t)t->mask + 1)
        return 0;
    size_t size = t->slots ? ((size_t)t->mask + 1) * 2 : 32;
    while (size < want)
        size *= 2;
    kcp_strtab_slot *slots = calloc(size, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; t->slots && i <= t->mask; i++)
        if (t->slots[i].index1)
            place(slots, (uint32_t)(size - 1), t->slots[i]);
    free(t->slots);
    t->slots = slots;
    t->mask = (uint32_t)(size - 1);
    return 0;
}

int32_t kcp_strtab_add(kcp_strtab *t, kcp_str s)
{
    if (s.len < 0)
        return -1;
    uint32_t h = hash_of(s);
    if (t->slots) {
        for (uint32_t at = h & t->mask; t->slots[at].index1; at = (at + 1) & t->mask) {
            const kcp_strtab_slot *e = &t->slots[at];
            if (e->hash == h && kcp_str_eq(t->v[e->index1 - 1], s))
                return e->index1 - 1;
        }
    }
    if (grow(t))
        return KCP_ERR_NOMEM;
    const char *copy = s.len ? kcp_arena_memdup(&t->arena, s.ptr, (size_t)s.len) : "";
    if (!copy)
        return KCP_ERR_NOMEM;
    int32_t i = t->n++;
    t->v[i].ptr = copy;
    t->v[i].len = s.len;
    place(t->slots, t->mask, (kcp_strtab_slot){h, i + 1});
    return i;
}

int32_t kcp_strtab_add_hint(kcp_strtab *t, kcp_str s, int32_t *hint)
{
    if (s.len < 0)
        return -1;
    int32_t i = *hint;
    if (i >= 0 && i < t->n && kcp_str_eq(t->v[i], s))
        return i;
    i = kcp_strtab_add(t, s);
    if (i >= 0)
        *hint = i;
    return i;
}
