/* kcb_intern.h: the registry's table of shared strings. Many connections
 * repeat the same few values (principal, SASL mechanism, listener, client
 * software, client id), so each record points at one refcounted copy
 * instead of holding its own.
 *
 * The table has its own mutex and takes no other lock, so it may be used
 * while a shard or history lock is held. A describe never touches it: it
 * reads the strings a record points at, which stay alive as long as the
 * record holds its reference (records swap references under their shard
 * lock and drop the old one only after unlocking). */
#ifndef KCB_INTERN_H
#define KCB_INTERN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* One shared string; immutable while anyone holds a reference. */
typedef struct kcb_istr {
    struct kcb_istr *next; /* hash chain */
    uint32_t hash;
    uint32_t refs;         /* under the table's mutex */
    int32_t len;
    char s[];              /* len bytes, then a NUL */
} kcb_istr;

typedef struct kcb_intern {
    pthread_mutex_t lock;
    kcb_istr **buckets;    /* chains; cap is 0 or a power of two */
    size_t cap, len;
} kcb_intern;

/* Starts an empty table. */
void kcb_intern_init(kcb_intern *t);
/* Frees the table and every string still in it. */
void kcb_intern_destroy(kcb_intern *t);
/* Returns the shared copy of s[0..len) with one more reference, or NULL when
 * memory ran out. Drop the reference with kcb_intern_put(). */
const kcb_istr *kcb_intern_get(kcb_intern *t, const char *s, size_t len);
/* The same for n strings under one lock (s[i] NULL gives out[i] NULL).
 * Returns 0, or -1 when memory ran out, having dropped what it took and set
 * every out[i] to NULL. */
int kcb_intern_getv(kcb_intern *t, size_t n, const char *const s[], const size_t len[],
                    const kcb_istr *out[]);
/* Drops one reference (NULL is ignored); the last one frees the string. */
void kcb_intern_put(kcb_intern *t, const kcb_istr *s);
/* The same for n strings under one lock. */
void kcb_intern_putv(kcb_intern *t, size_t n, const kcb_istr *const s[]);

#endif
