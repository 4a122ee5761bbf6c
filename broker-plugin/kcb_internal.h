/*
 * kcb_internal.h: the registry's data structures, shared by the files of
 * broker-plugin/ and by its tests. Not part of the ABI.
 *
 * Concurrency model: each shard belongs to one host thread (its "owner").
 * Only the owner writes its records. Fields a describe must read coherently
 * (strings, state, timestamps of rare events, list links) change under the
 * shard's mutex; the hot counters change with relaxed atomic stores by the
 * owner alone, so the request/response path takes no lock and does no
 * read-modify-write.
 */
#ifndef KCB_INTERNAL_H
#define KCB_INTERNAL_H

#include "kcb.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* One connection's facts. Lives inside a kcb_conn while open and moves to
 * the history (copied into a kcb_closed) when closed. */
typedef struct kcb_rec {
    uint64_t seq;              /* registry-wide accept order: paging key */
    const char *id;            /* immutable, stored after the struct */
    const char *listener;      /* immutable */
    const char *local_host;    /* immutable */
    const char *peer_host;     /* immutable */
    uint8_t peer_addr[16];     /* peer_host parsed, IPv4 as v4-mapped IPv6 */
    uint16_t local_port, peer_port;
    int16_t security_protocol;
    int8_t state;              /* enum kcb_state; under lock */
    int8_t close_reason;       /* enum kcb_close_reason; under lock */
    char *principal;           /* NULL = User:ANONYMOUS; under lock */
    char *mechanism;           /* under lock */
    char *tls_protocol, *tls_cipher, *peer_subject, *peer_issuer, *peer_serial;
    char *sw_name, *sw_version;/* NULL = "unknown"; under lock */
    char *client_id;           /* NUL-terminated copy; under lock */
    int64_t connected_at, authenticated_at, session_expires_at, closed_at;
    _Atomic int64_t last_activity; /* hot: owner stores, readers load */
    _Atomic int64_t requests;
    _Atomic int64_t bytes_in;
    _Atomic int64_t bytes_out;
} kcb_rec;

typedef struct kcb_shard kcb_shard;

struct kcb_conn {
    kcb_rec rec;
    kcb_shard *shard;
    kcb_conn *prev, *next;     /* shard list in seq order; under lock */
    /* immutable strings follow */
};

struct kcb_shard {
    pthread_mutex_t lock;
    kcb_conn *head, *tail;
    uint64_t count;
    kcb_registry *reg;
    char pad[64];              /* keeps shards' hot data on separate lines */
};

/* A closed connection kept for IncludeClosed: the record plus its own
 * copies of the immutable strings. */
typedef struct kcb_closed {
    kcb_rec rec;
} kcb_closed;

struct kcb_registry {
    kcb_host host;
    kcb_config cfg;
    char **super_users;        /* parsed cfg.super_users */
    size_t n_super_users;
    kcb_shard *shards;
    _Atomic uint64_t next_seq;
    _Atomic uint64_t accepted, closed, auth_failures, open;

    pthread_mutex_t history_lock;
    kcb_closed **history;      /* ring of cfg.history_size slots */
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
/* Frees the mutable strings of a record. */
void kcb__rec_free_strings(kcb_rec *r);
/* Drops history entries older than the configured age; caller holds the
 * history lock. */
void kcb__history_expire(kcb_registry *reg, int64_t now);
/* Parses an IP address (IPv4 becomes v4-mapped IPv6); false if it is none. */
bool kcb__parse_ip(const char *s, size_t len, uint8_t out[16], bool *is_v4);

static inline const char *kcb__or(const char *s, const char *fallback)
{
    return s ? s : fallback;
}

#endif
