/*
 * The incremental frame reader (protocol/kcp_frame.h): whole, partial and
 * back-to-back frames, the size limit (Kafka's socket.request.max.bytes),
 * and memory that follows the bytes received rather than the size a peer
 * announces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcp_frame.h"
#include "kcp_wire.h"
#include "unit_util.h"

/* Writes the big-endian int32 size prefix of a frame. */
static void put_size(uint8_t *out, uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

/* Writes a frame (size prefix + body) to out; returns the bytes written. */
static size_t put_frame(uint8_t *out, const void *body, uint32_t len)
{
    put_size(out, len);
    if (len)
        memcpy(out + 4, body, len);
    return 4 + (size_t)len;
}

/* One call of kcp_frame_reader_feed with the invariants every call keeps. */
typedef struct feed_result {
    int rc;
    size_t consumed;
    uint8_t *frame;
    size_t frame_len;
    char errstr[128];
} feed_result;

static feed_result feed(kcp_frame_reader *fr, const uint8_t *data, size_t len)
{
    feed_result f;
    memset(&f, 0, sizeof f);
    f.rc = kcp_frame_reader_feed(fr, data, len, &f.consumed, &f.frame, &f.frame_len, f.errstr,
                                 sizeof f.errstr);
    assert_true(f.consumed <= len);
    assert_true(strlen(f.errstr) < sizeof f.errstr);
    return f;
}

static void test_whole_frame_in_one_feed(void **state)
{
    (void)state;
    static const char body[] = "\x00\x12\x00\x03\x00\x00\x00\x01";
    uint8_t buf[64];
    size_t n = put_frame(buf, body, 8);
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 0);
    feed_result f = feed(&fr, buf, n);
    assert_int_equal(f.rc, 1);
    assert_int_equal(f.consumed, n);
    assert_int_equal(f.frame_len, 8);
    assert_memory_equal(f.frame, body, 8);
    assert_int_equal(kcp_frame_reader_pending(&fr), 0);
    free(f.frame);
    kcp_frame_reader_free(&fr);
}

static void test_frame_fed_byte_by_byte(void **state)
{
    (void)state;
    uint8_t body[300], buf[320];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7);
    size_t n = put_frame(buf, body, sizeof body);
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 1024);
    for (size_t i = 0; i + 1 < n; i++) {
        feed_result f = feed(&fr, buf + i, 1);
        assert_int_equal(f.rc, 0);
        assert_int_equal(f.consumed, 1);
        assert_int_equal(kcp_frame_reader_pending(&fr), i + 1);
    }
    feed_result f = feed(&fr, buf + n - 1, 1);
    assert_int_equal(f.rc, 1);
    assert_int_equal(f.consumed, 1);
    assert_int_equal(f.frame_len, sizeof body);
    assert_memory_equal(f.frame, body, sizeof body);
    assert_int_equal(kcp_frame_reader_pending(&fr), 0);
    free(f.frame);
    kcp_frame_reader_free(&fr);
}

static void test_several_frames_in_one_buffer_come_out_one_at_a_time(void **state)
{
    (void)state;
    static const char *const bodies[] = {"first", "", "third frame"};
    uint8_t buf[64];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++)
        n += put_frame(buf + n, bodies[i], (uint32_t)strlen(bodies[i]));

    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 0);
    size_t off = 0;
    for (size_t i = 0; i < 3; i++) {
        feed_result f = feed(&fr, buf + off, n - off);
        assert_int_equal(f.rc, 1);
        /* Stops right after this frame; the rest stays with the caller. */
        assert_int_equal(f.consumed, 4 + strlen(bodies[i]));
        assert_int_equal(f.frame_len, strlen(bodies[i]));
        if (f.frame_len)
            assert_memory_equal(f.frame, bodies[i], f.frame_len);
        free(f.frame);
        off += f.consumed;
    }
    assert_int_equal(off, n);
    assert_int_equal(feed(&fr, buf + n, 0).rc, 0);
    kcp_frame_reader_free(&fr);
}

static void test_zero_length_frame(void **state)
{
    (void)state;
    static const uint8_t buf[] = {0, 0, 0, 0, 0, 0, 0, 1, 0x42};
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 0);
    feed_result f = feed(&fr, buf, sizeof buf);
    assert_int_equal(f.rc, 1);
    assert_int_equal(f.consumed, 4);
    assert_int_equal(f.frame_len, 0);
    free(f.frame);
    f = feed(&fr, buf + 4, sizeof buf - 4);
    assert_int_equal(f.rc, 1);
    assert_int_equal(f.frame_len, 1);
    assert_int_equal(f.frame[0], 0x42);
    free(f.frame);
    kcp_frame_reader_free(&fr);
}

/* Feeds just a size prefix and expects it to be refused. */
static void expect_size_refused(size_t max, const char *prefix_hex, const char *in_message)
{
    uint8_t prefix[4];
    assert_int_equal(unit_hex(prefix_hex, prefix, sizeof prefix), 4);
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, max);
    feed_result f = feed(&fr, prefix, 4);
    assert_int_equal(f.rc, KCP_ERR_FRAME_SIZE);
    unit_assert_contains(f.errstr, in_message);
    kcp_frame_reader_free(&fr);
}

static void expect_size_accepted(size_t max, const char *prefix_hex)
{
    uint8_t prefix[4];
    assert_int_equal(unit_hex(prefix_hex, prefix, sizeof prefix), 4);
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, max);
    feed_result f = feed(&fr, prefix, 4);
    assert_int_equal(f.rc, 0);
    assert_int_equal(f.consumed, 4);
    kcp_frame_reader_free(&fr);
}

static void test_negative_and_oversized_frames_are_refused(void **state)
{
    (void)state;
    expect_size_refused(100, "ff ff ff ff", "frame size -1 ");
    expect_size_refused(100, "80 00 00 00", "frame size -2147483648 ");
    expect_size_refused(100, "00 00 00 65", "frame size 101 is outside 0..100");
    expect_size_accepted(100, "00 00 00 64");
}

static void test_default_limit_is_100_mib(void **state)
{
    (void)state;
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 0);
    assert_int_equal(fr.max_size, KCP_FRAME_MAX_DEFAULT);
    assert_int_equal(KCP_FRAME_MAX_DEFAULT, 100 * 1024 * 1024);
    kcp_frame_reader_free(&fr);
    /* 100 MiB is allowed, one byte more is not; 2 GiB (as the unsigned
     * 80 00 00 00 or the largest int32) never is. */
    expect_size_accepted(0, "06 40 00 00");
    expect_size_refused(0, "06 40 00 01", "frame size 104857601 ");
    expect_size_refused(0, "80 00 00 00", "frame size -2147483648 ");
    expect_size_refused(0, "7f ff ff ff", "frame size 2147483647 ");
}

static void test_announced_size_is_not_allocated_up_front(void **state)
{
    (void)state;
    uint8_t buf[14];
    memset(buf, 0x61, sizeof buf);
    buf[0] = 0x03; /* 0x03200000 = 50 MiB */
    buf[1] = 0x20;
    buf[2] = 0x00;
    buf[3] = 0x00;
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 0);
    feed_result f = feed(&fr, buf, sizeof buf);
    assert_int_equal(f.rc, 0);
    assert_int_equal(f.consumed, sizeof buf);
    assert_int_equal(kcp_frame_reader_pending(&fr), 14);
    /* Ten bytes arrived: the buffer holds a few hundred at most. */
    if (fr.body_cap > 4096)
        fail_msg("holds %zu bytes after 10 of a 50 MiB frame", fr.body_cap);
    kcp_frame_reader_free(&fr);
}

static void test_buffer_grows_with_the_bytes_received(void **state)
{
    (void)state;
    const uint32_t size = 1u << 20;
    uint8_t *buf = malloc(4 + (size_t)size);
    assert_non_null(buf);
    for (size_t i = 0; i < size; i++)
        buf[4 + i] = (uint8_t)(i * 31 + 1);
    put_size(buf, size);
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 0);
    size_t off = 0;
    feed_result f;
    do {
        size_t left = 4 + (size_t)size - off, chunk = left < 4093 ? left : 4093;
        f = feed(&fr, buf + off, chunk);
        off += f.consumed;
        if (f.rc == 0 && fr.body_cap > 2 * fr.body_have + 256)
            fail_msg("holds %zu bytes for %zu received", fr.body_cap, fr.body_have);
    } while (f.rc == 0 && off < 4 + (size_t)size);
    assert_int_equal(f.rc, 1);
    assert_int_equal(off, 4 + (size_t)size);
    assert_int_equal(f.frame_len, size);
    assert_memory_equal(f.frame, buf + 4, size);
    free(f.frame);
    free(buf);
    kcp_frame_reader_free(&fr);
}

static void test_free_releases_a_partial_frame(void **state)
{
    (void)state;
    uint8_t buf[4 + 600];
    memset(buf, 0x62, sizeof buf);
    put_size(buf, 1000);
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 5000);
    feed_result f = feed(&fr, buf, sizeof buf);
    assert_int_equal(f.rc, 0);
    assert_non_null(fr.body);
    /* LeakSanitizer reports the 600 bytes if free does not release them. */
    kcp_frame_reader_free(&fr);
    assert_null(fr.body);
    assert_int_equal(kcp_frame_reader_pending(&fr), 0);
    assert_int_equal(fr.max_size, 5000);

    /* The reader is ready for a new connection afterwards. */
    size_t n = put_frame(buf, "ok", 2);
    f = feed(&fr, buf, n);
    assert_int_equal(f.rc, 1);
    assert_memory_equal(f.frame, "ok", 2);
    free(f.frame);
    kcp_frame_reader_free(&fr);
}

static void test_size_split_across_feeds(void **state)
{
    (void)state;
    uint8_t buf[16];
    size_t n = put_frame(buf, "abc", 3);
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 0);
    assert_int_equal(feed(&fr, buf, 2).rc, 0);
    assert_int_equal(kcp_frame_reader_pending(&fr), 2);
    feed_result f = feed(&fr, buf + 2, n - 2);
    assert_int_equal(f.rc, 1);
    assert_int_equal(f.consumed, n - 2);
    assert_memory_equal(f.frame, "abc", 3);
    free(f.frame);
    kcp_frame_reader_free(&fr);
}

static void test_feeding_after_a_size_error_keeps_failing(void **state)
{
    (void)state;
    /* A caller that keeps reading after the error must not make the reader
     * write past its four-byte size buffer. */
    static const uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x41};
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, 0);
    feed_result f = feed(&fr, bad, sizeof bad);
    assert_int_equal(f.rc, KCP_ERR_FRAME_SIZE);
    assert_int_equal(f.consumed, 4);
    /* Enough further feeds to walk well past the size buffer if it kept
     * storing bytes there. */
    for (int i = 0; i < 32; i++) {
        f = feed(&fr, bad + 4 + (size_t)i % 5, 1);
        assert_true(f.rc < 0);
        assert_true(kcp_frame_reader_pending(&fr) <= 4);
        assert_int_equal(fr.max_size, KCP_FRAME_MAX_DEFAULT);
    }
    kcp_frame_reader_free(&fr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_frame_in_one_feed),
        cmocka_unit_test(test_frame_fed_byte_by_byte),
        cmocka_unit_test(test_several_frames_in_one_buffer_come_out_one_at_a_time),
        cmocka_unit_test(test_zero_length_frame),
        cmocka_unit_test(test_negative_and_oversized_frames_are_refused),
        cmocka_unit_test(test_default_limit_is_100_mib),
        cmocka_unit_test(test_announced_size_is_not_allocated_up_front),
        cmocka_unit_test(test_buffer_grows_with_the_bytes_received),
        cmocka_unit_test(test_free_releases_a_partial_frame),
        cmocka_unit_test(test_size_split_across_feeds),
        cmocka_unit_test(test_feeding_after_a_size_error_keeps_failing),
    };
    return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
