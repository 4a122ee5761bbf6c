/*
 * kcb_internal.h: the registry's data structures, shared by the files of
 * broker-plugin/ and by its tests. Not part of the ABI.
 *
 * Concurrency model: each shard belongs to one host thread (its "owner").
 * Only the owner writes its records. Fields a describe must read coherently
 * (strings, state, timestamps of rare events, shard arrays) change under the
 * shard's mutex; the hot counters change with relaxed atomic stores by the
 * owner alone, so the request/response path takes no lock and does no
 * read-modify-write (a new client id is the exception: it is interned and
 * swapped in under the shard lock). A string a record drops is released
 * only after the swap, so a describe holding the lock never reads a freed
 * one.
 */
#ifndef KCB_INTERNAL_H
#define KCB_INTERNAL_H

#include "kcb.h"
#include "kcb_intern.h"
#include "kcp_wire.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The five TLS facts, in one block that only TLS connections allocate. */
enum { KCB_TLS_PROTOCOL, KCB_TLS_CIPHER, KCB_TLS_SUBJECT, KCB_TLS_ISSUER, KCB_TLS_SERIAL, KCB_TLS__COUNT };
typedef struct kcb_tls {
    kcp_str v[KCB_TLS__COUNT]; /* views of the bytes after the struct; len -1 = not given */
} kcb_tls;

/* One connection's facts, inside its kcb_conn for its whole life: open in
 * a shard's array, then closed in the history ring. Strings many connections
 * share are interned (kcb_intern.h); the id, which holds both addresses,
 * follows the kcb_conn. Every string's length is stored, so that a describe
 * encodes a row without measuring anything. */
typedef struct kcb_rec {
    uint64_t seq;                  /* registry-wide accept order: paging key in a shard */
    const kcb_istr *listener;      /* immutable */
    const kcb_istr *principal;     /* NULL = User:ANONYMOUS; under lock */
    const kcb_istr *mechanism;     /* under lock */
    const kcb_istr *sw_name, *sw_version; /* NULL = "unknown"; under lock */
    const kcb_istr *client_id;     /* under lock; the owner reads it unlocked */
    kcb_tls *tls;                  /* NULL = no TLS facts; under lock */
    uint8_t peer_addr[16];         /* peer host parsed, IPv4 as v4-mapped IPv6 */
    uint16_t local_port, peer_port;
    int16_t security_protocol;
    int8_t state;                  /* enum kcb_state; under lock */
    int8_t close_reason;           /* enum kcb_close_reason; under lock */
    /* The id is "local:port-peer:port-shard-seq" (under 156 bytes), so both
     * hosts are slices of it. */
    uint8_t id_len, local_len, peer_off, peer_len;
    int64_t connected_at, authenticated_at, session_expires_at, closed_at;
    _Atomic int64_t last_activity; /* hot: owner stores, readers load */
    _Atomic int64_t requests;
    _Atomic int64_t bytes_in;
    _Atomic int64_t bytes_out;
} kcb_rec;

typedef struct kcb_shard kcb_shard;
struct kcb_page_tables;

struct kcb_conn {
    kcb_rec rec;               /* first: a kcb_rec is always inside a kcb_conn */
    kcb_shard *shard;
    uint32_t slot;             /* its index in shard->slots while open; under lock */
    /* the id follows, NUL-terminated */
};

/* A shard's open connections are an array in seq order rather than a
 * linked list: a describe reads it front to back and can ask for records
 * well before it reaches them, where a list makes it wait for each one in
 * turn. A closed connection leaves a NULL hole; the array is compacted when
 * holes outnumber connections. */
struct kcb_shard {
    pthread_mutex_t lock;
    kcb_conn **slots;          /* slots[0..used): open connections and holes */
    uint32_t used, cap;
    uint64_t count;            /* open connections */
    kcb_registry *reg;
    char pad[64];              /* keeps shards' hot data on separate lines */
};

struct kcb_registry {
    kcb_host host;
    kcb_config cfg;
    char **super_users;        /* parsed cfg.super_users */
    size_t n_super_users;
    kcb_shard *shards;
    _Atomic uint64_t next_seq;
    _Atomic uint64_t accepted, closed, auth_failures, open;
    kcb_intern strings;        /* shared strings of every record */
    struct kcb_page_tables *_Atomic spare_tables; /* kcb_page.h */
    uint8_t strings_key[16];   /* random key of every page's Strings hash (kcp_strtab) */

    pthread_mutex_t history_lock;
    kcb_conn **history;        /* ring of cfg.history_size closed connections */
    uint32_t history_head;     /* oldest entry */
    uint32_t history_len;
};

#define KCB_ANONYMOUS "User:ANONYMOUS"
#define KCB_UNKNOWN "unknown"

int64_t kcb__now(const kcb_registry *reg);
void kcb__log(const kcb_registry *reg, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Drops history entries older than the configured age; caller holds the
 * history lock. */
void kcb__history_expire(kcb_registry *reg, int64_t now);
/* Parses an IP address (IPv4 becomes v4-mapped IPv6); false if it is none. */
bool kcb__parse_ip(const char *s, size_t len, uint8_t out[16], bool *is_v4);

/* Hints that the n bytes at p will be read soon: the describe knows the
 * addresses of the records it will read well before it reads them. */
static inline void kcb__prefetch(const void *p, size_t n)
{
#if defined(__GNUC__)
    for (size_t off = 0; off < n; off += 64)
        __builtin_prefetch((const char *)p + off);
#else
    (void)p;
    (void)n;
#endif
}

/* The record's id, NUL-terminated, stored after its kcb_conn. */
static inline const char *kcb__rec_id(const kcb_rec *r)
{
    return (const char *)((const kcb_conn *)r + 1);
}

static inline kcp_str kcb__id_view(const kcb_rec *r)
{
    kcp_str v = {kcb__rec_id(r), r->id_len};
    return v;
}

static inline kcp_str kcb__local_host_view(const kcb_rec *r)
{
    kcp_str v = {kcb__rec_id(r), r->local_len};
    return v;
}

static inline kcp_str kcb__peer_host_view(const kcb_rec *r)
{
    kcp_str v = {kcb__rec_id(r) + r->peer_off, r->peer_len};
    return v;
}

/* A view of a shared string; NULL gives fallback (a literal) or null. */
#define KCB_LITERAL_VIEW(lit) ((kcp_str){(lit), (int32_t)sizeof(lit) - 1})
static inline kcp_str kcb__istr_view(const kcb_istr *s, kcp_str fallback)
{
    if (!s)
        return fallback;
    kcp_str v = {s->s, s->len};
    return v;
}

/* The same as a C string, for callers that want one. */
static inline const char *kcb__istr_or(const kcb_istr *s, const char *fallback)
{
    return s ? s->s : fallback;
}

#endif
