/*
 * kc_conn.h: one broker's exchange as a non-blocking state machine, driven
 * by the fan-out loop: TCP connect, TLS, ApiVersions, SaslHandshake and
 * SaslAuthenticate, then DescribeConnections pages. The outcome goes into
 * the broker's kc_result as it happens.
 */
#ifndef KC_CONN_H
#define KC_CONN_H

#include "kc_fanout.h"
#include "kc_tls.h"

#include <stdbool.h>
#include <stdint.h>

/* What every connection of one fan-out shares (read-only). */
typedef struct kc_conn_env {
    const kc_settings *s;
    kc_tls_ctx *tls;        /* NULL without TLS, or when it could not be built */
    const char *tls_error;  /* why the TLS context could not be built */
    const kcp_describe_connections_request *req;
    int64_t max_rows;       /* 0 = no limit */
    int16_t pipeline_version; /* DescribeConnections version to send behind
                               * ApiVersions without waiting for its answer
                               * (the scout's); -1: wait (and never with SASL) */
    bool scout;             /* stop after ApiVersions: the result's status and
                             * describe_version say what the broker serves */
} kc_conn_env;

typedef struct kc_conn kc_conn;

/* Starts asking broker b (resolves its host, which may block, and begins
 * connecting); r is filled as the exchange goes and must outlive the
 * connection. Returns NULL only when out of memory, r failed then. */
kc_conn *kc_conn_start(const kc_conn_env *env, const kc_broker *b, kc_result *r);
/* True once r holds the final outcome. */
bool kc_conn_done(const kc_conn *c);
/* The socket and poll() events to wait for (only while not done). */
int kc_conn_fd(const kc_conn *c);
short kc_conn_events(const kc_conn *c);
/* CLOCK_MONOTONIC ms (kc_now_ms) at which the exchange times out. */
int64_t kc_conn_deadline(const kc_conn *c);
/* Advances after poll() reported revents (0 when only time passed); fails
 * the exchange once its deadline has passed. */
void kc_conn_step(kc_conn *c, short revents);
/* Ends the exchange now (unless done), failing it with why. */
void kc_conn_abort(kc_conn *c, const char *why);
void kc_conn_free(kc_conn *c);

#endif
