/*
 * golden_fixture.h: reads the hand-written hex vectors in vectors/.
 *
 * A vector file holds hex bytes (two digits each) separated by any
 * whitespace, with '#' starting a comment that runs to the end of the line:
 * the text support_hex_parse() reads.
 */
#ifndef GOLDEN_FIXTURE_H
#define GOLDEN_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "support_hex.h"

/* Reads dir/name and parses it with support_hex_parse(). Returns 0 or -1
 * with errstr set. */
int golden_load(const char *dir, const char *name, uint8_t **out, size_t *out_len,
                char *errstr, size_t errstr_size);

#endif
