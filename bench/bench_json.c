/* Compact JSON of connection records (RFC 8259), written the way the CLI
 * will print them, so that the bytes-per-connection figure compares the wire
 * format against the text an operator's tooling would otherwise move. */
#include "bench_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

void bench_buf_free(bench_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static bool buf_reserve(bench_buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->cap - b->len >= n)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void put(bench_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

static void put_c(bench_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A JSON string: quote, backslash and control characters escaped; UTF-8
 * passes through as it is (the codec has already checked it). */
static void put_json_str(bench_buf *b, kcp_str s)
{
    if (s.len < 0) {
        put_c(b, "null");
        return;
    }
    put_c(b, "\"");
    for (int32_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            put(b, esc, 2);
        } else if (ch < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            put(b, esc, 6);
        } else {
            put(b, (const char *)&ch, 1);
        }
    }
    put_c(b, "\"");
}

static void put_int(bench_buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    put(b, tmp, (size_t)n);
}

/* One "key":value member; each after the first starts with a comma. */
static void key(bench_buf *b, const char *name, bool first)
{
    put_c(b, first ? "{\"" : ",\"");
    put_c(b, name);
    put_c(b, "\":");
}

static void str_member(bench_buf *b, const char *name, kcp_str v)
{
    key(b, name, false);
    put_json_str(b, v);
}

static void int_member(bench_buf *b, const char *name, int64_t v)
{
    key(b, name, false);
    put_int(b, v);
}

static const char *state_name(int8_t state)
{
    static const char *const names[] = {"authenticating", "open", "closing", "closed"};
    return state >= 0 && state < 4 ? names[state] : "unknown";
}

static const char *security_protocol_name(int16_t id)
{
    static const char *const names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    return id >= 0 && id < 4 ? names[id] : "unknown";
}

/* A member whose value is an entry of m's Strings, written out in full as
 * a JSON tool prints it (null for -1). */
static void index_member(bench_buf *b, const kcp_describe_connections_response *m,
                         const char *name, int32_t index)
{
    str_member(b, name, kcp_connections_str(m, index));
}

void bench_json_connection(bench_buf *b, const kcp_describe_connections_response *m,
                           const kcp_describe_connections_response_connection *c)
{
    key(b, "connection_id", true);
    put_json_str(b, c->connection_id);
    str_member(b, "state", kcp_str_c(state_name(c->state)));
    index_member(b, m, "listener", c->listener_name_index);
    str_member(b, "security_protocol", kcp_str_c(security_protocol_name(c->security_protocol)));
    index_member(b, m, "principal", c->principal_index);
    index_member(b, m, "sasl_mechanism", c->sasl_mechanism_index);
    str_member(b, "client_host", c->client_host);
    int_member(b, "client_port", c->client_port);
    index_member(b, m, "local_host", c->local_host_index);
    int_member(b, "local_port", c->local_port);
    index_member(b, m, "client_id", c->client_id_index);
    index_member(b, m, "client_software_name", c->client_software_name_index);
    index_member(b, m, "client_software_version", c->client_software_version_index);
    int_member(b, "connected_at", c->connected_at_ms);
    int_member(b, "authenticated_at", c->authenticated_at_ms);
    int_member(b, "last_activity_at", c->last_activity_at_ms);
    int_member(b, "requests", c->requests);
    int_member(b, "bytes_in", c->bytes_in);
    int_member(b, "bytes_out", c->bytes_out);
    index_member(b, m, "close_reason", c->close_reason_index);
    index_member(b, m, "tls_protocol", c->tls_protocol_index);
    index_member(b, m, "tls_cipher", c->tls_cipher_index);
    index_member(b, m, "peer_certificate_subject", c->peer_certificate_subject_index);
    int_member(b, "session_expires_at", c->session_expires_at_ms);
    put_c(b, "}");
}

void bench_json_connections(bench_buf *b, const kcp_describe_connections_response *m)
{
    put_c(b, "[");
    for (int32_t i = 0; i < m->connections.n; i++) {
        if (i)
            put_c(b, ",");
        bench_json_connection(b, m, &m->connections.v[i]);
    }
    put_c(b, "]");
}
