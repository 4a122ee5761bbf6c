/* Shared refcounted strings: a chained hash table under one mutex. */
#include "kcb_intern.h"
#include "kcb_strmap.h"

#include <stdlib.h>
#include <string.h>

void kcb_intern_init(kcb_intern *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
}

void kcb_intern_destroy(kcb_intern *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        kcb_istr *e = t->buckets[i];
        while (e) {
            kcb_istr *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    pthread_mutex_destroy(&t->lock);
}

/* Doubles the bucket array once the chains average one entry. */
static int grow(kcb_intern *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    kcb_istr **b = calloc(cap, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        kcb_istr *e = t->buckets[i];
        while (e) {
            kcb_istr *next = e->next;
            e->next = b[e->hash & (cap - 1)];
            b[e->hash & (cap - 1)] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->cap = cap;
    return 0;
}

/* Finds or adds s with one more reference; caller holds the lock. */
static const kcb_istr *get_locked(kcb_intern *t, const char *s, size_t len)
{
    if (len > INT32_MAX)
        return NULL;
    uint32_t h = (uint32_t)kcb_fnv1a(s, len);
    kcb_istr *e = NULL;
    if (t->cap) {
        for (e = t->buckets[h & (t->cap - 1)]; e; e = e->next)
            if (e->hash == h && (size_t)e->len == len && memcmp(e->s, s, len) == 0)
                break;
    }
    if (!e && (t->len < t->cap || grow(t) == 0)) {
        e = malloc(sizeof *e + len + 1);
        if (e) {
            e->hash = h;
            e->refs = 0;
            e->len = (int32_t)len;
            memcpy(e->s, s, len);
            e->s[len] = '\0';
            e->next = t->buckets[h & (t->cap - 1)];
            t->buckets[h & (t->cap - 1)] = e;
            t->len++;
        }
    }
    if (e)
        e->refs++;
    return e;
}

/* Drops a reference, freeing the string with the last; caller holds the
 * lock. */
static void put_locked(kcb_intern *t, const kcb_istr *s)
{
    kcb_istr *e = (kcb_istr *)s; /* the table owns it; callers only read */
    if (!e || --e->refs > 0)
        return;
    kcb_istr **p = &t->buckets[e->hash & (t->cap - 1)];
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    t->len--;
    free(e);
}

const kcb_istr *kcb_intern_get(kcb_intern *t, const char *s, size_t len)
{
    const kcb_istr *out[1];
    return kcb_intern_getv(t, 1, &s, &len, out) == 0 ? out[0] : NULL;
}

int kcb_intern_getv(kcb_intern *t, size_t n, const char *const s[], const size_t len[],
                    const kcb_istr *out[])
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < n; i++) {
        out[i] = s[i] ? get_locked(t, s[i], len[i]) : NULL;
        if (s[i] && !out[i]) {
            while (i-- > 0)
                put_locked(t, out[i]);
            pthread_mutex_unlock(&t->lock);
            for (size_t j = 0; j < n; j++)
                out[j] = NULL;
            return -1;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return 0;
}

void kcb_intern_put(kcb_intern *t, const kcb_istr *s)
{
    kcb_intern_putv(t, 1, &s);
}

void kcb_intern_putv(kcb_intern *t, size_t n, const kcb_istr *const s[])
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < n; i++)
        put_locked(t, s[i]);
    pthread_mutex_unlock(&t->lock);
}
