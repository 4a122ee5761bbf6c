/*
 * bench_json.h: one connection record as compact JSON, with the keys and
 * value forms the operator CLI prints, to compare the wire encoding against.
 */
#ifndef BENCH_JSON_H
#define BENCH_JSON_H

#include "kcp_connections.h"
#include "kcp_messages.h"

/* A growable byte buffer; a zeroed one is empty and valid. */
typedef struct bench_buf {
    char *p;
    size_t len, cap;
    bool failed; /* an allocation failed; len stops growing */
} bench_buf;

void bench_buf_free(bench_buf *b);

/* Appends c, a row of m, as one JSON object without whitespace: snake_case
 * keys, state and security_protocol as names ("open", "SASL_SSL"),
 * timestamps and counters as integers, each string in full (the entry of
 * m's Strings the row's index names), null strings as null. */
void bench_json_connection(bench_buf *b, const kcp_describe_connections_response *m,
                           const kcp_describe_connections_response_connection *c);

/* Appends the connections as a JSON array of such objects. */
void bench_json_connections(bench_buf *b, const kcp_describe_connections_response *m);

#endif
