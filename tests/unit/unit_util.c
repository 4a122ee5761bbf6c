/* Helpers shared by the protocol unit tests (see unit_util.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support_hex.h"
#include "unit_util.h"

size_t unit_hex(const char *hex, uint8_t *out, size_t cap)
{
    uint8_t *bytes = NULL;
    size_t n = 0;
    char why[128];
    if (support_hex_parse(hex, strlen(hex), &bytes, &n, why, sizeof why))
        fail_msg("bad hex test vector \"%s\": %s", hex, why);
    if (n <= cap)
        memcpy(out, bytes, n);
    free(bytes);
    if (n > cap)
        fail_msg("hex test vector \"%s\" exceeds %zu bytes", hex, cap);
    return n;
}

void unit_input_hex(unit_input *in, const char *hex)
{
    uint8_t tmp[512];
    in->len = unit_hex(hex, tmp, sizeof tmp);
    in->buf = malloc(in->len ? in->len : 1);
    assert_non_null(in->buf);
    memcpy(in->buf, tmp, in->len);
    kcp_reader_init(&in->r, in->buf, in->len);
}

void unit_input_free(unit_input *in)
{
    free(in->buf);
    in->buf = NULL;
}

static void format_hex(const uint8_t *buf, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < len && o + 4 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, i ? " %02x" : "%02x", buf[i]);
}

void unit_assert_bytes(const uint8_t *buf, size_t len, const char *hex)
{
    uint8_t want[512];
    size_t n = unit_hex(hex, want, sizeof want);
    if (n != len || (n && memcmp(buf, want, n) != 0)) {
        char got[1600];
        format_hex(buf, len, got, sizeof got);
        fail_msg("bytes differ\n  want: %s\n  got:  %s", hex, got);
    }
}

void unit_assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

void unit_assert_read_error(const kcp_reader *r, int rc, int err, const char *field,
                            size_t offset)
{
    if (rc != err || r->err != err)
        fail_msg("want %s (%d), got rc %d / reader %d: %s", kcp_err_name(err), err, rc, r->err,
                 r->errstr);
    char where[160];
    snprintf(where, sizeof where, "field %s at offset %zu:", field, offset);
    unit_assert_contains(r->errstr, where);
}
