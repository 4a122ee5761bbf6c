/*
 * support_hex.h: hex byte text for test vectors, shared by the unit and the
 * golden tests so that both read bytes by the same rules.
 *
 * A byte is two adjacent hex digits; bytes are separated by whitespace
 * (space, tab, CR, LF), and '#' starts a comment that runs to the end of
 * the line.
 */
#ifndef SUPPORT_HEX_H
#define SUPPORT_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Parses hex text[0..len) into a malloc'd buffer (*out, caller frees; never
 * NULL on success, even for zero bytes) of *out_len bytes. Returns 0, or -1
 * with errstr naming the line and the problem. */
int support_hex_parse(const char *text, size_t len, uint8_t **out, size_t *out_len, char *errstr,
                      size_t errstr_size);

#endif
