/*
 * kcp_strtab.h: a table of distinct strings, built while rows are encoded,
 * for messages whose rows refer to their strings by index (the Strings of
 * a DescribeConnections response). Adding a string the table already holds
 * returns its first index; new strings are copied, so the caller's bytes
 * may change or go away after the call.
 */
#ifndef KCP_STRTAB_H
#define KCP_STRTAB_H

#include "kcp_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One hash slot: the hash sits next to the index so that a probe touches
 * one cache line, not the entry and its bytes, until the hashes agree. */
typedef struct kcp_strtab_slot {
    uint32_t hash;
    int32_t index1;     /* entry index + 1; 0 = empty */
} kcp_strtab_slot;

typedef struct kcp_strtab {
    kcp_str *v;         /* the entries in index order; bytes owned by arena */
    int32_t n, cap;
    kcp_strtab_slot *slots; /* open addressing, at most half full */
    uint32_t mask;      /* slots has mask + 1 entries (a power of two) */
    uint64_t key[2];    /* SipHash key: all zero unless kcp_strtab_set_key() */
    kcp_arena arena;
} kcp_strtab;

/* Starts an empty table (no allocation) hashing with an all-zero key. */
void kcp_strtab_init(kcp_strtab *t);
/* Sets the table's hash key (16 bytes); call while the table is empty.
 * Strings that clients choose (client ids, software names) land in the
 * table, so a host keys it with random bytes: with a known key, strings
 * made to collide would turn each lookup into a long probe. */
void kcp_strtab_set_key(kcp_strtab *t, const uint8_t key[16]);
/* Frees every entry and the table's memory; the table is empty afterwards. */
void kcp_strtab_free(kcp_strtab *t);
/* Empties the table, keeping its memory for the next strings. */
void kcp_strtab_reset(kcp_strtab *t);

/* Index of s in the table (adding a copy if it is new), -1 for a null s,
 * or KCP_ERR_NOMEM. */
int32_t kcp_strtab_add(kcp_strtab *t, kcp_str s);
/* Whether n bytes at a and b are alike; most table strings are short
 * (addresses, versions), where two overlapping loads beat a call. */
static inline bool kcp__short_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return memcmp(a, b, n) == 0;
}

/* The same, first trying entry *hint (a caller's memory of the last index
 * for this field; start it at -1) and storing the result there: rows that
 * repeat the previous row's string cost one comparison. Inline, as an
 * encoder calls it for every string of every row. */
static inline int32_t kcp_strtab_add_hint(kcp_strtab *t, kcp_str s, int32_t *hint)
{
    if (s.len < 0)
        return -1;
    int32_t h = *hint;
    if (h >= 0 && h < t->n && t->v[h].len == s.len && kcp__short_eq(t->v[h].ptr, s.ptr, (size_t)s.len))
        return h;
    int32_t i = kcp_strtab_add(t, s);
    if (i >= 0)
        *hint = i;
    return i;
}

#ifdef __cplusplus
}
#endif

#endif
