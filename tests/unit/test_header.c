/*
 * Request and response headers (protocol/kcp_header.h) and the header
 * version each API version uses (generated kcp_messages.h).
 *
 * The expected header versions come from a table written here from Apache
 * Kafka's specs (first flexible version of each API), not from the generated
 * table, so a wrong flexibleVersions in protocol/messages/ shows up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcp_header.h"
#include "kcp_messages.h"
#include "unit_util.h"

/* ------------------------------------------------------------ round trips */

/* Encodes h at version, checks size and bytes, decodes it back. */
static void check_request_header(const kcp_request_header *h, int16_t version, const char *hex)
{
    uint8_t buf[64];
    kcp_writer w;
    kcp_writer_init(&w, buf, sizeof buf);
    kcp_request_header_encode(&w, h, version);
    assert_int_equal(w.err, KCP_OK);
    unit_assert_bytes(buf, w.pos, hex);
    assert_int_equal(kcp_request_header_size(h, version), w.pos);

    kcp_reader r;
    kcp_arena a = {0};
    kcp_request_header got;
    kcp_reader_init(&r, buf, w.pos);
    if (kcp_request_header_decode(&r, version, &a, &got))
        fail_msg("%s", r.errstr);
    assert_int_equal(r.pos, w.pos);
    assert_int_equal(got.api_key, h->api_key);
    assert_int_equal(got.api_version, h->api_version);
    assert_int_equal(got.correlation_id, h->correlation_id);
    if (version >= 1)
        assert_true(kcp_str_eq(got.client_id, h->client_id));
    else
        assert_int_equal(got.client_id.len, -1);
    assert_int_equal(got.tags.n, version >= 2 ? h->tags.n : 0);
    for (uint32_t i = 0; i < got.tags.n; i++) {
        assert_int_equal(got.tags.v[i].tag, h->tags.v[i].tag);
        assert_true(kcp_bytes_eq(got.tags.v[i].data, h->tags.v[i].data));
    }
    kcp_arena_free(&a);
}

static void check_response_header(const kcp_response_header *h, int16_t version, const char *hex)
{
    uint8_t buf[32];
    kcp_writer w;
    kcp_writer_init(&w, buf, sizeof buf);
    kcp_response_header_encode(&w, h, version);
    assert_int_equal(w.err, KCP_OK);
    unit_assert_bytes(buf, w.pos, hex);
    assert_int_equal(kcp_response_header_size(h, version), w.pos);

    kcp_reader r;
    kcp_arena a = {0};
    kcp_response_header got;
    kcp_reader_init(&r, buf, w.pos);
    if (kcp_response_header_decode(&r, version, &a, &got))
        fail_msg("%s", r.errstr);
    assert_int_equal(r.pos, w.pos);
    assert_int_equal(got.correlation_id, h->correlation_id);
    assert_int_equal(got.tags.n, version >= 1 ? h->tags.n : 0);
    kcp_arena_free(&a);
}

static kcp_request_header request(int16_t key, int16_t version, int32_t corr, const char *client_id)
{
    kcp_request_header h;
    memset(&h, 0, sizeof h);
    h.api_key = key;
    h.api_version = version;
    h.correlation_id = corr;
    h.client_id = kcp_str_c(client_id);
    return h;
}

static void test_request_header_v0_is_key_version_correlation(void **state)
{
    (void)state;
    kcp_request_header h = request(18, 0, 0x01020304, "ignored");
    check_request_header(&h, 0, "00 12 00 00 01 02 03 04");
}

static void test_request_header_v1_adds_classic_client_id(void **state)
{
    (void)state;
    kcp_request_header h = request(3, 8, 7, "kcat");
    check_request_header(&h, 1, "00 03 00 08 00 00 00 07 00 04 6b 63 61 74");
    h.client_id = kcp_str_c("");
    check_request_header(&h, 1, "00 03 00 08 00 00 00 07 00 00");
}

static void test_request_header_v1_null_client_id(void **state)
{
    (void)state;
    kcp_request_header h = request(17, 1, -1, NULL);
    check_request_header(&h, 1, "00 11 00 01 ff ff ff ff ff ff");
}

static void test_request_header_v2_keeps_client_id_classic(void **state)
{
    (void)state;
    /* KIP-482: client_id is an int16-length string even in header v2
     * (00 04 ..., not the compact 05 ...), then an empty tag section. */
    kcp_request_header h = request(60, 0, 42, "kcat");
    check_request_header(&h, 2, "00 3c 00 00 00 00 00 2a 00 04 6b 63 61 74 00");
    h.client_id = KCP_STR_NULL;
    check_request_header(&h, 2, "00 3c 00 00 00 00 00 2a ff ff 00");
}

static void test_request_header_v2_keeps_unknown_tags(void **state)
{
    (void)state;
    static const uint8_t d0[] = {0xaa}, d1[] = {0xbb, 0xcc};
    kcp_raw_tag tags[] = {{0, {d0, 1}}, {200, {d1, 2}}};
    kcp_request_header h = request(1000, 0, 1, "c");
    h.tags.n = 2;
    h.tags.v = tags;
    check_request_header(&h, 2, "03 e8 00 00 00 00 00 01 00 01 63 02 00 01 aa c8 01 02 bb cc");
}

static void test_response_header_v0_and_v1(void **state)
{
    (void)state;
    kcp_response_header h;
    memset(&h, 0, sizeof h);
    h.correlation_id = 0x0a0b0c0d;
    check_response_header(&h, 0, "0a 0b 0c 0d");
    check_response_header(&h, 1, "0a 0b 0c 0d 00");

    static const uint8_t d[] = {0x01};
    kcp_raw_tag tags[] = {{3, {d, 1}}};
    h.tags.n = 1;
    h.tags.v = tags;
    check_response_header(&h, 1, "0a 0b 0c 0d 01 03 01 01");
    /* v0 has no tag section, whatever the struct holds. */
    check_response_header(&h, 0, "0a 0b 0c 0d");
}

/* -------------------------------------------------------------- bad input */

static void expect_request_error(const char *hex, int16_t version, int err, const char *field,
                                 size_t offset)
{
    unit_input in;
    kcp_arena a = {0};
    kcp_request_header h;
    unit_input_hex(&in, hex);
    unit_assert_read_error(&in.r, kcp_request_header_decode(&in.r, version, &a, &h), err, field,
                           offset);
    kcp_arena_free(&a);
    unit_input_free(&in);
}

static void test_bad_request_headers_are_refused(void **state)
{
    (void)state;
    expect_request_error("00 12 00", 0, KCP_ERR_TRUNCATED, "RequestApiVersion", 2);
    expect_request_error("00 12 00 03 00 00 00", 1, KCP_ERR_TRUNCATED, "CorrelationId", 4);
    expect_request_error("00 12 00 03 00 00 00 01 00 05 61", 1, KCP_ERR_LENGTH, "ClientId", 10);
    expect_request_error("00 12 00 03 00 00 00 01 00 01 c0", 1, KCP_ERR_UTF8, "ClientId", 10);
    expect_request_error("00 12 00 03 00 00 00 01 ff fe", 1, KCP_ERR_LENGTH, "ClientId", 10);
    expect_request_error("00 12 00 03 00 00 00 01 ff ff", 2, KCP_ERR_TRUNCATED,
                         "RequestHeader._tagged_fields", 10);
    expect_request_error("00 12 00 03 00 00 00 01 ff ff 02 05 00 01 00", 2, KCP_ERR_TAGS,
                         "RequestHeader._tagged_fields", 15);
    expect_request_error("00 12 00 03 00 00 00 01", 3, KCP_ERR_VERSION, "RequestHeader", 0);
    expect_request_error("00 12 00 03 00 00 00 01", -1, KCP_ERR_VERSION, "RequestHeader", 0);
}

static void test_bad_response_headers_are_refused(void **state)
{
    (void)state;
    static const uint8_t buf[] = {0, 0, 0, 1, 0x01, 0x05, 0x03, 0xaa};
    kcp_reader r;
    kcp_arena a = {0};
    kcp_response_header h;

    kcp_reader_init(&r, buf, 3);
    unit_assert_read_error(&r, kcp_response_header_decode(&r, 0, &a, &h), KCP_ERR_TRUNCATED,
                           "CorrelationId", 0);
    kcp_reader_init(&r, buf, sizeof buf);
    unit_assert_read_error(&r, kcp_response_header_decode(&r, 1, &a, &h), KCP_ERR_LENGTH,
                           "ResponseHeader._tagged_fields", 7);
    kcp_reader_init(&r, buf, sizeof buf);
    unit_assert_read_error(&r, kcp_response_header_decode(&r, 2, &a, &h), KCP_ERR_VERSION,
                           "ResponseHeader", 0);
    kcp_arena_free(&a);
}

static void test_peek_reads_the_first_three_fields_of_any_header(void **state)
{
    (void)state;
    uint8_t buf[] = {0x00, 0x3c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0x00};
    int16_t key = 0, version = 0;
    int32_t corr = 0;
    assert_int_equal(kcp_request_header_peek(buf, sizeof buf, &key, &version, &corr), KCP_OK);
    assert_int_equal(key, 60);
    assert_int_equal(version, 1);
    assert_int_equal(corr, 256);
    assert_int_equal(kcp_request_header_peek(buf, 8, &key, &version, &corr), KCP_OK);
    for (size_t len = 0; len < 8; len++)
        assert_int_equal(kcp_request_header_peek(buf, len, &key, &version, &corr),
                         KCP_ERR_TRUNCATED);
}

/* ------------------------------------------------- header version per API */

/* From Apache Kafka's message specs: the first flexible version of each API
 * (-1 = never flexible) and the version range this project declares. */
static const struct {
    int16_t api_key;
    const char *name;
    int16_t min, max;
    int16_t first_flexible;
} expected_apis[] = {
    {3, "Metadata", 0, 12, 9},
    {17, "SaslHandshake", 0, 1, -1},
    {18, "ApiVersions", 0, 4, 3},
    {36, "SaslAuthenticate", 0, 2, 2},
    {60, "DescribeCluster", 0, 1, 0},
    {1000, "DescribeConnections", 0, 0, 0},
};
#define N_EXPECTED (sizeof expected_apis / sizeof expected_apis[0])

static void test_api_table_matches_kafka(void **state)
{
    (void)state;
    assert_int_equal(KCP_API__COUNT, N_EXPECTED);
    for (size_t i = 0; i < N_EXPECTED; i++) {
        int id = kcp_api_id_for_key(expected_apis[i].api_key);
        if (id < 0)
            fail_msg("API key %d is missing", expected_apis[i].api_key);
        const kcp_api_info *info = kcp_api_info_get((kcp_api_id)id);
        assert_non_null(info);
        assert_string_equal(info->name, expected_apis[i].name);
        assert_int_equal(info->api_key, expected_apis[i].api_key);
        assert_int_equal(info->min_version, expected_apis[i].min);
        assert_int_equal(info->max_version, expected_apis[i].max);
        assert_int_equal(info->flexible_from, expected_apis[i].first_flexible);
    }
    assert_int_equal(kcp_api_id_for_key(0), -1);
    assert_int_equal(kcp_api_id_for_key(999), -1);
    assert_null(kcp_api_info_get(KCP_API__COUNT));
}

static void test_header_versions_follow_flexible_versions(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EXPECTED; i++) {
        kcp_api_id id = (kcp_api_id)kcp_api_id_for_key(expected_apis[i].api_key);
        for (int16_t v = expected_apis[i].min; v <= expected_apis[i].max; v++) {
            bool flex = expected_apis[i].first_flexible >= 0 && v >= expected_apis[i].first_flexible;
            /* KIP-511: ApiVersions answers keep response header v0. */
            int16_t want_resp = expected_apis[i].api_key == 18 ? 0 : (flex ? 1 : 0);
            int16_t req = kcp_api_request_header_version(id, v);
            int16_t resp = kcp_api_response_header_version(id, v);
            if (req != (flex ? 2 : 1) || resp != want_resp)
                fail_msg("%s v%d: headers %d/%d, want %d/%d", expected_apis[i].name, v, req, resp,
                         flex ? 2 : 1, want_resp);
        }
    }
}

static void test_header_versions_named_in_protocol_notes(void **state)
{
    (void)state;
    assert_int_equal(kcp_api_request_header_version(KCP_API_API_VERSIONS, 3), 2);
    assert_int_equal(kcp_api_response_header_version(KCP_API_API_VERSIONS, 3), 0);
    assert_int_equal(kcp_api_request_header_version(KCP_API_API_VERSIONS, 4), 2);
    assert_int_equal(kcp_api_response_header_version(KCP_API_API_VERSIONS, 4), 0);
    assert_int_equal(kcp_api_request_header_version(KCP_API_API_VERSIONS, 2), 1);
    assert_int_equal(kcp_api_request_header_version(KCP_API_DESCRIBE_CLUSTER, 0), 2);
    assert_int_equal(kcp_api_response_header_version(KCP_API_DESCRIBE_CLUSTER, 0), 1);
    assert_int_equal(kcp_api_request_header_version(KCP_API_METADATA, 9), 2);
    assert_int_equal(kcp_api_response_header_version(KCP_API_METADATA, 9), 1);
    assert_int_equal(kcp_api_request_header_version(KCP_API_METADATA, 8), 1);
    assert_int_equal(kcp_api_response_header_version(KCP_API_METADATA, 8), 0);
    assert_int_equal(kcp_api_request_header_version(KCP_API_SASL_HANDSHAKE, 1), 1);
    assert_int_equal(kcp_api_response_header_version(KCP_API_SASL_HANDSHAKE, 1), 0);
    assert_int_equal(kcp_api_request_header_version(KCP_API_DESCRIBE_CONNECTIONS, 0), 2);
    assert_int_equal(kcp_api_response_header_version(KCP_API_DESCRIBE_CONNECTIONS, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_header_v0_is_key_version_correlation),
        cmocka_unit_test(test_request_header_v1_adds_classic_client_id),
        cmocka_unit_test(test_request_header_v1_null_client_id),
        cmocka_unit_test(test_request_header_v2_keeps_client_id_classic),
        cmocka_unit_test(test_request_header_v2_keeps_unknown_tags),
        cmocka_unit_test(test_response_header_v0_and_v1),
        cmocka_unit_test(test_bad_request_headers_are_refused),
        cmocka_unit_test(test_bad_response_headers_are_refused),
        cmocka_unit_test(test_peek_reads_the_first_three_fields_of_any_header),
        cmocka_unit_test(test_api_table_matches_kafka),
        cmocka_unit_test(test_header_versions_follow_flexible_versions),
        cmocka_unit_test(test_header_versions_named_in_protocol_notes),
    };
    return cmocka_run_group_tests_name("header", tests, NULL, NULL);
}
