/*
 * kc_columns.h: every field kafka-connections can show, one table for
 * connection rows and one for groups. Each column has one getter, and the
 * table, CSV and JSON writers and --sort all go through it, so adding a
 * field is one line here. Column names are the JSON keys (snake_case);
 * table headers are the same names upper-cased.
 */
#ifndef KC_COLUMNS_H
#define KC_COLUMNS_H

#include "kc_view.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kc_value_kind {
    KC_V_NULL = 0,  /* absent: JSON null, empty CSV field, "-" in a table */
    KC_V_INT,       /* i */
    KC_V_BOOL,      /* i: 0 or 1 */
    KC_V_STR,       /* name.a */
    KC_V_NAME,      /* name: a, or a/b */
    KC_V_TIME,      /* i: ms since the epoch, RFC 3339 UTC */
    KC_V_DURATION,  /* i: ms, for people (5m03s) */
    KC_V_ENDPOINT,  /* name.a host and i port: host:port, [v6]:port */
    KC_V_NAMES,     /* names: a list */
    KC_V_NODES      /* nodes[0..n): a list of node ids */
};

typedef struct kc_value {
    int kind;
    int64_t i;
    kc_name name;
    const kc_names *names;
    const int32_t *nodes;
    size_t n;
    char scratch[24]; /* text a getter had to make up (an unknown state's number) */
} kc_value;

/* Fills v for obj (a kc_row or a kc_group). */
typedef void (*kc_getter)(const void *obj, kc_value *v);

typedef struct kc_column {
    const char *name;
    kc_getter get;
    bool desc_first; /* --sort on it starts with the largest (counts, idle) */
    bool in_json;    /* a key of the JSON connection object */
    unsigned groups; /* group columns: bit (1 << kind) for each --group-by it applies to */
} kc_column;

extern const kc_column kc_conn_columns[];
extern const size_t kc_n_conn_columns;
extern const kc_column kc_group_columns[];
extern const size_t kc_n_group_columns;

/* The column table of a view: connection rows for KC_GROUP_NONE, groups
 * otherwise. */
const kc_column *kc_view_columns(int group_by, size_t *n);

/* Finds a column of that table by name; for groups, the group's key column
 * also answers to "key". Returns its index or -1. */
int kc_column_find(int group_by, const char *name);

/* "NAME[:asc|:desc]" for --sort. Returns 0, or -1 with errstr naming the
 * field and listing the valid ones. */
int kc_sort_parse(int group_by, bool summary, const char *text, kc_sort *out, char *errstr,
                  size_t errstr_size);

/* "A,B,C" for --columns into indexes (malloc'd *cols). Returns 0, or -1
 * with errstr naming the column. */
int kc_columns_parse(int group_by, bool summary, const char *text, int **cols, size_t *n,
                     char *errstr, size_t errstr_size);

/* The default columns of a table (for_csv false) or a CSV file. */
void kc_columns_default(int group_by, bool summary, bool for_csv, int **cols, size_t *n);

/* Orders two values of one column: nulls after everything, lists by length. */
int kc_value_cmp(const kc_value *a, const kc_value *b);

/* Names of a connection state and a security protocol; numbers for values
 * this version does not know (a later version may add some). */
const char *kc_state_name(int state, char scratch[24]);
const char *kc_protocol_name(int protocol, char scratch[24]);

#endif
