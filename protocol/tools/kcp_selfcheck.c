/* kcp-selfcheck: encodes a sample DescribeConnections answer, decodes it
 * again and prints what came back, so a newcomer can see the codec work
 * before any broker runs. The rows name their strings by index into the
 * answer's Strings, built with kcp_strtab as a broker builds it and checked
 * with kcp_connections_check() as a client checks it. Exits non-zero if the
 * round trip differs. */
#include "kcp_connections.h"
#include "kcp_messages.h"
#include "kcp_strtab.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct sample {
    const char *id, *principal, *mechanism;
    uint16_t port;
} sample;

static const sample samples[] = {
    {"127.0.0.1:9092-127.0.0.1:50001-0-1", "User:alice", "SCRAM-SHA-256", 50001},
    {"127.0.0.1:9092-127.0.0.1:50002-1-2", "User:bob", "PLAIN", 50002},
};
#define N_SAMPLES ((int32_t)(sizeof samples / sizeof samples[0]))

/* One hint per string field: consecutive rows often repeat a field's string. */
typedef struct hints {
    int32_t listener, principal, mechanism, local_host, client_id, sw_name, sw_version;
} hints;

/* Adds s to t for one field; a full table stops the tool. */
static int32_t add(kcp_strtab *t, const char *s, int32_t *hint)
{
    int32_t i = kcp_strtab_add_hint(t, kcp_str_c(s), hint);
    if (i < -1) {
        fprintf(stderr, "kcp-selfcheck: out of memory\n");
        exit(1);
    }
    return i;
}

static void sample_connection(kcp_describe_connections_response_connection *c, const sample *s,
                              kcp_strtab *t, hints *h)
{
    kcp_describe_connections_response_connection_init(c);
    c->connection_id = kcp_str_c(s->id);
    c->state = 1;
    c->listener_name_index = add(t, "SASL_PLAINTEXT", &h->listener);
    c->security_protocol = 2;
    c->principal_index = add(t, s->principal, &h->principal);
    c->sasl_mechanism_index = add(t, s->mechanism, &h->mechanism);
    c->client_host = kcp_str_c("127.0.0.1");
    c->client_port = s->port;
    c->local_host_index = add(t, "127.0.0.1", &h->local_host);
    c->local_port = 9092;
    c->client_id_index = add(t, "rdkafka", &h->client_id);
    c->client_software_name_index = add(t, "librdkafka", &h->sw_name);
    c->client_software_version_index = add(t, "2.0.2", &h->sw_version);
    c->connected_at_ms = 1764400000000;
    c->authenticated_at_ms = 1764400000012;
    c->last_activity_at_ms = 1764400001000;
    c->requests = 4;
    c->bytes_in = 420;
    c->bytes_out = 1337;
}

/* printf's "%.*s" arguments for an entry of m's Strings. */
#define STR_ARGS(m, index) \
    kcp_connections_str((m), (index)).len, kcp_connections_str((m), (index)).ptr

static bool entry_is(const kcp_describe_connections_response *m, int32_t index, const char *want)
{
    return kcp_str_eq(kcp_connections_str(m, index), kcp_str_c(want));
}

int main(void)
{
    kcp_describe_connections_response_connection conns[N_SAMPLES];
    kcp_strtab strings;
    kcp_strtab_init(&strings);
    hints h = {-1, -1, -1, -1, -1, -1, -1};
    for (int32_t i = 0; i < N_SAMPLES; i++)
        sample_connection(&conns[i], &samples[i], &strings, &h);

    kcp_describe_connections_response resp;
    kcp_describe_connections_response_init(&resp);
    resp.broker_time_ms = 1764400005000;
    resp.total_count = N_SAMPLES;
    resp.connections.n = N_SAMPLES;
    resp.connections.v = conns;
    resp.strings.n = strings.n;
    resp.strings.v = strings.v;

    char err[256];
    if (kcp_describe_connections_response_validate(&resp, 0, err, sizeof err) ||
        kcp_connections_check(&resp, err, sizeof err)) {
        fprintf(stderr, "kcp-selfcheck: %s\n", err);
        return 1;
    }
    size_t len = kcp_describe_connections_response_size(&resp, 0);
    uint8_t *buf = malloc(len);
    kcp_writer w;
    kcp_writer_init(&w, buf, len);
    if (!buf || kcp_describe_connections_response_encode(&w, &resp, 0)) {
        fprintf(stderr, "kcp-selfcheck: encode failed\n");
        return 1;
    }
    printf("DescribeConnectionsResponse v0: %zu bytes for %d connections, %d distinct strings\n",
           len, (int)resp.connections.n, (int)resp.strings.n);

    kcp_reader r;
    kcp_reader_init(&r, buf, len);
    kcp_describe_connections_response back;
    int rc = kcp_describe_connections_response_decode(&r, &back, 0);
    if (rc || r.pos != len) {
        fprintf(stderr, "kcp-selfcheck: decode failed: %s\n", r.errstr);
        return 1;
    }
    if (kcp_connections_check(&back, err, sizeof err)) {
        fprintf(stderr, "kcp-selfcheck: decoded answer refused: %s\n", err);
        return 1;
    }
    printf("%-40s %-12s %-14s %-16s %s\n", "CONNECTION", "PRINCIPAL", "MECHANISM", "CLIENT", "SOFTWARE");
    for (int32_t i = 0; i < back.connections.n; i++) {
        const kcp_describe_connections_response_connection *c = &back.connections.v[i];
        printf("%-40.*s %-12.*s %-14.*s %.*s:%-6u %.*s/%.*s\n", c->connection_id.len,
               c->connection_id.ptr, STR_ARGS(&back, c->principal_index),
               STR_ARGS(&back, c->sasl_mechanism_index), c->client_host.len, c->client_host.ptr,
               c->client_port, STR_ARGS(&back, c->client_software_name_index),
               STR_ARGS(&back, c->client_software_version_index));
        if (!entry_is(&back, c->principal_index, samples[i].principal) ||
            !entry_is(&back, c->sasl_mechanism_index, samples[i].mechanism) ||
            c->bytes_out != conns[i].bytes_out) {
            fprintf(stderr, "kcp-selfcheck: connection %d differs after the round trip\n", (int)i);
            return 1;
        }
    }
    printf("round trip ok\n");
    kcp_describe_connections_response_free(&back);
    kcp_strtab_free(&strings);
    free(buf);
    return 0;
}
