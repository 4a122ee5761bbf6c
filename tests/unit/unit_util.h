/*
 * unit_util.h: helpers shared by the hand-written protocol unit tests.
 *
 * Include after <cmocka.h>. Byte strings are written in hex ("ac 02") so each
 * test reads like the wire dump it checks.
 */
#ifndef UNIT_UTIL_H
#define UNIT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "kcp_wire.h"

/* Parses hex bytes (as support_hex_parse() reads them) into out; fails the
 * test on bad input or overflow. Returns the byte count. */
size_t unit_hex(const char *hex, uint8_t *out, size_t cap);

/* Input bytes copied to the heap in a buffer of exactly their length, so
 * that AddressSanitizer reports any read past the end, with a reader over
 * them. */
typedef struct unit_input {
    uint8_t *buf;
    size_t len;
    kcp_reader r;
} unit_input;

void unit_input_hex(unit_input *in, const char *hex);
void unit_input_free(unit_input *in);

/* Fails the test unless buf[0..len) equals the bytes spelled by hex. */
void unit_assert_bytes(const uint8_t *buf, size_t len, const char *hex);

/* Asserts that a read failed with err, that the reader kept err, and that its
 * message names the field and the byte offset ("field F at offset N"). */
void unit_assert_read_error(const kcp_reader *r, int rc, int err, const char *field,
                            size_t offset);

/* Fails the test unless haystack contains needle (message shows both). */
void unit_assert_contains(const char *haystack, const char *needle);

#endif
