/*
 * Tagged-field sections (KIP-482) as the wire layer handles them: ascending
 * tags, sizes bounded by the bytes left, unknown tags kept and written back
 * in tag order between the known ones, and sub-readers that must consume a
 * tagged field exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcp_header.h"
#include "kcp_wire.h"
#include "unit_util.h"

/* A tagged-field section read from heap bytes of exactly its length. */
typedef struct section {
    unit_input in;
    kcp_arena arena;
    kcp_raw_tags tags;
    int rc;
} section;

static void section_read(section *s, const char *hex)
{
    memset(s, 0, sizeof *s);
    unit_input_hex(&s->in, hex);
    s->rc = kcp_read_unknown_tags(&s->in.r, "_tagged_fields", &s->arena, &s->tags);
}

static void section_free(section *s)
{
    kcp_arena_free(&s->arena);
    unit_input_free(&s->in);
}

static void test_unknown_tags_are_kept_in_order(void **state)
{
    (void)state;
    section s;
    section_read(&s, "03 01 01 aa 04 02 bb cc 09 00");
    assert_int_equal(s.rc, KCP_OK);
    assert_int_equal(s.in.r.pos, s.in.r.len);
    assert_int_equal(s.tags.n, 3);
    assert_int_equal(s.tags.v[0].tag, 1);
    assert_int_equal(s.tags.v[0].data.len, 1);
    assert_int_equal(s.tags.v[0].data.ptr[0], 0xaa);
    assert_int_equal(s.tags.v[1].tag, 4);
    assert_int_equal(s.tags.v[1].data.len, 2);
    assert_int_equal(s.tags.v[2].tag, 9);
    assert_int_equal(s.tags.v[2].data.len, 0);
    /* Tag, size and data of each: (1+1+1) + (1+1+2) + (1+1+0). */
    assert_int_equal(kcp_raw_tags_size(&s.tags), 9);
    section_free(&s);
}

static void test_empty_section_reads_as_no_tags(void **state)
{
    (void)state;
    section s;
    section_read(&s, "00");
    assert_int_equal(s.rc, KCP_OK);
    assert_int_equal(s.tags.n, 0);
    assert_int_equal(kcp_raw_tags_size(&s.tags), 0);
    section_free(&s);
}

static void test_tags_not_ascending_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        size_t offset;
        const char *why;
    } cases[] = {
        {"02 05 01 aa 03 01 bb", 6, "tag 3 follows tag 5"},
        {"02 05 01 aa 05 01 bb", 6, "tag 5 follows tag 5"},
        {"03 00 00 02 00 01 00", 7, "tag 1 follows tag 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        section s;
        section_read(&s, cases[i].hex);
        unit_assert_read_error(&s.in.r, s.rc, KCP_ERR_TAGS, "_tagged_fields", cases[i].offset);
        unit_assert_contains(s.in.r.errstr, cases[i].why);
        section_free(&s);
    }
}

static void test_tagged_field_larger_than_the_bytes_left_is_refused(void **state)
{
    (void)state;
    section s;
    section_read(&s, "01 05 04 aa bb");
    unit_assert_read_error(&s.in.r, s.rc, KCP_ERR_LENGTH, "_tagged_fields", 3);
    unit_assert_contains(s.in.r.errstr, "tagged field 5 of 4 bytes exceeds the 2 bytes left");
    section_free(&s);

    /* A size of 2^32-1 is refused by the same check, before any copy. */
    section_read(&s, "01 05 ff ff ff ff 0f 00");
    unit_assert_read_error(&s.in.r, s.rc, KCP_ERR_LENGTH, "_tagged_fields", 7);
    section_free(&s);

    /* Directly through kcp_read_tag_header. */
    uint8_t buf[] = {0x07, 0x03, 0x00, 0x00};
    kcp_reader r;
    uint32_t tag, size;
    kcp_reader_init(&r, buf, sizeof buf);
    unit_assert_read_error(&r, kcp_read_tag_header(&r, "SupportedFeatures", &tag, &size),
                           KCP_ERR_LENGTH, "SupportedFeatures", 2);
}

static void test_tag_count_larger_than_the_bytes_left_is_refused(void **state)
{
    (void)state;
    section s;
    /* 100 tagged fields announced; each needs at least two bytes. */
    section_read(&s, "64 01 00");
    unit_assert_read_error(&s.in.r, s.rc, KCP_ERR_LENGTH, "_tagged_fields", 1);
    assert_int_equal(kcp_arena_bytes(&s.arena), 0);
    section_free(&s);

    section_read(&s, "ff ff ff ff 0f");
    unit_assert_read_error(&s.in.r, s.rc, KCP_ERR_LENGTH, "_tagged_fields", 5);
    assert_int_equal(kcp_arena_bytes(&s.arena), 0);
    section_free(&s);
}

static void test_truncated_sections_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        int err;
        size_t offset;
    } cases[] = {
        {"", KCP_ERR_TRUNCATED, 0},
        {"01 80", KCP_ERR_LENGTH, 1},      /* count says 1, one byte left */
        {"01 80 80", KCP_ERR_TRUNCATED, 3}, /* tag varint cut short */
        {"01 05 80", KCP_ERR_TRUNCATED, 3}, /* size varint cut short */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        section s;
        section_read(&s, cases[i].hex);
        unit_assert_read_error(&s.in.r, s.rc, cases[i].err, "_tagged_fields", cases[i].offset);
        section_free(&s);
    }
}

static void test_many_unknown_tags_keep_every_entry(void **state)
{
    (void)state;
    /* Enough tags to grow the array several times inside the arena. */
    enum { N = 100 };
    uint8_t buf[1 + 4 * N]; /* tags above 127 take two bytes */
    kcp_writer w;
    kcp_writer_init(&w, buf, sizeof buf);
    kcp_write_uvarint(&w, N);
    for (uint32_t t = 0; t < N; t++) {
        kcp_write_uvarint(&w, t * 2);
        kcp_write_uvarint(&w, 1);
        kcp_write_int8(&w, (int8_t)t);
    }
    assert_int_equal(w.err, KCP_OK);
    kcp_reader r;
    kcp_arena a = {0};
    kcp_raw_tags tags = {0};
    kcp_reader_init(&r, buf, w.pos);
    assert_int_equal(kcp_read_unknown_tags(&r, "_tagged_fields", &a, &tags), KCP_OK);
    assert_int_equal(tags.n, N);
    for (uint32_t t = 0; t < N; t++) {
        assert_int_equal(tags.v[t].tag, t * 2);
        assert_int_equal(tags.v[t].data.len, 1);
        assert_int_equal(tags.v[t].data.ptr[0], (uint8_t)t);
    }
    kcp_arena_free(&a);
}

/* Writes a known tagged field: tag, size, one byte of data. */
static void write_known(kcp_writer *w, uint32_t tag, uint8_t byte)
{
    kcp_write_uvarint(w, tag);
    kcp_write_uvarint(w, 1);
    kcp_write_int8(w, (int8_t)byte);
}

static void test_unknown_tags_merge_with_known_ones_in_tag_order(void **state)
{
    (void)state;
    section s;
    section_read(&s, "03 01 01 aa 04 01 bb 09 02 cc dd");
    assert_int_equal(s.rc, KCP_OK);

    /* Known tags 3 and 7 go between the unknown 1, 4 and 9, as a generated
     * encoder does: unknown below each known tag first, the rest at the end. */
    uint8_t out[32];
    kcp_writer w;
    uint32_t next = 0;
    kcp_writer_init(&w, out, sizeof out);
    kcp_write_uvarint(&w, s.tags.n + 2);
    kcp_raw_tags_write_below(&w, &s.tags, &next, 3);
    assert_int_equal(next, 1);
    write_known(&w, 3, 0x33);
    kcp_raw_tags_write_below(&w, &s.tags, &next, 7);
    assert_int_equal(next, 2);
    write_known(&w, 7, 0x77);
    kcp_raw_tags_write_below(&w, &s.tags, &next, UINT64_MAX);
    assert_int_equal(next, 3);
    assert_int_equal(w.err, KCP_OK);
    unit_assert_bytes(out, w.pos, "05 01 01 aa 03 01 33 04 01 bb 07 01 77 09 02 cc dd");

    /* The merged section reads back in ascending order. */
    kcp_reader r;
    kcp_arena a = {0};
    kcp_raw_tags again = {0};
    kcp_reader_init(&r, out, w.pos);
    assert_int_equal(kcp_read_unknown_tags(&r, "_tagged_fields", &a, &again), KCP_OK);
    assert_int_equal(again.n, 5);
    kcp_arena_free(&a);
    section_free(&s);
}

static void test_write_below_a_limit_under_every_tag_writes_nothing(void **state)
{
    (void)state;
    section s;
    section_read(&s, "01 05 00");
    assert_int_equal(s.rc, KCP_OK);
    uint8_t out[8];
    kcp_writer w;
    uint32_t next = 0;
    kcp_writer_init(&w, out, sizeof out);
    kcp_raw_tags_write_below(&w, &s.tags, &next, 5);
    assert_int_equal(w.pos, 0);
    assert_int_equal(next, 0);
    kcp_raw_tags_write_below(&w, &s.tags, &next, 6);
    unit_assert_bytes(out, w.pos, "05 00");
    section_free(&s);
}

/* ------------------------------------------------------------- sub-readers */

static void test_sub_reader_that_consumes_everything_joins(void **state)
{
    (void)state;
    uint8_t buf[] = {0xaa, 0x00, 0x00, 0x00, 0x07, 0xbb};
    kcp_reader r, sub;
    int8_t lead;
    int32_t v;
    kcp_reader_init(&r, buf, sizeof buf);
    assert_int_equal(kcp_read_int8(&r, "Lead", &lead), KCP_OK);
    kcp_reader_sub(&r, &sub, 4);
    assert_int_equal(kcp_read_int32(&sub, "FinalizedFeaturesEpoch", &v), KCP_OK);
    assert_int_equal(v, 7);
    assert_int_equal(kcp_reader_join(&r, &sub, "FinalizedFeaturesEpoch"), KCP_OK);
    assert_int_equal(r.pos, 5);
    assert_int_equal(r.err, KCP_OK);
}

static void test_sub_reader_with_trailing_bytes_fails_the_join(void **state)
{
    (void)state;
    uint8_t buf[] = {0xaa, 0x00, 0x01, 0xff, 0xbb};
    kcp_reader r, sub;
    int8_t lead;
    int16_t v;
    kcp_reader_init(&r, buf, sizeof buf);
    r.what = "ApiVersionsResponse v3";
    assert_int_equal(kcp_read_int8(&r, "Lead", &lead), KCP_OK);
    kcp_reader_sub(&r, &sub, 3);
    assert_int_equal(kcp_read_int16(&sub, "ZkMigrationReady", &v), KCP_OK);
    unit_assert_read_error(&r, kcp_reader_join(&r, &sub, "ZkMigrationReady"), KCP_ERR_TAGS,
                           "ZkMigrationReady", 1);
    unit_assert_contains(r.errstr, "ApiVersionsResponse v3: ");
    unit_assert_contains(r.errstr, "1 unread bytes");
}

static void test_sub_reader_error_reaches_the_parent_with_absolute_offset(void **state)
{
    (void)state;
    uint8_t buf[] = {0xaa, 0xbb, 0x00, 0x00, 0x00};
    kcp_reader r, sub;
    int16_t lead;
    int32_t v;
    kcp_reader_init(&r, buf, sizeof buf);
    r.what = "MetadataResponse v12";
    assert_int_equal(kcp_read_int16(&r, "Lead", &lead), KCP_OK);
    /* The tagged field claims three bytes but holds an int32. */
    kcp_reader_sub(&r, &sub, 3);
    assert_int_equal(kcp_read_int32(&sub, "LeaderEpoch", &v), KCP_ERR_TRUNCATED);
    unit_assert_read_error(&r, kcp_reader_join(&r, &sub, "LeaderEpoch"), KCP_ERR_TRUNCATED,
                           "LeaderEpoch", 2);
    unit_assert_contains(r.errstr, "MetadataResponse v12: ");
    /* The sub-reader cannot see past its three bytes. */
    assert_int_equal(sub.len, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_tags_are_kept_in_order),
        cmocka_unit_test(test_empty_section_reads_as_no_tags),
        cmocka_unit_test(test_tags_not_ascending_are_refused),
        cmocka_unit_test(test_tagged_field_larger_than_the_bytes_left_is_refused),
        cmocka_unit_test(test_tag_count_larger_than_the_bytes_left_is_refused),
        cmocka_unit_test(test_truncated_sections_are_refused),
        cmocka_unit_test(test_many_unknown_tags_keep_every_entry),
        cmocka_unit_test(test_unknown_tags_merge_with_known_ones_in_tag_order),
        cmocka_unit_test(test_write_below_a_limit_under_every_tag_writes_nothing),
        cmocka_unit_test(test_sub_reader_that_consumes_everything_joins),
        cmocka_unit_test(test_sub_reader_with_trailing_bytes_fails_the_join),
        cmocka_unit_test(test_sub_reader_error_reaches_the_parent_with_absolute_offset),
    };
    return cmocka_run_group_tests_name("tags", tests, NULL, NULL);
}
