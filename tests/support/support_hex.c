/* Hex byte text for test vectors (format in support_hex.h). */
#include "support_hex.h"

#include <stdio.h>
#include <stdlib.h>

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

int support_hex_parse(const char *text, size_t len, uint8_t **out, size_t *out_len, char *errstr,
                      size_t errstr_size)
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
