/*
 * Golden vectors: each hand-written fixture in vectors/ is decoded with the
 * generated codec, its field values are checked, and re-encoding it must give
 * back exactly the fixture's bytes. The fixtures come from the protocol
 * definitions, not from our encoder, so a wrong field order, length form or
 * tag layout fails here even if our encoder and decoder agree with each other.
 *
 * Usage: test_golden VECTORS_DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "golden_fixture.h"
#include "kcp_connections.h"
#include "kcp_header.h"
#include "kcp_messages.h"

static const char *vectors_dir;

typedef struct fixture {
    uint8_t *buf;
    size_t len;
} fixture;

static fixture load(const char *name)
{
    fixture f;
    char err[512];
    if (golden_load(vectors_dir, name, &f.buf, &f.len, err, sizeof err))
        fail_msg("%s", err);
    return f;
}

/* Fails naming the first differing byte, which points straight at the field. */
static void assert_same_bytes(const char *name, const uint8_t *got, size_t got_len,
                              const fixture *want)
{
    size_t n = got_len < want->len ? got_len : want->len;
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want->buf[i])
            fail_msg("%s: re-encoded byte %zu is %02x, fixture has %02x", name, i, got[i],
                     want->buf[i]);
    }
    if (got_len != want->len)
        fail_msg("%s: re-encoded %zu bytes, fixture has %zu", name, got_len, want->len);
}

static void assert_str_is(kcp_str s, const char *want)
{
    if (!kcp_str_eq(s, kcp_str_c(want))) {
        if (s.len < 0)
            fail_msg("got null, want \"%s\"", want ? want : "(null)");
        fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, s.ptr, want ? want : "(null)");
    }
}

static const kcp_message_desc *find_message(const char *name)
{
    for (size_t i = 0; i < kcp_messages_count; i++) {
        if (strcmp(kcp_messages[i].name, name) == 0)
            return &kcp_messages[i];
    }
    fail_msg("no generated codec for %s", name);
    return NULL;
}

typedef void (*check_fn)(const void *decoded);

/* Decodes fixture `name` as `message` at `version`, checks every byte was
 * used, runs check, then encodes the result and compares with the fixture. */
static void golden_message(const char *name, const char *message, int16_t version,
                           check_fn check)
{
    const kcp_message_desc *d = find_message(message);
    fixture f = load(name);
    void *m = malloc(d->struct_size);
    assert_non_null(m);

    kcp_reader r;
    kcp_reader_init(&r, f.buf, f.len);
    if (d->decode(&r, m, version))
        fail_msg("%s: %s", name, r.errstr);
    if (r.pos != f.len)
        fail_msg("%s: decoding stopped at byte %zu of %zu", name, r.pos, f.len);
    check(m);

    size_t size = d->size(m, version);
    uint8_t *out = malloc(size ? size : 1);
    assert_non_null(out);
    kcp_writer w;
    kcp_writer_init(&w, out, size);
    assert_int_equal(d->encode(&w, m, version), KCP_OK);
    assert_int_equal(w.pos, size);
    assert_same_bytes(name, out, size, &f);

    free(out);
    d->free(m);
    free(m);
    free(f.buf);
}

/* ---- ApiVersions (key 18) ---------------------------------------------- */

typedef struct api_range {
    int16_t key, min, max;
} api_range;

/* The five APIs that the broker fixtures advertise. */
static const api_range broker_apis[] = {
    {3, 0, 12}, {17, 0, 1}, {18, 0, 4}, {36, 0, 2}, {1000, 0, 0},
};

static void assert_api_keys(const kcp_api_versions_response *m, const api_range *want,
                            int32_t n)
{
    assert_int_equal(m->api_keys.n, n);
    for (int32_t i = 0; i < n; i++) {
        assert_int_equal(m->api_keys.v[i].api_key, want[i].key);
        assert_int_equal(m->api_keys.v[i].min_version, want[i].min);
        assert_int_equal(m->api_keys.v[i].max_version, want[i].max);
        assert_int_equal(m->api_keys.v[i].unknown_tags.n, 0);
    }
}

static void check_api_versions_v0_request(const void *p)
{
    const kcp_api_versions_request *m = p;
    /* v0 has no body: the v3 fields keep their default, the empty string. */
    assert_str_is(m->client_software_name, "");
    assert_str_is(m->client_software_version, "");
}

static void check_api_versions_v0_response(const void *p)
{
    const kcp_api_versions_response *m = p;
    assert_int_equal(m->error_code, 0);
    assert_api_keys(m, broker_apis, 5);
}

static void check_api_versions_unsupported(const void *p)
{
    const kcp_api_versions_response *m = p;
    static const api_range own[] = {{18, 0, 4}};
    assert_int_equal(m->error_code, 35); /* UNSUPPORTED_VERSION */
    assert_api_keys(m, own, 1);
}

static void check_api_versions_v3_request(const void *p)
{
    const kcp_api_versions_request *m = p;
    assert_str_is(m->client_software_name, "kafka-connections");
    assert_str_is(m->client_software_version, "0.1.0");
    assert_int_equal(m->unknown_tags.n, 0);
}

static void check_api_versions_v3_response(const void *p)
{
    const kcp_api_versions_response *m = p;
    assert_int_equal(m->error_code, 0);
    assert_api_keys(m, broker_apis, 5);
    assert_int_equal(m->throttle_time_ms, 100);
    assert_int_equal(m->supported_features.n, 1);
    assert_str_is(m->supported_features.v[0].name, "metadata.version");
    assert_int_equal(m->supported_features.v[0].min_version, 1);
    assert_int_equal(m->supported_features.v[0].max_version, 14);
    assert_int_equal(m->finalized_features_epoch, 42);
    assert_int_equal(m->finalized_features.n, 1);
    assert_str_is(m->finalized_features.v[0].name, "metadata.version");
    assert_int_equal(m->finalized_features.v[0].max_version_level, 14);
    assert_int_equal(m->finalized_features.v[0].min_version_level, 1);
    assert_false(m->zk_migration_ready);
    assert_int_equal(m->unknown_tags.n, 0);
}

static void api_versions_v0_request_matches_fixture(void **state)
{
    (void)state;
    golden_message("api_versions_v0_request.hex", "ApiVersionsRequest", 0,
                   check_api_versions_v0_request);
}

static void api_versions_v0_response_matches_fixture(void **state)
{
    (void)state;
    golden_message("api_versions_v0_response.hex", "ApiVersionsResponse", 0,
                   check_api_versions_v0_response);
}

static void api_versions_unsupported_version_answer_matches_fixture(void **state)
{
    (void)state;
    golden_message("api_versions_v0_response_unsupported.hex", "ApiVersionsResponse", 0,
                   check_api_versions_unsupported);
}

static void api_versions_v3_request_matches_fixture(void **state)
{
    (void)state;
    golden_message("api_versions_v3_request.hex", "ApiVersionsRequest", 3,
                   check_api_versions_v3_request);
}

static void api_versions_v3_response_matches_fixture(void **state)
{
    (void)state;
    golden_message("api_versions_v3_response.hex", "ApiVersionsResponse", 3,
                   check_api_versions_v3_response);
}

/* ---- Metadata (key 3) -------------------------------------------------- */

typedef struct broker_want {
    int32_t node_id;
    int32_t port;
    const char *rack; /* NULL for a null rack */
} broker_want;

/* Every broker fixture lists hosts on loopback. */
static void assert_brokers(const kcp_metadata_response *m, const broker_want *want, int32_t n)
{
    assert_int_equal(m->brokers.n, n);
    for (int32_t i = 0; i < n; i++) {
        const kcp_metadata_response_metadata_response_broker *b = &m->brokers.v[i];
        assert_int_equal(b->node_id, want[i].node_id);
        assert_str_is(b->host, "127.0.0.1");
        assert_int_equal(b->port, want[i].port);
        assert_str_is(b->rack, want[i].rack);
        assert_int_equal(b->unknown_tags.n, 0);
    }
}

static const broker_want three_brokers[] = {
    {1, 9092, "rack-a"}, {2, 9093, NULL}, {3, 9094, "rack-b"},
};

static void check_metadata_request(const void *p, int16_t version)
{
    const kcp_metadata_request *m = p;
    assert_int_equal(m->topics.n, 1);
    assert_str_is(m->topics.v[0].name, "orders");
    static const kcp_uuid zero;
    assert_memory_equal(m->topics.v[0].topic_id.b, zero.b, sizeof zero.b);
    /* v1 has no AllowAutoTopicCreation: the default (true) stands. */
    assert_int_equal(m->allow_auto_topic_creation, version < 4);
    assert_false(m->include_topic_authorized_operations);
}

static void check_metadata_v1_request(const void *p)
{
    check_metadata_request(p, 1);
}

static void check_metadata_v12_request(const void *p)
{
    check_metadata_request(p, 12);
}

static void check_metadata_v1_response(const void *p)
{
    const kcp_metadata_response *m = p;
    assert_brokers(m, three_brokers, 3);
    assert_int_equal(m->controller_id, 2);
    assert_int_equal(m->topics.n, 0);
}

static void check_metadata_v1_response_topic(const void *p)
{
    const kcp_metadata_response *m = p;
    static const broker_want two[] = {{1, 9092, NULL}, {2, 9093, NULL}};
    assert_brokers(m, two, 2);
    assert_int_equal(m->controller_id, 1);
    assert_int_equal(m->topics.n, 1);

    const kcp_metadata_response_metadata_response_topic *t = &m->topics.v[0];
    assert_int_equal(t->error_code, 0);
    assert_str_is(t->name, "orders");
    assert_false(t->is_internal);
    assert_int_equal(t->partitions.n, 1);

    const kcp_metadata_response_metadata_response_partition *part = &t->partitions.v[0];
    assert_int_equal(part->error_code, 0);
    assert_int_equal(part->partition_index, 0);
    assert_int_equal(part->leader_id, 1);
    assert_int_equal(part->replica_nodes.n, 2);
    assert_int_equal(part->replica_nodes.v[0], 1);
    assert_int_equal(part->replica_nodes.v[1], 2);
    assert_int_equal(part->isr_nodes.n, 1);
    assert_int_equal(part->isr_nodes.v[0], 1);
}

static void check_metadata_v12_response(const void *p)
{
    const kcp_metadata_response *m = p;
    assert_int_equal(m->throttle_time_ms, 0);
    assert_brokers(m, three_brokers, 3);
    assert_str_is(m->cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
    assert_int_equal(m->controller_id, 2);
    assert_int_equal(m->topics.n, 0);
    assert_int_equal(m->unknown_tags.n, 0);
}

static void metadata_v1_request_matches_fixture(void **state)
{
    (void)state;
    golden_message("metadata_v1_request.hex", "MetadataRequest", 1, check_metadata_v1_request);
}

static void metadata_v12_request_matches_fixture(void **state)
{
    (void)state;
    golden_message("metadata_v12_request.hex", "MetadataRequest", 12,
                   check_metadata_v12_request);
}

static void metadata_v1_response_matches_fixture(void **state)
{
    (void)state;
    golden_message("metadata_v1_response.hex", "MetadataResponse", 1,
                   check_metadata_v1_response);
}

static void metadata_v1_response_with_topic_matches_fixture(void **state)
{
    (void)state;
    golden_message("metadata_v1_response_topic.hex", "MetadataResponse", 1,
                   check_metadata_v1_response_topic);
}

static void metadata_v12_response_matches_fixture(void **state)
{
    (void)state;
    golden_message("metadata_v12_response.hex", "MetadataResponse", 12,
                   check_metadata_v12_response);
}

/* ---- SaslHandshake (key 17) -------------------------------------------- */

static void assert_mechanisms(const kcp_sasl_handshake_response *m)
{
    assert_int_equal(m->mechanisms.n, 2);
    assert_str_is(m->mechanisms.v[0], "PLAIN");
    assert_str_is(m->mechanisms.v[1], "SCRAM-SHA-256");
}

static void check_sasl_handshake_v0_request(const void *p)
{
    assert_str_is(((const kcp_sasl_handshake_request *)p)->mechanism, "PLAIN");
}

static void check_sasl_handshake_v1_request(const void *p)
{
    assert_str_is(((const kcp_sasl_handshake_request *)p)->mechanism, "SCRAM-SHA-512");
}

static void check_sasl_handshake_v0_response(const void *p)
{
    const kcp_sasl_handshake_response *m = p;
    assert_int_equal(m->error_code, 0);
    assert_mechanisms(m);
}

static void check_sasl_handshake_v1_response(const void *p)
{
    const kcp_sasl_handshake_response *m = p;
    assert_int_equal(m->error_code, 33); /* UNSUPPORTED_SASL_MECHANISM */
    assert_mechanisms(m);
}

static void sasl_handshake_v0_request_matches_fixture(void **state)
{
    (void)state;
    golden_message("sasl_handshake_v0_request.hex", "SaslHandshakeRequest", 0,
                   check_sasl_handshake_v0_request);
}

static void sasl_handshake_v0_response_matches_fixture(void **state)
{
    (void)state;
    golden_message("sasl_handshake_v0_response.hex", "SaslHandshakeResponse", 0,
                   check_sasl_handshake_v0_response);
}

static void sasl_handshake_v1_request_matches_fixture(void **state)
{
    (void)state;
    golden_message("sasl_handshake_v1_request.hex", "SaslHandshakeRequest", 1,
                   check_sasl_handshake_v1_request);
}

static void sasl_handshake_v1_response_matches_fixture(void **state)
{
    (void)state;
    golden_message("sasl_handshake_v1_response.hex", "SaslHandshakeResponse", 1,
                   check_sasl_handshake_v1_response);
}

/* ---- DescribeConnections (key 1000) ------------------------------------ */

static void assert_one_str(int32_t n, const kcp_str *v, const char *want)
{
    assert_int_equal(n, 1);
    assert_str_is(v[0], want);
}

static void check_describe_connections_request(const void *p)
{
    const kcp_describe_connections_request *m = p;
    assert_one_str(m->principals.n, m->principals.v, "User:alice");
    assert_int_equal(m->listeners.n, -1);
    assert_one_str(m->client_addresses.n, m->client_addresses.v, "127.0.0.0/8");
    assert_one_str(m->client_software.n, m->client_software.v, "librdkafka/2.0.2");
    assert_int_equal(m->client_ids.n, -1);
    assert_int_equal(m->states.n, 2);
    assert_int_equal(m->states.v[0], 1);
    assert_int_equal(m->states.v[1], 2);
    assert_int_equal(m->min_idle_ms, 60000);
    assert_true(m->include_closed);
    assert_false(m->summary_only);
    assert_int_equal(m->limit, 100);
    static const uint8_t cursor[] = {0xde, 0xad, 0xbe, 0xef};
    assert_int_equal(m->cursor.len, sizeof cursor);
    assert_memory_equal(m->cursor.ptr, cursor, sizeof cursor);
    assert_int_equal(m->unknown_tags.n, 0);
}

/* Fails unless the row's index field names the entry want of m's Strings
 * (NULL: the field is -1). */
#define assert_row_str(m, c, field, want) assert_index_is((m), (c)->field, #field, (want))

static void assert_index_is(const kcp_describe_connections_response *m, int32_t index,
                            const char *field, const char *want)
{
    if (want && (index < 0 || index >= m->strings.n))
        fail_msg("%s is %d, not an index of the %d Strings", field, (int)index, (int)m->strings.n);
    if (!want && index != -1)
        fail_msg("%s is %d, want -1", field, (int)index);
    kcp_str got = kcp_connections_str(m, index);
    if (want && !kcp_str_eq(got, kcp_str_c(want)))
        fail_msg("%s is %d, Strings[%d] is \"%.*s\", want \"%s\"", field, (int)index, (int)index,
                 (int)got.len, got.ptr, want);
}

static void check_plaintext_connection(const kcp_describe_connections_response *m,
                                       const kcp_describe_connections_response_connection *c)
{
    assert_str_is(c->connection_id, "127.0.0.1:9092-127.0.0.1:50000-0-1");
    assert_int_equal(c->state, 1);
    assert_row_str(m, c, listener_name_index, "PLAINTEXT");
    assert_int_equal(c->security_protocol, 0);
    assert_row_str(m, c, principal_index, "User:ANONYMOUS");
    assert_row_str(m, c, sasl_mechanism_index, NULL);
    assert_str_is(c->client_host, "127.0.0.1");
    assert_int_equal(c->client_port, 50000);
    assert_row_str(m, c, local_host_index, "127.0.0.1");
    assert_int_equal(c->local_port, 9092);
    assert_row_str(m, c, client_id_index, "rdkafka");
    assert_row_str(m, c, client_software_name_index, "librdkafka");
    assert_row_str(m, c, client_software_version_index, "2.0.2");
    assert_int_equal(c->connected_at_ms, 1699999990000LL);
    assert_int_equal(c->authenticated_at_ms, -1);
    assert_int_equal(c->last_activity_at_ms, 1699999999000LL);
    assert_int_equal(c->requests, 12);
    assert_int_equal(c->bytes_in, 1500);
    assert_int_equal(c->bytes_out, 32000);
    /* No tagged field on the wire: every one keeps its default. */
    assert_row_str(m, c, close_reason_index, NULL);
    assert_int_equal(c->closed_at_ms, -1);
    assert_int_equal(c->session_expires_at_ms, -1);
    assert_row_str(m, c, tls_protocol_index, NULL);
    assert_row_str(m, c, tls_cipher_index, NULL);
    assert_row_str(m, c, peer_certificate_subject_index, NULL);
    assert_row_str(m, c, peer_certificate_issuer_index, NULL);
    assert_row_str(m, c, peer_certificate_serial_index, NULL);
    assert_int_equal(c->unknown_tags.n, 0);
}

static void check_tls_connection(const kcp_describe_connections_response *m,
                                 const kcp_describe_connections_response_connection *c)
{
    assert_str_is(c->connection_id, "127.0.0.1:9093-127.0.0.1:50001-1-2");
    assert_int_equal(c->state, 1);
    assert_row_str(m, c, listener_name_index, "SASL_SSL");
    assert_int_equal(c->security_protocol, 3);
    assert_row_str(m, c, principal_index, "User:alice");
    assert_row_str(m, c, sasl_mechanism_index, "SCRAM-SHA-256");
    assert_str_is(c->client_host, "127.0.0.1");
    assert_int_equal(c->client_port, 50001);
    assert_row_str(m, c, local_host_index, "127.0.0.1");
    assert_int_equal(c->local_port, 9093);
    assert_row_str(m, c, client_id_index, NULL);
    assert_row_str(m, c, client_software_name_index, "kafka-connections");
    assert_row_str(m, c, client_software_version_index, "0.1.0");
    assert_int_equal(c->connected_at_ms, 1699999900000LL);
    assert_int_equal(c->authenticated_at_ms, 1699999900250LL);
    assert_int_equal(c->last_activity_at_ms, 1699999999500LL);
    assert_int_equal(c->requests, 3);
    assert_int_equal(c->bytes_in, 420);
    assert_int_equal(c->bytes_out, 2048);
    assert_int_equal(c->session_expires_at_ms, 1700003500000LL);
    assert_row_str(m, c, tls_protocol_index, "TLSv1.3");
    assert_row_str(m, c, tls_cipher_index, "TLS_AES_256_GCM_SHA384");
    assert_row_str(m, c, close_reason_index, NULL);
    assert_int_equal(c->closed_at_ms, -1);
    assert_row_str(m, c, peer_certificate_subject_index,
                   "CN=alice-laptop.clients.kafka-connections.example,OU=Platform Engineering,"
                   "O=Example Corporation,L=San Francisco,ST=California,C=US");
    assert_row_str(m, c, peer_certificate_issuer_index,
                   "CN=Example Clients CA,O=Example Corporation,C=US");
    assert_row_str(m, c, peer_certificate_serial_index, "4f1c0a9e");
    assert_int_equal(c->unknown_tags.n, 0);
}

static void check_describe_connections_response(const void *p)
{
    const kcp_describe_connections_response *m = p;
    assert_int_equal(m->throttle_time_ms, 0);
    assert_int_equal(m->error_code, 0);
    assert_str_is(m->error_message, NULL);
    assert_false(m->restricted);
    assert_int_equal(m->broker_time_ms, 1700000000000LL);
    assert_int_equal(m->total_count, 2);
    assert_int_equal(m->next_cursor.len, -1);
    assert_int_equal(m->summaries.n, 0);
    assert_int_equal(m->connections.n, 2);
    /* Each distinct string once: the rows share "127.0.0.1". */
    assert_int_equal(m->strings.n, 16);
    char err[256] = "";
    if (kcp_connections_check(m, err, sizeof err))
        fail_msg("kcp_connections_check refuses the fixture: %s", err);
    check_plaintext_connection(m, &m->connections.v[0]);
    check_tls_connection(m, &m->connections.v[1]);
    assert_int_equal(m->connections.v[0].local_host_index, m->connections.v[1].local_host_index);
    assert_int_equal(m->unknown_tags.n, 0);
}

static void describe_connections_v0_request_matches_fixture(void **state)
{
    (void)state;
    golden_message("describe_connections_v0_request.hex", "DescribeConnectionsRequest", 0,
                   check_describe_connections_request);
}

static void describe_connections_v0_response_matches_fixture(void **state)
{
    (void)state;
    golden_message("describe_connections_v0_response.hex", "DescribeConnectionsResponse", 0,
                   check_describe_connections_response);
}

/* ---- Headers ------------------------------------------------------------ */

static void request_header_matches_fixture(const char *name, kcp_api_id api,
                                           int16_t api_version, int16_t want_header_version,
                                           int32_t correlation_id, const char *client_id)
{
    int16_t hv = kcp_api_request_header_version(api, api_version);
    assert_int_equal(hv, want_header_version);

    fixture f = load(name);
    kcp_arena arena = {0};
    kcp_request_header h;
    kcp_reader r;
    kcp_reader_init(&r, f.buf, f.len);
    if (kcp_request_header_decode(&r, hv, &arena, &h))
        fail_msg("%s: %s", name, r.errstr);
    assert_int_equal(r.pos, f.len);
    assert_int_equal(h.api_key, kcp_api_info_get(api)->api_key);
    assert_int_equal(h.api_version, api_version);
    assert_int_equal(h.correlation_id, correlation_id);
    assert_str_is(h.client_id, client_id);
    assert_int_equal(h.tags.n, 0);

    size_t size = kcp_request_header_size(&h, hv);
    uint8_t *out = malloc(size);
    assert_non_null(out);
    kcp_writer w;
    kcp_writer_init(&w, out, size);
    kcp_request_header_encode(&w, &h, hv);
    assert_int_equal(w.err, KCP_OK);
    assert_same_bytes(name, out, w.pos, &f);
    free(out);
    kcp_arena_free(&arena);
    free(f.buf);
}

static void request_header_v1_matches_fixture(void **state)
{
    (void)state;
    request_header_matches_fixture("request_header_v1_metadata_v1.hex", KCP_API_METADATA, 1, 1,
                                   8, "kafka-python");
}

static void request_header_v2_keeps_classic_client_id(void **state)
{
    (void)state;
    request_header_matches_fixture("request_header_v2_api_versions_v3.hex",
                                   KCP_API_API_VERSIONS, 3, 2, 7, "kafka-connections");
}

static void response_header_v1_matches_fixture(void **state)
{
    (void)state;
    int16_t hv = kcp_api_response_header_version(KCP_API_METADATA, 12);
    assert_int_equal(hv, 1);

    fixture f = load("response_header_v1.hex");
    kcp_arena arena = {0};
    kcp_response_header h;
    kcp_reader r;
    kcp_reader_init(&r, f.buf, f.len);
    if (kcp_response_header_decode(&r, hv, &arena, &h))
        fail_msg("%s", r.errstr);
    assert_int_equal(r.pos, f.len);
    assert_int_equal(h.correlation_id, 9);
    assert_int_equal(h.tags.n, 0);

    uint8_t out[16];
    kcp_writer w;
    kcp_writer_init(&w, out, sizeof out);
    kcp_response_header_encode(&w, &h, hv);
    assert_int_equal(w.err, KCP_OK);
    assert_same_bytes("response_header_v1.hex", out, w.pos, &f);
    kcp_arena_free(&arena);
    free(f.buf);
}

static void api_versions_answers_always_use_response_header_v0(void **state)
{
    (void)state;
    /* KIP-511: a client must read the answer before it knows whether the
     * broker took its flexible version, so the header never grows. */
    for (int16_t v = KCP_API_VERSIONS_RESPONSE_MIN_VERSION;
         v <= KCP_API_VERSIONS_RESPONSE_MAX_VERSION; v++)
        assert_int_equal(kcp_api_response_header_version(KCP_API_API_VERSIONS, v), 0);
}

/* ---- The vector reader itself ------------------------------------------ */

static void hex_reader_rejects_a_split_byte(void **state)
{
    (void)state;
    static const char good[] = "0a 1B # comment 0z\n\tff";
    static const char split[] = "0a 1 b";
    uint8_t *out;
    size_t len;
    char err[128];
    assert_int_equal(support_hex_parse(good, strlen(good), &out, &len, err, sizeof err), 0);
    assert_int_equal(len, 3);
    assert_int_equal(out[0], 0x0a);
    assert_int_equal(out[1], 0x1b);
    assert_int_equal(out[2], 0xff);
    free(out);
    assert_int_equal(support_hex_parse(split, strlen(split), &out, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
        return 2;
    }
    vectors_dir = argv[1];

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_reader_rejects_a_split_byte),
        cmocka_unit_test(api_versions_v0_request_matches_fixture),
        cmocka_unit_test(api_versions_v0_response_matches_fixture),
        cmocka_unit_test(api_versions_unsupported_version_answer_matches_fixture),
        cmocka_unit_test(api_versions_v3_request_matches_fixture),
        cmocka_unit_test(api_versions_v3_response_matches_fixture),
        cmocka_unit_test(metadata_v1_request_matches_fixture),
        cmocka_unit_test(metadata_v12_request_matches_fixture),
        cmocka_unit_test(metadata_v1_response_matches_fixture),
        cmocka_unit_test(metadata_v1_response_with_topic_matches_fixture),
        cmocka_unit_test(metadata_v12_response_matches_fixture),
        cmocka_unit_test(sasl_handshake_v0_request_matches_fixture),
        cmocka_unit_test(sasl_handshake_v0_response_matches_fixture),
        cmocka_unit_test(sasl_handshake_v1_request_matches_fixture),
        cmocka_unit_test(sasl_handshake_v1_response_matches_fixture),
        cmocka_unit_test(describe_connections_v0_request_matches_fixture),
        cmocka_unit_test(describe_connections_v0_response_matches_fixture),
        cmocka_unit_test(request_header_v1_matches_fixture),
        cmocka_unit_test(request_header_v2_keeps_classic_client_id),
        cmocka_unit_test(response_header_v1_matches_fixture),
        cmocka_unit_test(api_versions_answers_always_use_response_header_v0),
    };
    return cmocka_run_group_tests_name("golden", tests, NULL, NULL);
}
