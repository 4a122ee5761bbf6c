/*
 * Generated decoders on hostile input: counts and lengths beyond the bytes
 * left are refused before anything is allocated, strings must be UTF-8,
 * tagged fields must be ascending and exactly sized, and every failure names
 * the message, the Kafka field and the byte offset.
 *
 * Inputs live in heap buffers of exactly their length, so AddressSanitizer
 * reports any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcp_messages.h"
#include "unit_util.h"

static void test_metadata_broker_count_beyond_bytes_left(void **state)
{
    (void)state;
    /* v12: ThrottleTimeMs, then a compact Brokers count of 1000 (e9 07)
     * followed by ten bytes. */
    unit_input in;
    kcp_metadata_response m;
    unit_input_hex(&in, "00 00 00 00 e9 07 00 00 00 01 02 61 62 00 00 00");
    unit_assert_read_error(&in.r, kcp_metadata_response_decode(&in.r, &m, 12), KCP_ERR_LENGTH,
                           "Brokers", 6);
    unit_assert_contains(in.r.errstr, "MetadataResponse v12: ");
    unit_assert_contains(in.r.errstr, "1000 elements");
    assert_int_equal(kcp_arena_bytes(&m.arena), 0);
    kcp_metadata_response_free(&m);
    unit_input_free(&in);

    /* v0: classic int32 count. */
    unit_input_hex(&in, "00 00 03 e8 00 00 00 01 00 01 61 00 00 23 84");
    unit_assert_read_error(&in.r, kcp_metadata_response_decode(&in.r, &m, 0), KCP_ERR_LENGTH,
                           "Brokers", 4);
    assert_int_equal(kcp_arena_bytes(&m.arena), 0);
    kcp_metadata_response_free(&m);
    unit_input_free(&in);
}

static void test_metadata_null_broker_host_is_refused(void **state)
{
    (void)state;
    /* v9: one broker whose Host (not nullable) is a compact null. */
    unit_input in;
    kcp_metadata_response m;
    unit_input_hex(&in, "00 00 00 00 02 00 00 00 01 00 00 00 23 84 00 00 00 00 00 00");
    unit_assert_read_error(&in.r, kcp_metadata_response_decode(&in.r, &m, 9), KCP_ERR_NULL,
                           "MetadataResponseBroker.Host", 10);
    kcp_metadata_response_free(&m);
    unit_input_free(&in);
}

static void test_api_versions_compact_count_of_2_pow_32_minus_1(void **state)
{
    (void)state;
    unit_input in;
    kcp_api_versions_response m;
    unit_input_hex(&in, "00 00 ff ff ff ff 0f 00 00 00 00 00");
    unit_assert_read_error(&in.r, kcp_api_versions_response_decode(&in.r, &m, 3), KCP_ERR_LENGTH,
                           "ApiKeys", 7);
    unit_assert_contains(in.r.errstr, "ApiVersionsResponse v3: ");
    assert_int_equal(kcp_arena_bytes(&m.arena), 0);
    kcp_api_versions_response_free(&m);
    unit_input_free(&in);
}

static void test_api_versions_tags_not_ascending(void **state)
{
    (void)state;
    /* ErrorCode, empty ApiKeys, ThrottleTimeMs, then tags 3 and 1. */
    unit_input in;
    kcp_api_versions_response m;
    unit_input_hex(&in, "00 00 01 00 00 00 00 02 03 01 01 01 08 00 00 00 00 00 00 00 05");
    unit_assert_read_error(&in.r, kcp_api_versions_response_decode(&in.r, &m, 3), KCP_ERR_TAGS,
                           "_tagged_fields", 13);
    unit_assert_contains(in.r.errstr, "tag 1 follows tag 3");
    kcp_api_versions_response_free(&m);
    unit_input_free(&in);
}

static void test_api_versions_known_tag_with_wrong_size(void **state)
{
    (void)state;
    unit_input in;
    kcp_api_versions_response m;
    /* FinalizedFeaturesEpoch (tag 1, int64) announced as 9 bytes. */
    unit_input_hex(&in, "00 00 01 00 00 00 00 01 01 09 00 00 00 00 00 00 00 05 ff");
    unit_assert_read_error(&in.r, kcp_api_versions_response_decode(&in.r, &m, 3), KCP_ERR_TAGS,
                           "FinalizedFeaturesEpoch", 10);
    kcp_api_versions_response_free(&m);
    unit_input_free(&in);

    /* ZkMigrationReady (tag 3, bool) announced as 0 bytes. */
    unit_input_hex(&in, "00 00 01 00 00 00 00 01 03 00");
    unit_assert_read_error(&in.r, kcp_api_versions_response_decode(&in.r, &m, 3),
                           KCP_ERR_TRUNCATED, "ZkMigrationReady", 10);
    kcp_api_versions_response_free(&m);
    unit_input_free(&in);

    /* A tagged field larger than what follows. */
    unit_input_hex(&in, "00 00 01 00 00 00 00 01 01 08 00 00");
    unit_assert_read_error(&in.r, kcp_api_versions_response_decode(&in.r, &m, 3), KCP_ERR_LENGTH,
                           "_tagged_fields", 10);
    kcp_api_versions_response_free(&m);
    unit_input_free(&in);
}

static void test_api_versions_unknown_tag_is_kept(void **state)
{
    (void)state;
    unit_input in;
    kcp_api_versions_response m;
    /* FinalizedFeaturesEpoch 5, then an unknown tag 9 with two bytes. */
    unit_input_hex(&in, "00 00 01 00 00 00 00 02 01 08 00 00 00 00 00 00 00 05 09 02 ab cd");
    if (kcp_api_versions_response_decode(&in.r, &m, 3))
        fail_msg("%s", in.r.errstr);
    assert_int_equal(m.finalized_features_epoch, 5);
    assert_int_equal(m.unknown_tags.n, 1);
    assert_int_equal(m.unknown_tags.v[0].tag, 9);

    uint8_t out[64];
    kcp_writer w;
    kcp_writer_init(&w, out, sizeof out);
    assert_int_equal(kcp_api_versions_response_size(&m, 3), in.r.len);
    assert_int_equal(kcp_api_versions_response_encode(&w, &m, 3), KCP_OK);
    assert_int_equal(w.pos, in.r.len);
    assert_memory_equal(out, in.buf, w.pos);
    kcp_api_versions_response_free(&m);
    unit_input_free(&in);
}

/* Encodes m at v0 into a heap buffer of exactly its size. */
static uint8_t *encode_describe_connections(const kcp_describe_connections_response *m,
                                            size_t *len)
{
    *len = kcp_describe_connections_response_size(m, 0);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    kcp_writer w;
    kcp_writer_init(&w, buf, *len);
    assert_int_equal(kcp_describe_connections_response_encode(&w, m, 0), KCP_OK);
    assert_int_equal(w.pos, *len);
    return buf;
}

/* Two rows of one principal, as a broker writes them: the Strings table
 * holds the principal once and each row's close reason. */
static kcp_str two_row_strings[] = {{"User:alice", 10}, {"idle#", 5}, {"closed", 6}};

static void two_rows(kcp_describe_connections_response *m, int32_t first_close_reason_index)
{
    kcp_describe_connections_response_init(m);
    m->connections.n = 2;
    m->connections.v = kcp_arena_alloc(&m->arena, 2 * sizeof *m->connections.v);
    assert_non_null(m->connections.v);
    for (int i = 0; i < 2; i++) {
        kcp_describe_connections_response_connection *c = &m->connections.v[i];
        kcp_describe_connections_response_connection_init(c);
        c->connection_id = kcp_str_c("127.0.0.1:9092-127.0.0.1:5000-0-1");
        c->principal_index = 0;
        c->close_reason_index = i == 0 ? first_close_reason_index : 2;
    }
    m->strings.n = 3;
    m->strings.v = two_row_strings;
}

static void test_bad_tagged_field_inside_an_array_element(void **state)
{
    (void)state;
    /* Two connections; the first one's CloseReasonIndex (tag 0 of each
     * element, an int32) is announced as 3 bytes. The error must come out
     * of the sub-reader rather than let the decoder read the index's fourth
     * byte from the next element. The index value only marks the bytes. */
    static const uint8_t tag[] = {0x00, 0x04, 0x0a, 0x0b, 0x0c, 0x0d};
    kcp_describe_connections_response m, d;
    two_rows(&m, 0x0a0b0c0d);
    size_t len;
    uint8_t *buf = encode_describe_connections(&m, &len);
    uint8_t *at = memmem(buf, len, tag, sizeof tag);
    assert_non_null(at);
    at[1] = 3;

    kcp_reader r;
    kcp_reader_init(&r, buf, len);
    unit_assert_read_error(&r, kcp_describe_connections_response_decode(&r, &d, 0),
                           KCP_ERR_TRUNCATED, "Connection.CloseReasonIndex",
                           (size_t)(at - buf) + 2);
    kcp_describe_connections_response_free(&d);
    kcp_describe_connections_response_free(&m);
    free(buf);
}

static void test_describe_connections_non_utf8_string_entry(void **state)
{
    (void)state;
    /* Strings is read after the rows; an entry that is not UTF-8 fails
     * the decode there, naming Strings and the entry's offset. */
    kcp_describe_connections_response m, d;
    two_rows(&m, 1);
    size_t len;
    uint8_t *buf = encode_describe_connections(&m, &len);
    uint8_t *mark = memchr(buf, '#', len);
    assert_non_null(mark);
    *mark = 0xff;

    kcp_reader r;
    kcp_reader_init(&r, buf, len);
    size_t string_start = (size_t)(mark - buf) - 4; /* "idle" precedes the mark */
    unit_assert_read_error(&r, kcp_describe_connections_response_decode(&r, &d, 0), KCP_ERR_UTF8,
                           "Strings", string_start);
    kcp_describe_connections_response_free(&d);
    kcp_describe_connections_response_free(&m);
    free(buf);
}

static void test_describe_connections_non_utf8_principal(void **state)
{
    (void)state;
    /* Principals: one compact string "a" c0 80 (an overlong NUL). */
    unit_input in;
    kcp_describe_connections_request m;
    unit_input_hex(&in, "02 04 61 c0 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    unit_assert_read_error(&in.r, kcp_describe_connections_request_decode(&in.r, &m, 0),
                           KCP_ERR_UTF8, "Principals", 2);
    unit_assert_contains(in.r.errstr, "DescribeConnectionsRequest v0: ");
    kcp_describe_connections_request_free(&m);
    unit_input_free(&in);

    /* Principals null, Listeners with a surrogate. */
    unit_input_hex(&in, "00 02 04 ed a0 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    unit_assert_read_error(&in.r, kcp_describe_connections_request_decode(&in.r, &m, 0),
                           KCP_ERR_UTF8, "Listeners", 3);
    kcp_describe_connections_request_free(&m);
    unit_input_free(&in);
}

static void test_describe_connections_huge_states_count(void **state)
{
    (void)state;
    /* Five null string filters, then States with 2^31-2 one-byte entries. */
    unit_input in;
    kcp_describe_connections_request m;
    unit_input_hex(&in, "00 00 00 00 00 ff ff ff ff 07 00 00");
    unit_assert_read_error(&in.r, kcp_describe_connections_request_decode(&in.r, &m, 0),
                           KCP_ERR_LENGTH, "States", 10);
    assert_int_equal(kcp_arena_bytes(&m.arena), 0);
    kcp_describe_connections_request_free(&m);
    unit_input_free(&in);
}

static void test_version_outside_the_valid_range(void **state)
{
    (void)state;
    unit_input in;
    kcp_metadata_response m;
    unit_input_hex(&in, "00 00 00 00");
    unit_assert_read_error(&in.r, kcp_metadata_response_decode(&in.r, &m, 13), KCP_ERR_VERSION,
                           "MetadataResponse", 0);
    kcp_metadata_response_free(&m);
    kcp_reader_init(&in.r, in.buf, 4);
    unit_assert_read_error(&in.r, kcp_metadata_response_decode(&in.r, &m, -1), KCP_ERR_VERSION,
                           "MetadataResponse", 0);
    kcp_metadata_response_free(&m);
    unit_input_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_broker_count_beyond_bytes_left),
        cmocka_unit_test(test_metadata_null_broker_host_is_refused),
        cmocka_unit_test(test_api_versions_compact_count_of_2_pow_32_minus_1),
        cmocka_unit_test(test_api_versions_tags_not_ascending),
        cmocka_unit_test(test_api_versions_known_tag_with_wrong_size),
        cmocka_unit_test(test_api_versions_unknown_tag_is_kept),
        cmocka_unit_test(test_bad_tagged_field_inside_an_array_element),
        cmocka_unit_test(test_describe_connections_non_utf8_string_entry),
        cmocka_unit_test(test_describe_connections_non_utf8_principal),
        cmocka_unit_test(test_describe_connections_huge_states_count),
        cmocka_unit_test(test_version_outside_the_valid_range),
    };
    return cmocka_run_group_tests_name("decode_errors", tests, NULL, NULL);
}
