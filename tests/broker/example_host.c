/* The smallest host of the broker plugin, shown in docs/embedding.md: one
 * network thread, one connection, one DescribeConnections request. */
#include <kcb.h>

#include <stdio.h>
#include <stdlib.h>

static int64_t clock_ms(void *opaque)
{
    (void)opaque;
    return 1764400000000; /* a real host returns its event loop's time */
}

int main(void)
{
    kcb_host host = {.abi_version = KCB_ABI_VERSION, .struct_size = sizeof host, .now_ms = clock_ms};
    kcb_config cfg = {.struct_size = sizeof cfg, .shards = 1, .super_users = "User:admin"};
    char err[256];
    kcb_registry *reg = kcb_registry_new(&host, &cfg, err, sizeof err);
    if (!reg) {
        fprintf(stderr, "kcb_registry_new: %s\n", err);
        return 1;
    }
    /* The acceptor reports the connection; the SASL code, who it is. */
    kcb_accept_info info = {.struct_size = sizeof info, .shard = 0, .listener_name = "SASL_PLAINTEXT",
                            .security_protocol = KCB_SASL_PLAINTEXT, .local_host = "127.0.0.1",
                            .local_port = 9092, .peer_host = "10.0.0.7", .peer_port = 51000,
                            .now_ms = clock_ms(NULL)};
    kcb_conn *c = kcb_conn_accepted(reg, &info, err, sizeof err);
    if (!c) {
        fprintf(stderr, "kcb_conn_accepted: %s\n", err);
        return 1;
    }
    kcb_conn_client_software(c, "librdkafka", "2.0.2");
    kcb_conn_authenticated(c, "User:admin", "SCRAM-SHA-256", 0, clock_ms(NULL));
    kcb_conn_request(c, KCB_DESCRIBE_CONNECTIONS_KEY, "ops-console", 11, 48, clock_ms(NULL));

    /* A DescribeConnections v0 body with no filters, as read off the wire
     * after the request header (v2). */
    static const uint8_t body[] = {0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
    uint8_t *answer;
    size_t len;
    if (kcb_describe(reg, c, 0, body, sizeof body, &answer, &len, err, sizeof err)) {
        fprintf(stderr, "kcb_describe: %s (close the connection)\n", err);
        return 1;
    }
    printf("kafka-connections broker plugin %s: %zu-byte answer for %s\n", kcb_version_str(), len,
           kcb_conn_id(c));
    free(answer); /* a real host frames it after a response header v1 and sends it */
    kcb_conn_response(c, (uint32_t)len + 9, clock_ms(NULL));
    kcb_conn_closed(c, KCB_CLOSE_CLIENT, clock_ms(NULL));
    kcb_registry_free(reg);
    return 0;
}
