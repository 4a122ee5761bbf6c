/* Distinct strings by index: open addressing with linear probing over
 * (hash, index) slots. The hash is SipHash-1-3 (Aumasson and Bernstein's
 * keyed hash, 1 compression and 3 finalization rounds) so that strings
 * chosen by clients cannot be made to collide without the table's key. */
#include "kcp_strtab.h"

#include <stdlib.h>
#include <string.h>

void kcp_strtab_init(kcp_strtab *t)
{
    memset(t, 0, sizeof *t);
}

void kcp_strtab_set_key(kcp_strtab *t, const uint8_t key[16])
{
    uint64_t k[2];
    memcpy(k, key, sizeof k);
    t->key[0] = k[0];
    t->key[1] = k[1];
}

void kcp_strtab_free(kcp_strtab *t)
{
    uint64_t key[2] = {t->key[0], t->key[1]};
    free(t->v);
    free(t->slots);
    kcp_arena_free(&t->arena);
    kcp_strtab_init(t);
    t->key[0] = key[0];
    t->key[1] = key[1];
}

void kcp_strtab_reset(kcp_strtab *t)
{
    if (t->slots)
        memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof *t->slots);
    t->n = 0;
    kcp_arena_reset(&t->arena);
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND(v0, v1, v2, v3)                                                                  \
    do {                                                                                          \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                 \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                    \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                    \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                 \
    } while (0)

/* Little-endian 64-bit word at p, whatever the host's byte order. */
static uint64_t le64(const uint8_t *p)
{
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = (w << 8) | p[i];
    return w;
}

static uint32_t hash_of(const kcp_strtab *t, kcp_str s)
{
    const uint8_t *p = (const uint8_t *)s.ptr;
    size_t len = (size_t)s.len, full = len & ~(size_t)7;
    uint64_t v0 = t->key[0] ^ 0x736f6d6570736575u, v1 = t->key[1] ^ 0x646f72616e646f6du;
    uint64_t v2 = t->key[0] ^ 0x6c7967656e657261u, v3 = t->key[1] ^ 0x7465646279746573u;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = le64(p + i);
        v3 ^= m;
        SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        last |= (uint64_t)p[full + i] << (8 * i);
    v3 ^= last;
    SIPROUND(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    uint64_t h = v0 ^ v1 ^ v2 ^ v3;
    return (uint32_t)(h ^ (h >> 32));
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
    uint32_t h = hash_of(t, s);
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
