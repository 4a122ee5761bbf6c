/*
 * kc_output.h: a view printed as a table for people, one JSON object for
 * scripts, or CSV (RFC 4180). The JSON object is documented in
 * kafka-connections(1), "JSON OUTPUT"; its keys only ever get added to.
 */
#ifndef KC_OUTPUT_H
#define KC_OUTPUT_H

#include "kc_changes.h"
#include "kc_columns.h"
#include "kc_text.h"
#include "kc_view.h"

#include <stdbool.h>
#include <stdint.h>

/* Bumped only if a key changes meaning or disappears. */
#define KC_JSON_SCHEMA_VERSION 1

typedef struct kc_output_opts {
    int format;           /* enum kc_output */
    const int *columns;   /* table and CSV columns; NULL = the defaults */
    size_t n_columns;
    bool terminal;        /* stdout is a terminal: CSV escapes control characters too */
    bool complete;        /* no broker's answer was missing or partial (kc_exit.h) */
    int64_t generated_at; /* ms since the epoch, the JSON "generated_at" */
    const kc_changes *changes; /* --watch: the JSON "changes"; NULL otherwise */
} kc_output_opts;

/* Writes v to b (which may stream to a FILE). */
void kc_output_write(kc_buf *b, const kc_view *v, const kc_output_opts *o);

/* The parts, for --watch and for tests. */
void kc_output_json(kc_buf *b, const kc_view *v, const kc_output_opts *o);
void kc_output_csv(kc_buf *b, const kc_view *v, const kc_output_opts *o);
void kc_output_table(kc_buf *b, const kc_view *v, const kc_output_opts *o);

/* One value as table or CSV text (for_csv) and as JSON. */
void kc_value_text(kc_buf *b, const kc_value *v, bool for_csv);
void kc_value_json(kc_buf *b, const kc_value *v);

#endif
