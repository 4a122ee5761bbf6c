/* Hex vector reader for the golden tests (format in golden_fixture.h). */
#include "golden_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int golden_parse_hex(const char *text, size_t len, uint8_t **out, size_t *out_len,
                     char *errstr, size_t errstr_size)
{
    /* Two hex digits make at least one byte's worth of text, so len / 2
     * bytes always suffice. */
    uint8_t *buf = malloc(len / 2 + 1);
    size_t n = 0, line = 1;
    if (!buf) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n') {
            line++;
        } else if (c == '#') {
            while (i + 1 < len && text[i + 1] != '\n')
                i++;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            continue;
        } else {
            /* A byte is exactly two adjacent digits: a lone digit means a
             * typo that would otherwise shift every byte after it. */
            int hi = hex_value(c);
            int lo = i + 1 < len ? hex_value(text[i + 1]) : -1;
            int after = i + 2 < len ? hex_value(text[i + 2]) : -1;
            if (hi < 0 || lo < 0 || after >= 0) {
                snprintf(errstr, errstr_size,
                         "line %zu: expected a byte as two hex digits near '%c'", line, c);
                free(buf);
                return -1;
            }
            buf[n++] = (uint8_t)(hi << 4 | lo);
            i++;
        }
    }
    *out = buf;
    *out_len = n;
    return 0;
}

int golden_load(const char *dir, const char *name, uint8_t **out, size_t *out_len,
                char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            char *bigger = realloc(text, cap);
            if (!bigger) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                free(text);
                fclose(f);
                return -1;
            }
            text = bigger;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        snprintf(errstr, errstr_size, "%s: read error", path);
        free(text);
        return -1;
    }
    char why[256];
    int rc = golden_parse_hex(text, len, out, out_len, why, sizeof why);
    if (rc)
        snprintf(errstr, errstr_size, "%s: %s", path, why);
    free(text);
    return rc;
}
