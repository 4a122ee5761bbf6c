/* kcp-selfcheck: encodes a sample DescribeConnections answer, decodes it
 * again and prints what came back, so a newcomer can see the codec work
 * before any broker runs. Exits non-zero if the round trip differs. */
#include "kcp_messages.h"

#include <stdio.h>
#include <stdlib.h>

static void sample_connection(kcp_describe_connections_response_connection *c, const char *id,
                              const char *principal, const char *mech, uint16_t port)
{
    kcp_describe_connections_response_connection_init(c);
    c->connection_id = kcp_str_c(id);
    c->state = 1;
    c->listener_name = kcp_str_c("SASL_PLAINTEXT");
    c->security_protocol = 2;
    c->principal = kcp_str_c(principal);
    c->sasl_mechanism = kcp_str_c(mech);
    c->client_host = kcp_str_c("127.0.0.1");
    c->client_port = port;
    c->local_host = kcp_str_c("127.0.0.1");
    c->local_port = 9092;
    c->client_id = kcp_str_c("rdkafka");
    c->client_software_name = kcp_str_c("librdkafka");
    c->client_software_version = kcp_str_c("2.0.2");
    c->connected_at_ms = 1764400000000;
    c->authenticated_at_ms = 1764400000012;
    c->last_activity_at_ms = 1764400001000;
    c->requests = 4;
    c->bytes_in = 420;
    c->bytes_out = 1337;
}

int main(void)
{
    kcp_describe_connections_response_connection conns[2];
    sample_connection(&conns[0], "127.0.0.1:9092-127.0.0.1:50001-0-1", "User:alice", "SCRAM-SHA-256", 50001);
    sample_connection(&conns[1], "127.0.0.1:9092-127.0.0.1:50002-1-2", "User:bob", "PLAIN", 50002);

    kcp_describe_connections_response resp;
    kcp_describe_connections_response_init(&resp);
    resp.broker_time_ms = 1764400005000;
    resp.total_count = 2;
    resp.connections.n = 2;
    resp.connections.v = conns;

    char err[256];
    if (kcp_describe_connections_response_validate(&resp, 0, err, sizeof err)) {
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
    printf("DescribeConnectionsResponse v0: %zu bytes for %d connections\n", len, (int)resp.connections.n);

    kcp_reader r;
    kcp_reader_init(&r, buf, len);
    kcp_describe_connections_response back;
    int rc = kcp_describe_connections_response_decode(&r, &back, 0);
    if (rc || r.pos != len) {
        fprintf(stderr, "kcp-selfcheck: decode failed: %s\n", r.errstr);
        return 1;
    }
    printf("%-40s %-12s %-14s %-16s %s\n", "CONNECTION", "PRINCIPAL", "MECHANISM", "CLIENT", "SOFTWARE");
    for (int32_t i = 0; i < back.connections.n; i++) {
        const kcp_describe_connections_response_connection *c = &back.connections.v[i];
        printf("%-40.*s %-12.*s %-14.*s %.*s:%-6u %.*s/%.*s\n", c->connection_id.len, c->connection_id.ptr,
               c->principal.len, c->principal.ptr, c->sasl_mechanism.len, c->sasl_mechanism.ptr,
               c->client_host.len, c->client_host.ptr, c->client_port, c->client_software_name.len,
               c->client_software_name.ptr, c->client_software_version.len, c->client_software_version.ptr);
        if (!kcp_str_eq(c->principal, conns[i].principal) || c->bytes_out != conns[i].bytes_out) {
            fprintf(stderr, "kcp-selfcheck: connection %d differs after the round trip\n", (int)i);
            return 1;
        }
    }
    printf("round trip ok\n");
    kcp_describe_connections_response_free(&back);
    free(buf);
    return 0;
}
