/*
 * Wire primitives of protocol/kcp_wire.h: every type round-trips, encodes to
 * the bytes the Kafka protocol guide and KIP-482 prescribe, and every kind
 * of bad input fails with the right kcp_err and a message that names the
 * field and the byte offset.
 *
 * Inputs that a decoder must reject are copied into heap buffers of exactly
 * their length, so AddressSanitizer reports any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcp_wire.h"
#include "unit_util.h"

/* ---------------------------------------------------------------- helpers */

/* Writes one value with fn into a fresh buffer, checks the bytes, and leaves
 * a reader over exactly those bytes. */
#define ENCODE(wr, rd, buf, hex, ...)                                                    \
    do {                                                                                  \
        kcp_writer_init(&(wr), (buf), sizeof(buf));                                       \
        __VA_ARGS__;                                                                      \
        assert_int_equal((wr).err, KCP_OK);                                               \
        unit_assert_bytes((buf), (wr).pos, (hex));                                        \
        kcp_reader_init(&(rd), (buf), (wr).pos);                                          \
    } while (0)

/* Round trip of a fixed-width or varint value: write, compare bytes, read
 * back the same value and consume exactly what was written. */
#define CHECK_VALUE(T, write_fn, read_fn, val, hex)                                      \
    do {                                                                                  \
        uint8_t b_[16];                                                                   \
        kcp_writer w_;                                                                    \
        kcp_reader r_;                                                                    \
        T got_;                                                                           \
        ENCODE(w_, r_, b_, hex, write_fn(&w_, (val)));                                    \
        assert_int_equal(read_fn(&r_, #T, &got_), KCP_OK);                                \
        assert_true(got_ == (T)(val));                                                    \
        assert_int_equal(r_.pos, w_.pos);                                                 \
    } while (0)

/* ------------------------------------------------- fixed-width round trips */

static void test_fixed_width_integers_round_trip_big_endian(void **state)
{
    (void)state;
    CHECK_VALUE(int8_t, kcp_write_int8, kcp_read_int8, 0, "00");
    CHECK_VALUE(int8_t, kcp_write_int8, kcp_read_int8, -1, "ff");
    CHECK_VALUE(int8_t, kcp_write_int8, kcp_read_int8, INT8_MIN, "80");
    CHECK_VALUE(int8_t, kcp_write_int8, kcp_read_int8, INT8_MAX, "7f");

    CHECK_VALUE(int16_t, kcp_write_int16, kcp_read_int16, 0x0102, "01 02");
    CHECK_VALUE(int16_t, kcp_write_int16, kcp_read_int16, -2, "ff fe");
    CHECK_VALUE(int16_t, kcp_write_int16, kcp_read_int16, INT16_MIN, "80 00");
    CHECK_VALUE(int16_t, kcp_write_int16, kcp_read_int16, INT16_MAX, "7f ff");

    CHECK_VALUE(uint16_t, kcp_write_uint16, kcp_read_uint16, 0, "00 00");
    CHECK_VALUE(uint16_t, kcp_write_uint16, kcp_read_uint16, 0xabcd, "ab cd");
    CHECK_VALUE(uint16_t, kcp_write_uint16, kcp_read_uint16, UINT16_MAX, "ff ff");

    CHECK_VALUE(int32_t, kcp_write_int32, kcp_read_int32, 0x01020304, "01 02 03 04");
    CHECK_VALUE(int32_t, kcp_write_int32, kcp_read_int32, -1, "ff ff ff ff");
    CHECK_VALUE(int32_t, kcp_write_int32, kcp_read_int32, INT32_MIN, "80 00 00 00");
    CHECK_VALUE(int32_t, kcp_write_int32, kcp_read_int32, INT32_MAX, "7f ff ff ff");

    CHECK_VALUE(uint32_t, kcp_write_uint32, kcp_read_uint32, 0xdeadbeef, "de ad be ef");
    CHECK_VALUE(uint32_t, kcp_write_uint32, kcp_read_uint32, UINT32_MAX, "ff ff ff ff");

    CHECK_VALUE(int64_t, kcp_write_int64, kcp_read_int64, INT64_C(0x0102030405060708),
                "01 02 03 04 05 06 07 08");
    CHECK_VALUE(int64_t, kcp_write_int64, kcp_read_int64, -1, "ff ff ff ff ff ff ff ff");
    CHECK_VALUE(int64_t, kcp_write_int64, kcp_read_int64, INT64_MIN, "80 00 00 00 00 00 00 00");
    CHECK_VALUE(int64_t, kcp_write_int64, kcp_read_int64, INT64_MAX, "7f ff ff ff ff ff ff ff");
}

static void test_float64_round_trips_as_ieee754_big_endian(void **state)
{
    (void)state;
    CHECK_VALUE(double, kcp_write_float64, kcp_read_float64, 1.0, "3f f0 00 00 00 00 00 00");
    CHECK_VALUE(double, kcp_write_float64, kcp_read_float64, -2.5, "c0 04 00 00 00 00 00 00");
    CHECK_VALUE(double, kcp_write_float64, kcp_read_float64, 0.1, "3f b9 99 99 99 99 99 9a");

    /* NaN never equals itself, so compare its bits after the round trip. */
    uint8_t nan_bits[8];
    unit_hex("7f f8 00 00 00 00 00 01", nan_bits, sizeof nan_bits);
    kcp_reader r;
    double d;
    kcp_reader_init(&r, nan_bits, sizeof nan_bits);
    assert_int_equal(kcp_read_float64(&r, "Nan", &d), KCP_OK);
    assert_true(d != d);
    uint8_t out[8];
    kcp_writer w;
    kcp_writer_init(&w, out, sizeof out);
    kcp_write_float64(&w, d);
    assert_memory_equal(out, nan_bits, sizeof out);
}

static void test_bool_writes_0_or_1_and_reads_any_nonzero_as_true(void **state)
{
    (void)state;
    CHECK_VALUE(bool, kcp_write_bool, kcp_read_bool, true, "01");
    CHECK_VALUE(bool, kcp_write_bool, kcp_read_bool, false, "00");
    unit_input in;
    bool b = false;
    unit_input_hex(&in, "02 ff");
    assert_int_equal(kcp_read_bool(&in.r, "Flag", &b), KCP_OK);
    assert_true(b);
    b = false;
    assert_int_equal(kcp_read_bool(&in.r, "Flag", &b), KCP_OK);
    assert_true(b);
    unit_input_free(&in);
}

static void test_uuid_round_trips_bytes_in_order(void **state)
{
    (void)state;
    kcp_uuid u, got;
    for (int i = 0; i < 16; i++)
        u.b[i] = (uint8_t)(0xf0 - i);
    uint8_t buf[16];
    kcp_writer w;
    kcp_reader r;
    ENCODE(w, r, buf, "f0 ef ee ed ec eb ea e9 e8 e7 e6 e5 e4 e3 e2 e1", kcp_write_uuid(&w, &u));
    assert_int_equal(kcp_read_uuid(&r, "TopicId", &got), KCP_OK);
    assert_memory_equal(got.b, u.b, 16);
    assert_int_equal(r.pos, 16);
}

/* ----------------------------------------------------------------- varints */

/* A varint check also holds the matching *_size() to the bytes written. */
#define CHECK_VARINT(T, write_fn, read_fn, size_fn, val, hex)                           \
    do {                                                                                  \
        CHECK_VALUE(T, write_fn, read_fn, val, hex);                                      \
        uint8_t s_[16];                                                                   \
        assert_int_equal(size_fn(val), unit_hex(hex, s_, sizeof s_));                     \
    } while (0)

static void test_uvarint_boundaries_and_known_bytes(void **state)
{
    (void)state;
#define UV(val, hex) CHECK_VARINT(uint32_t, kcp_write_uvarint, kcp_read_uvarint, kcp_uvarint_size, val, hex)
    UV(0, "00");
    UV(1, "01");
    UV(127, "7f");
    UV(128, "80 01");
    UV(300, "ac 02");
    UV(16383, "ff 7f");
    UV(16384, "80 80 01");
    UV((1u << 21) - 1, "ff ff 7f");
    UV(1u << 21, "80 80 80 01");
    UV((1u << 28) - 1, "ff ff ff 7f");
    UV(1u << 28, "80 80 80 80 01");
    UV((uint32_t)INT32_MAX, "ff ff ff ff 07");
    UV(UINT32_MAX, "ff ff ff ff 0f");
#undef UV
}

static void test_uvarint_accepts_padded_encoding_within_five_bytes(void **state)
{
    (void)state;
    /* Kafka's readUnsignedVarint accepts a zero value spread over 5 bytes. */
    unit_input in;
    uint32_t v = 1;
    unit_input_hex(&in, "80 80 80 80 00");
    assert_int_equal(kcp_read_uvarint(&in.r, "Len", &v), KCP_OK);
    assert_int_equal(v, 0);
    assert_int_equal(in.r.pos, 5);
    unit_input_free(&in);
}

static void test_varint_zigzag_boundaries_and_known_bytes(void **state)
{
    (void)state;
#define VI(val, hex) CHECK_VARINT(int32_t, kcp_write_varint, kcp_read_varint, kcp_varint_size, val, hex)
    VI(0, "00");
    VI(-1, "01");
    VI(1, "02");
    VI(-64, "7f");
    VI(64, "80 01");
    VI(127, "fe 01");
    VI(128, "80 02");
    VI(150, "ac 02");
    VI(1 << 28, "80 80 80 80 02");
    VI(-(1 << 28), "ff ff ff ff 01");
    VI(INT32_MAX, "fe ff ff ff 0f");
    VI(INT32_MIN, "ff ff ff ff 0f");
#undef VI
}

static void test_varlong_zigzag_boundaries_and_known_bytes(void **state)
{
    (void)state;
#define VL(val, hex) CHECK_VARINT(int64_t, kcp_write_varlong, kcp_read_varlong, kcp_varlong_size, val, hex)
    VL(0, "00");
    VL(-1, "01");
    VL(1, "02");
    VL(127, "fe 01");
    VL(128, "80 02");
    VL(INT64_C(1) << 28, "80 80 80 80 02");
    VL(INT32_MAX, "fe ff ff ff 0f");
    VL(INT32_MIN, "ff ff ff ff 0f");
    VL(INT64_C(1) << 35, "80 80 80 80 80 02");
    VL(INT64_MAX, "fe ff ff ff ff ff ff ff ff 01");
    VL(INT64_MIN, "ff ff ff ff ff ff ff ff ff 01");
#undef VL
}

typedef struct bad_varint {
    const char *hex;
    int err;
    size_t offset; /* read position when the problem is found */
} bad_varint;

static void test_bad_uvarint_is_refused(void **state)
{
    (void)state;
    static const bad_varint cases[] = {
        {"", KCP_ERR_TRUNCATED, 0},
        {"80", KCP_ERR_TRUNCATED, 1},
        {"ff ff ff ff", KCP_ERR_TRUNCATED, 4},
        /* Six bytes: the fifth still says "more follows". */
        {"80 80 80 80 80 00", KCP_ERR_VARINT, 5},
        {"ff ff ff ff ff 01", KCP_ERR_VARINT, 5},
        /* Fifth byte carries bits above bit 31. */
        {"ff ff ff ff 1f", KCP_ERR_VARINT, 5},
        {"80 80 80 80 10", KCP_ERR_VARINT, 5},
        {"80 80 80 80 70", KCP_ERR_VARINT, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unit_input in;
        uint32_t u = 7;
        int32_t s = 7;
        unit_input_hex(&in, cases[i].hex);
        unit_assert_read_error(&in.r, kcp_read_uvarint(&in.r, "Count", &u), cases[i].err, "Count",
                               cases[i].offset);
        assert_int_equal(u, 7); /* output untouched on failure */
        kcp_reader_init(&in.r, in.buf, in.len);
        unit_assert_read_error(&in.r, kcp_read_varint(&in.r, "Delta", &s), cases[i].err, "Delta",
                               cases[i].offset);
        assert_int_equal(s, 7);
        unit_input_free(&in);
    }
}

static void test_bad_varlong_is_refused(void **state)
{
    (void)state;
    static const bad_varint cases[] = {
        {"", KCP_ERR_TRUNCATED, 0},
        {"ff ff ff", KCP_ERR_TRUNCATED, 3},
        /* Eleven bytes. */
        {"80 80 80 80 80 80 80 80 80 80 00", KCP_ERR_VARINT, 10},
        /* Tenth byte carries bits above bit 63. */
        {"ff ff ff ff ff ff ff ff ff 02", KCP_ERR_VARINT, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unit_input in;
        int64_t v = 7;
        unit_input_hex(&in, cases[i].hex);
        unit_assert_read_error(&in.r, kcp_read_varlong(&in.r, "TimestampDelta", &v), cases[i].err,
                               "TimestampDelta", cases[i].offset);
        assert_int_equal(v, 7);
        unit_input_free(&in);
    }
}

/* ----------------------------------------------------- truncated fixed reads */

#define READ_ANY(name, T)                                                               \
    static int read_any_##name(kcp_reader *r, const char *field)                         \
    {                                                                                     \
        T v;                                                                              \
        return kcp_read_##name(r, field, &v);                                             \
    }
READ_ANY(int8, int8_t)
READ_ANY(bool, bool)
READ_ANY(int16, int16_t)
READ_ANY(uint16, uint16_t)
READ_ANY(int32, int32_t)
READ_ANY(uint32, uint32_t)
READ_ANY(int64, int64_t)
READ_ANY(float64, double)
READ_ANY(uuid, kcp_uuid)

static void test_truncated_fixed_width_reads_fail_at_the_field_start(void **state)
{
    (void)state;
    static const struct {
        const char *field;
        size_t width;
        int (*read)(kcp_reader *, const char *);
    } reads[] = {
        {"Int8Field", 1, read_any_int8},     {"BoolField", 1, read_any_bool},
        {"Int16Field", 2, read_any_int16},   {"Uint16Field", 2, read_any_uint16},
        {"Int32Field", 4, read_any_int32},   {"Uint32Field", 4, read_any_uint32},
        {"Int64Field", 8, read_any_int64},   {"Float64Field", 8, read_any_float64},
        {"UuidField", 16, read_any_uuid},
    };
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        /* One byte of something before the field, then every short length. */
        for (size_t have = 0; have < reads[i].width; have++) {
            uint8_t *buf = calloc(1, 1 + have);
            assert_non_null(buf);
            kcp_reader r;
            int8_t lead;
            kcp_reader_init(&r, buf, 1 + have);
            assert_int_equal(kcp_read_int8(&r, "Lead", &lead), KCP_OK);
            int rc = reads[i].read(&r, reads[i].field);
            unit_assert_read_error(&r, rc, KCP_ERR_TRUNCATED, reads[i].field, 1);
            char why[64];
            snprintf(why, sizeof why, "needs %zu bytes, %zu left", reads[i].width, have);
            unit_assert_contains(r.errstr, why);
            assert_int_equal(r.pos, 1);
            free(buf);
        }
    }
}

/* ------------------------------------------------------- strings and bytes */

static void check_string(bool compact, const char *value, const char *hex)
{
    kcp_str s = kcp_str_c(value), got;
    uint8_t buf[64];
    kcp_writer w;
    kcp_reader r;
    ENCODE(w, r, buf, hex, kcp_write_string(&w, compact, s));
    assert_int_equal(kcp_string_size(compact, s), w.pos);
    assert_int_equal(kcp_read_string(&r, "Name", compact, true, &got), KCP_OK);
    assert_true(kcp_str_eq(got, s));
    assert_int_equal(r.pos, w.pos);
    if (s.len > 0) /* a view into the input, not a copy */
        assert_ptr_equal(got.ptr, (const char *)buf + (w.pos - (size_t)s.len));
}

static void test_strings_classic_compact_nullable(void **state)
{
    (void)state;
    check_string(false, "abc", "00 03 61 62 63");
    check_string(false, "", "00 00");
    check_string(false, NULL, "ff ff");
    check_string(true, "abc", "04 61 62 63");
    check_string(true, "", "01");
    check_string(true, NULL, "00");
    check_string(true, "\xc3\xa9t\xc3\xa9", "06 c3 a9 74 c3 a9");
}

static void check_bytes(bool compact, const uint8_t *data, int32_t len, const char *hex)
{
    kcp_bytes b = {data, len}, got;
    uint8_t buf[64];
    kcp_writer w;
    kcp_reader r;
    ENCODE(w, r, buf, hex, kcp_write_bytes(&w, compact, b));
    assert_int_equal(kcp_bytes_size(compact, b), w.pos);
    assert_int_equal(kcp_read_bytes(&r, "AuthBytes", compact, true, &got), KCP_OK);
    assert_true(kcp_bytes_eq(got, b));
    assert_int_equal(r.pos, w.pos);
}

static void test_bytes_classic_compact_nullable(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x00, 0xff, 0x80};
    check_bytes(false, data, 3, "00 00 00 03 00 ff 80");
    check_bytes(false, data, 0, "00 00 00 00");
    check_bytes(false, NULL, -1, "ff ff ff ff");
    check_bytes(true, data, 3, "04 00 ff 80");
    check_bytes(true, data, 0, "01");
    check_bytes(true, NULL, -1, "00");
}

static void test_string_of_32767_bytes_is_the_longest_accepted(void **state)
{
    (void)state;
    /* Kafka strings have an int16 length even when compact. */
    const size_t body = 32768;
    uint8_t *buf = malloc(3 + body);
    assert_non_null(buf);
    memset(buf, 'x', 3 + body);
    kcp_writer w;
    kcp_writer_init(&w, buf, 3);
    kcp_write_uvarint(&w, (uint32_t)body + 1);
    assert_int_equal(w.pos, 3);

    kcp_reader r;
    kcp_str s;
    kcp_reader_init(&r, buf, 3 + body);
    unit_assert_read_error(&r, kcp_read_string(&r, "Host", true, false, &s), KCP_ERR_LENGTH,
                           "Host", 3);

    kcp_writer_init(&w, buf, 3);
    kcp_write_uvarint(&w, (uint32_t)body);
    kcp_reader_init(&r, buf, 3 + body - 1);
    assert_int_equal(kcp_read_string(&r, "Host", true, false, &s), KCP_OK);
    assert_int_equal(s.len, INT16_MAX);
    free(buf);
}

/* One malformed length prefix and where it must fail. */
typedef struct bad_len {
    const char *hex;
    bool compact;
    bool nullable;
    int err;
    size_t offset;
} bad_len;

static void expect_bad_string(const bad_len *c)
{
    unit_input in;
    kcp_str s;
    unit_input_hex(&in, c->hex);
    unit_assert_read_error(&in.r, kcp_read_string(&in.r, "ClientId", c->compact, c->nullable, &s),
                           c->err, "ClientId", c->offset);
    unit_input_free(&in);
}

static void expect_bad_bytes(const bad_len *c)
{
    unit_input in;
    kcp_bytes b;
    unit_input_hex(&in, c->hex);
    unit_assert_read_error(&in.r, kcp_read_bytes(&in.r, "AuthBytes", c->compact, c->nullable, &b),
                           c->err, "AuthBytes", c->offset);
    unit_input_free(&in);
}

static void expect_bad_array(const bad_len *c, size_t min_elem)
{
    unit_input in;
    int32_t n = 99;
    unit_input_hex(&in, c->hex);
    unit_assert_read_error(&in.r,
                           kcp_read_array_len(&in.r, "Topics", c->compact, c->nullable, min_elem, &n),
                           c->err, "Topics", c->offset);
    assert_int_equal(n, 99);
    unit_input_free(&in);
}

static void test_bad_string_lengths_are_refused(void **state)
{
    (void)state;
    static const bad_len cases[] = {
        {"ff fe", false, true, KCP_ERR_LENGTH, 2},          /* classic -2 */
        {"80 00", false, true, KCP_ERR_LENGTH, 2},          /* classic INT16_MIN */
        {"00 05 61 62", false, true, KCP_ERR_LENGTH, 2},    /* beyond the bytes left */
        {"06 61 62", true, true, KCP_ERR_LENGTH, 1},
        {"ff ff ff ff 0f", true, true, KCP_ERR_LENGTH, 5},  /* 2^32-1: no allocation */
        {"80 80 80 80 08", true, true, KCP_ERR_LENGTH, 5},  /* 2^31 */
        {"ff ff ff ff 07", true, true, KCP_ERR_LENGTH, 5},  /* INT32_MAX */
        {"00 03 61", false, false, KCP_ERR_LENGTH, 2},
        {"61", false, true, KCP_ERR_TRUNCATED, 0},          /* length itself cut */
        {"ff ff", false, false, KCP_ERR_NULL, 2},           /* null, not nullable */
        {"00", true, false, KCP_ERR_NULL, 1},
        {"ff ff ff ff ff", true, true, KCP_ERR_VARINT, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad_string(&cases[i]);
}

static void test_bad_bytes_lengths_are_refused(void **state)
{
    (void)state;
    static const bad_len cases[] = {
        {"ff ff ff fe", false, true, KCP_ERR_LENGTH, 4},    /* classic -2 */
        {"80 00 00 00", false, true, KCP_ERR_LENGTH, 4},    /* classic INT32_MIN */
        {"7f ff ff ff 00", false, true, KCP_ERR_LENGTH, 4}, /* beyond the bytes left */
        {"ff ff ff ff 0f", true, true, KCP_ERR_LENGTH, 5},  /* 2^32-1: no allocation */
        {"03 61", true, true, KCP_ERR_LENGTH, 1},
        {"ff ff ff", false, true, KCP_ERR_TRUNCATED, 0},
        {"ff ff ff ff", false, false, KCP_ERR_NULL, 4},
        {"00", true, false, KCP_ERR_NULL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad_bytes(&cases[i]);
}

/* ------------------------------------------------------------------ arrays */

/* Writes an int32 array with the given prefix, checks the bytes, and reads
 * it back element by element. */
static void check_int32_array(bool compact, const int32_t *v, int32_t n, const char *hex)
{
    uint8_t buf[64];
    kcp_writer w;
    kcp_reader r;
    ENCODE(w, r, buf, hex, {
        kcp_write_array_len(&w, compact, n);
        for (int32_t i = 0; i < n; i++)
            kcp_write_int32(&w, v[i]);
    });
    assert_int_equal(kcp_len32_size(compact, n) + (n > 0 ? 4 * (size_t)n : 0), w.pos);
    int32_t got_n = 99;
    assert_int_equal(kcp_read_array_len(&r, "ReplicaNodes", compact, true, 4, &got_n), KCP_OK);
    assert_int_equal(got_n, n);
    for (int32_t i = 0; i < n; i++) {
        int32_t x;
        assert_int_equal(kcp_read_int32(&r, "ReplicaNodes", &x), KCP_OK);
        assert_int_equal(x, v[i]);
    }
    assert_int_equal(r.pos, w.pos);
}

static void test_arrays_classic_compact_nullable(void **state)
{
    (void)state;
    static const int32_t nodes[] = {1, -1, 258};
    check_int32_array(false, nodes, 3, "00 00 00 03 00 00 00 01 ff ff ff ff 00 00 01 02");
    check_int32_array(false, nodes, 0, "00 00 00 00");
    check_int32_array(false, NULL, -1, "ff ff ff ff");
    check_int32_array(true, nodes, 3, "04 00 00 00 01 ff ff ff ff 00 00 01 02");
    check_int32_array(true, nodes, 0, "01");
    check_int32_array(true, NULL, -1, "00");
}

static void test_bad_array_counts_are_refused_before_allocation(void **state)
{
    (void)state;
    static const bad_len cases[] = {
        {"ff ff ff fe", false, true, KCP_ERR_LENGTH, 4},    /* classic -2 */
        {"ff ff ff ff 0f", true, true, KCP_ERR_LENGTH, 5},  /* 2^32-1 */
        {"ff ff ff ff 07", true, true, KCP_ERR_LENGTH, 5},  /* INT32_MAX - 1 elements */
        /* Three 4-byte elements announced, eight bytes left. */
        {"00 00 00 03 00 00 00 01 00 00 00 02", false, true, KCP_ERR_LENGTH, 4},
        {"04 00 00 00 01 00 00 00 02", true, true, KCP_ERR_LENGTH, 1},
        {"7f ff ff ff", false, true, KCP_ERR_LENGTH, 4},
        {"ff ff ff ff", false, false, KCP_ERR_NULL, 4},
        {"00", true, false, KCP_ERR_NULL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad_array(&cases[i], 4);

    /* The message says how many elements were announced. */
    unit_input in;
    int32_t n;
    unit_input_hex(&in, "00 00 00 03 00 00 00 01 00 00 00 02");
    kcp_read_array_len(&in.r, "Topics", false, false, 4, &n);
    unit_assert_contains(in.r.errstr, "3 elements");
    unit_input_free(&in);

    /* Two elements in eight bytes fit; a minimum size of 0 still counts as 1. */
    unit_input_hex(&in, "00 00 00 02 00 00 00 01 00 00 00 02");
    assert_int_equal(kcp_read_array_len(&in.r, "Topics", false, false, 4, &n), KCP_OK);
    assert_int_equal(n, 2);
    unit_input_free(&in);
    static const bad_len zero_min = {"00 00 00 03 01 02", false, false, KCP_ERR_LENGTH, 4};
    expect_bad_array(&zero_min, 0);
}

/* ------------------------------------------------------------------- UTF-8 */

static void test_invalid_utf8_strings_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "c0 80",          /* overlong NUL */
        "c1 bf",          /* overlong 2-byte */
        "e0 80 80",       /* overlong 3-byte */
        "e0 9f bf",       /* overlong: U+07FF in three bytes */
        "f0 80 80 80",    /* overlong 4-byte */
        "f0 8f bf bf",    /* overlong: U+FFFF in four bytes */
        "ed a0 80",       /* surrogate U+D800 */
        "ed bf bf",       /* surrogate U+DFFF */
        "ed a0 bd ed b8 80", /* surrogate pair spelled out (CESU-8) */
        "f4 90 80 80",    /* above U+10FFFF */
        "c3",             /* truncated 2-byte */
        "e2 82",          /* truncated 3-byte */
        "f0 9f 98",       /* truncated 4-byte */
        "61 e2 82",       /* truncated at the end after ASCII */
        "80",             /* lone continuation byte */
        "c3 28",          /* lead byte followed by ASCII */
        "f5 80 80 80", "f6", "f7", "f8", "f9", "fa", "fb", "fc", "fd", "fe", "ff",
        /* A bad byte after the eight-byte ASCII fast path. */
        "61 62 63 64 65 66 67 68 69 ff",
        "61 62 63 64 65 66 67 68 ed a0 80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t raw[32];
        size_t n = unit_hex(bad[i], raw, sizeof raw);
        if (kcp_utf8_valid((const char *)raw, n))
            fail_msg("%s accepted as UTF-8", bad[i]);

        /* Through the reader: compact length n+1, then the bytes. */
        uint8_t *buf = malloc(n + 1);
        assert_non_null(buf);
        buf[0] = (uint8_t)(n + 1);
        memcpy(buf + 1, raw, n);
        kcp_reader r;
        kcp_str s;
        kcp_reader_init(&r, buf, n + 1);
        unit_assert_read_error(&r, kcp_read_string(&r, "ClientSoftwareName", true, false, &s),
                               KCP_ERR_UTF8, "ClientSoftwareName", 1);
        free(buf);
    }
}

static void test_valid_utf8_strings_are_accepted(void **state)
{
    (void)state;
    static const char *const good[] = {
        "",
        "61 62 63",
        "c2 80",                   /* U+0080, smallest 2-byte */
        "c3 a9",                   /* é */
        "df bf",                   /* U+07FF */
        "e0 a0 80",                /* U+0800, smallest 3-byte */
        "e2 82 ac",                /* € */
        "ed 9f bf",                /* U+D7FF, just below the surrogates */
        "ee 80 80",                /* U+E000, just above them */
        "ef bf bf",                /* U+FFFF */
        "f0 90 80 80",             /* U+10000, smallest 4-byte */
        "f0 9f 98 80",             /* emoji */
        "f4 8f bf bf",             /* U+10FFFF, the largest */
        "61 62 63 64 65 66 67 68 c3 a9 61 62 63 64 65 66 67 68 e2 82 ac",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint8_t raw[32];
        size_t n = unit_hex(good[i], raw, sizeof raw);
        if (!kcp_utf8_valid((const char *)raw, n))
            fail_msg("%s refused as UTF-8", good[i]);
        uint8_t buf[40];
        buf[0] = 0;
        buf[1] = (uint8_t)n;
        memcpy(buf + 2, raw, n);
        kcp_reader r;
        kcp_str s;
        kcp_reader_init(&r, buf, n + 2);
        assert_int_equal(kcp_read_string(&r, "Principal", false, false, &s), KCP_OK);
        assert_int_equal(s.len, (int32_t)n);
    }
}

/* Reads s[0..n) as a compact (or classic) string from a heap buffer of
 * exactly its size; returns the reader's result. */
static int read_string_of(const uint8_t *s, size_t n, bool compact)
{
    size_t prefix = compact ? kcp_uvarint_size((uint32_t)n + 1) : 2;
    uint8_t *buf = malloc(prefix + n);
    assert_non_null(buf);
    kcp_writer w;
    kcp_writer_init(&w, buf, prefix);
    kcp_write_len16(&w, compact, (int32_t)n);
    assert_int_equal(w.err, KCP_OK);
    memcpy(buf + prefix, s, n);
    kcp_reader r;
    kcp_str out;
    kcp_reader_init(&r, buf, prefix + n);
    int rc = kcp_read_string(&r, "Name", compact, false, &out);
    if (rc == KCP_OK) {
        assert_int_equal(out.len, (int32_t)n);
        assert_int_equal(r.pos, prefix + n);
    } else {
        assert_int_equal(r.err, rc);
        unit_assert_contains(r.errstr, "field Name at offset");
    }
    free(buf);
    return rc;
}

static void test_one_bad_byte_anywhere_in_a_string_is_found(void **state)
{
    (void)state;
    /* Every length around the eight-byte word checks and the one-byte
     * compact length (126 bytes is the longest; 127 needs two), with one
     * invalid byte, then one valid two-byte character, at each position. */
    uint8_t s[160];
    for (size_t n = 1; n <= 130; n++) {
        for (int compact = 0; compact <= 1; compact++) {
            memset(s, 'a', n);
            assert_int_equal(read_string_of(s, n, compact), KCP_OK);
            for (size_t at = 0; at < n; at++) {
                memset(s, 'a', n);
                s[at] = 0xff;
                if (read_string_of(s, n, compact) != KCP_ERR_UTF8)
                    fail_msg("0xff at %zu of %zu bytes (compact %d) accepted", at, n, compact);
                if (kcp_utf8_valid((const char *)s, n))
                    fail_msg("kcp_utf8_valid: 0xff at %zu of %zu bytes accepted", at, n);
                if (at + 1 < n) {
                    s[at] = 0xc3;
                    s[at + 1] = 0xa9;
                    if (read_string_of(s, n, compact) != KCP_OK)
                        fail_msg("c3 a9 at %zu of %zu bytes (compact %d) refused", at, n, compact);
                }
            }
        }
    }
}

/* ------------------------------------------------------------ reader state */

static void test_reader_keeps_the_first_error_and_prefixes_the_message(void **state)
{
    (void)state;
    unit_input in;
    int32_t x;
    unit_input_hex(&in, "00 01");
    in.r.what = "MetadataResponse v12";
    unit_assert_read_error(&in.r, kcp_read_int32(&in.r, "ThrottleTimeMs", &x), KCP_ERR_TRUNCATED,
                           "ThrottleTimeMs", 0);
    unit_assert_contains(in.r.errstr, "MetadataResponse v12: field ThrottleTimeMs at offset 0:");
    /* A later failure returns the first error and keeps its message. */
    assert_int_equal(kcp_reader_fail(&in.r, KCP_ERR_UTF8, "Other", "later"), KCP_ERR_TRUNCATED);
    unit_assert_contains(in.r.errstr, "ThrottleTimeMs");
    assert_null(strstr(in.r.errstr, "Other"));
    unit_input_free(&in);
}

static void test_reader_message_is_bounded_for_long_field_names(void **state)
{
    (void)state;
    char field[600];
    memset(field, 'F', sizeof field - 1);
    field[sizeof field - 1] = '\0';
    kcp_reader r;
    kcp_reader_init(&r, "", 0);
    assert_int_equal(kcp_reader_fail(&r, KCP_ERR_LENGTH, field, "%s", field), KCP_ERR_LENGTH);
    assert_int_equal(r.err, KCP_ERR_LENGTH);
    assert_true(strlen(r.errstr) < sizeof r.errstr);
}

static void test_skip_past_the_end_is_refused(void **state)
{
    (void)state;
    unit_input in;
    kcp_bytes view;
    unit_input_hex(&in, "01 02 03");
    assert_int_equal(kcp_read_skip(&in.r, "Data", 2, &view), KCP_OK);
    assert_int_equal(view.len, 2);
    assert_ptr_equal(view.ptr, in.buf);
    unit_assert_read_error(&in.r, kcp_read_skip(&in.r, "Data", 2, NULL), KCP_ERR_TRUNCATED, "Data", 2);
    unit_input_free(&in);
}

static void test_every_error_code_has_its_own_name(void **state)
{
    (void)state;
    static const int codes[] = {KCP_OK, KCP_ERR_TRUNCATED, KCP_ERR_VARINT, KCP_ERR_LENGTH,
                                KCP_ERR_UTF8, KCP_ERR_NULL, KCP_ERR_VERSION, KCP_ERR_FRAME_SIZE,
                                KCP_ERR_NOMEM, KCP_ERR_TAGS, KCP_ERR_SPACE, KCP_ERR_UNSUPPORTED};
    const size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = kcp_err_name(12345);
    assert_non_null(unknown);
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(kcp_err_name(codes[i]), unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(kcp_err_name(codes[i]), kcp_err_name(codes[j]));
    }
}

/* ------------------------------------------------------------------ writer */

/* Runs one write into a buffer one byte too small and checks the error is
 * reported and nothing lands past the capacity. */
#define EXPECT_SPACE(need, ...)                                                           \
    do {                                                                                  \
        uint8_t b_[64];                                                                   \
        kcp_writer w_;                                                                    \
        memset(b_, 0xee, sizeof b_);                                                      \
        kcp_writer_init(&w_, b_, (need) - 1);                                             \
        __VA_ARGS__;                                                                      \
        assert_int_equal(w_.err, KCP_ERR_SPACE);                                          \
        assert_true(w_.pos <= w_.cap);                                                    \
        for (size_t i_ = (need) - 1; i_ < sizeof b_; i_++)                                \
            assert_int_equal(b_[i_], 0xee);                                               \
    } while (0)

static void test_writer_reports_space_when_one_byte_short(void **state)
{
    (void)state;
    static const uint8_t data[5] = {1, 2, 3, 4, 5};
    kcp_uuid u = {{0}};
    EXPECT_SPACE(1, kcp_write_int8(&w_, 1));
    EXPECT_SPACE(1, kcp_write_bool(&w_, true));
    EXPECT_SPACE(2, kcp_write_int16(&w_, 1));
    EXPECT_SPACE(2, kcp_write_uint16(&w_, 1));
    EXPECT_SPACE(4, kcp_write_int32(&w_, 1));
    EXPECT_SPACE(4, kcp_write_uint32(&w_, 1));
    EXPECT_SPACE(8, kcp_write_int64(&w_, 1));
    EXPECT_SPACE(8, kcp_write_float64(&w_, 1.0));
    EXPECT_SPACE(16, kcp_write_uuid(&w_, &u));
    EXPECT_SPACE(5, kcp_write_uvarint(&w_, UINT32_MAX));
    EXPECT_SPACE(2, kcp_write_varint(&w_, 64));
    EXPECT_SPACE(10, kcp_write_varlong(&w_, INT64_MIN));
    EXPECT_SPACE(7, kcp_write_string(&w_, false, kcp_str_c("abcde")));
    EXPECT_SPACE(6, kcp_write_string(&w_, true, kcp_str_c("abcde")));
    EXPECT_SPACE(9, kcp_write_bytes(&w_, false, ((kcp_bytes){data, 5})));
    EXPECT_SPACE(4, kcp_write_array_len(&w_, false, 3));
    EXPECT_SPACE(5, kcp_write_raw(&w_, data, 5));
}

static void test_writer_error_is_sticky(void **state)
{
    (void)state;
    uint8_t buf[8];
    kcp_writer w;
    kcp_writer_init(&w, buf, 3);
    kcp_write_int32(&w, 1);
    assert_int_equal(w.err, KCP_ERR_SPACE);
    /* Writes that would fit do not clear the error. */
    kcp_write_int8(&w, 1);
    kcp_write_int16(&w, 2);
    assert_int_equal(w.err, KCP_ERR_SPACE);
    assert_true(w.pos <= w.cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_width_integers_round_trip_big_endian),
        cmocka_unit_test(test_float64_round_trips_as_ieee754_big_endian),
        cmocka_unit_test(test_bool_writes_0_or_1_and_reads_any_nonzero_as_true),
        cmocka_unit_test(test_uuid_round_trips_bytes_in_order),
        cmocka_unit_test(test_uvarint_boundaries_and_known_bytes),
        cmocka_unit_test(test_uvarint_accepts_padded_encoding_within_five_bytes),
        cmocka_unit_test(test_varint_zigzag_boundaries_and_known_bytes),
        cmocka_unit_test(test_varlong_zigzag_boundaries_and_known_bytes),
        cmocka_unit_test(test_bad_uvarint_is_refused),
        cmocka_unit_test(test_bad_varlong_is_refused),
        cmocka_unit_test(test_truncated_fixed_width_reads_fail_at_the_field_start),
        cmocka_unit_test(test_strings_classic_compact_nullable),
        cmocka_unit_test(test_bytes_classic_compact_nullable),
        cmocka_unit_test(test_string_of_32767_bytes_is_the_longest_accepted),
        cmocka_unit_test(test_bad_string_lengths_are_refused),
        cmocka_unit_test(test_bad_bytes_lengths_are_refused),
        cmocka_unit_test(test_arrays_classic_compact_nullable),
        cmocka_unit_test(test_bad_array_counts_are_refused_before_allocation),
        cmocka_unit_test(test_invalid_utf8_strings_are_refused),
        cmocka_unit_test(test_valid_utf8_strings_are_accepted),
        cmocka_unit_test(test_one_bad_byte_anywhere_in_a_string_is_found),
        cmocka_unit_test(test_reader_keeps_the_first_error_and_prefixes_the_message),
        cmocka_unit_test(test_reader_message_is_bounded_for_long_field_names),
        cmocka_unit_test(test_skip_past_the_end_is_refused),
        cmocka_unit_test(test_every_error_code_has_its_own_name),
        cmocka_unit_test(test_writer_reports_space_when_one_byte_short),
        cmocka_unit_test(test_writer_error_is_sticky),
    };
    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
