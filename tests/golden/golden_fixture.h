/*
 * golden_fixture.h: reads the hand-written hex vectors in vectors/.
 *
 * A vector file holds hex bytes (two digits each) separated by any
 * whitespace, with '#' starting a comment that runs to the end of the line.
 */
#ifndef GOLDEN_FIXTURE_H
#define GOLDEN_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* Parses hex text[0..len) into a malloc'd buffer (*out, caller frees; never
 * NULL on success, even for zero bytes) of *out_len bytes. Returns 0, or -1
 * with errstr naming the line and the problem. */
int golden_parse_hex(const char *text, size_t len, uint8_t **out, size_t *out_len,
                     char *errstr, size_t errstr_size);

/* Reads dir/name and parses it as above. Returns 0 or -1 with errstr set. */
int golden_load(const char *dir, const char *name, uint8_t **out, size_t *out_len,
                char *errstr, size_t errstr_size);

#endif
