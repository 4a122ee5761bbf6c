/*
 * kc_output.c: table and CSV output, and the text of one value. The JSON
 * object is in kc_json.c. See kc_output.h.
 */
#include "kc_output.h"

#include "kc_options.h"

#include <stdlib.h>
#include <string.h>

/* A table cell shows this many list entries, then how many more there are. */
#define TABLE_LIST_MAX 3

static void endpoint_text(kc_buf *b, kcp_str host, int64_t port)
{
    bool v6 = host.len > 0 && memchr(host.ptr, ':', (size_t)host.len);
    if (v6)
        kc_buf_putc(b, '[');
    if (host.len > 0)
        kc_buf_put(b, host.ptr, (size_t)host.len);
    kc_buf_puts(b, v6 ? "]:" : ":");
    kc_buf_int(b, port);
}

static void name_text(kc_buf *b, const kc_name *n)
{
    if (n->a.len > 0)
        kc_buf_put(b, n->a.ptr, (size_t)n->a.len);
    if (n->b.len >= 0) {
        kc_buf_putc(b, '/');
        kc_buf_put(b, n->b.ptr, (size_t)n->b.len);
    }
}

static bool holds(kcp_str s, char c)
{
    return s.len > 0 && memchr(s.ptr, c, (size_t)s.len);
}

/* s with its quotes doubled. */
static void put_doubling_quotes(kc_buf *b, kcp_str s)
{
    for (int32_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '"')
            kc_buf_putc(b, '"');
        kc_buf_putc(b, s.ptr[i]);
    }
}

/* One entry of a list cell. An entry that holds the separator or a quote
 * (an mTLS principal such as User:CN=a,OU=b) is quoted, its quotes
 * doubled, so that the cell still splits into its entries. */
static void list_item_text(kc_buf *b, const kc_name *n, char sep)
{
    if (!holds(n->a, sep) && !holds(n->a, '"') && !holds(n->b, sep) && !holds(n->b, '"')) {
        name_text(b, n);
        return;
    }
    kc_buf_putc(b, '"');
    put_doubling_quotes(b, n->a);
    if (n->b.len >= 0) {
        kc_buf_putc(b, '/');
        put_doubling_quotes(b, n->b);
    }
    kc_buf_putc(b, '"');
}

void kc_value_text(kc_buf *b, const kc_value *v, bool for_csv)
{
    const char *sep = for_csv ? ";" : ",";
    size_t shown = for_csv ? v->n : (v->n < TABLE_LIST_MAX ? v->n : TABLE_LIST_MAX);
    switch (v->kind) {
    case KC_V_NULL:
        if (!for_csv)
            kc_buf_putc(b, '-');
        break;
    case KC_V_INT: kc_buf_int(b, v->i); break;
    case KC_V_BOOL: kc_buf_puts(b, v->i ? "true" : "false"); break;
    case KC_V_STR:
        if (v->name.a.len > 0)
            kc_buf_put(b, v->name.a.ptr, (size_t)v->name.a.len);
        break;
    case KC_V_NAME: name_text(b, &v->name); break;
    case KC_V_TIME: kc_fmt_time(b, v->i, for_csv); break;
    case KC_V_DURATION: kc_fmt_duration(b, v->i); break;
    case KC_V_ENDPOINT: endpoint_text(b, v->name.a, v->i); break;
    case KC_V_NAMES:
        for (size_t i = 0; i < shown; i++) {
            if (i)
                kc_buf_puts(b, sep);
            list_item_text(b, &v->names->v[i], *sep);
        }
        break;
    case KC_V_NODES:
        /* Node lists are short; a table shows them whole. */
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                kc_buf_puts(b, sep);
            kc_buf_int(b, v->nodes[i]);
        }
        return;
    }
    if (v->kind == KC_V_NAMES && shown < v->n)
        kc_buf_printf(b, " (+%zu)", v->n - shown);
}

void kc_value_json(kc_buf *b, const kc_value *v)
{
    kc_buf tmp = {0};
    char time[32];
    switch (v->kind) {
    case KC_V_NULL: kc_buf_puts(b, "null"); break;
    case KC_V_INT:
    case KC_V_DURATION: kc_buf_int(b, v->i); break;
    case KC_V_STR: kc_json_str(b, v->name.a.ptr, v->name.a.len > 0 ? (size_t)v->name.a.len : 0); break;
    case KC_V_TIME:
        /* Digits and punctuation only: nothing to escape. */
        kc_buf_putc(b, '"');
        kc_buf_put(b, time, kc_time_text(time, v->i, true));
        kc_buf_putc(b, '"');
        break;
    case KC_V_BOOL: kc_buf_puts(b, v->i ? "true" : "false"); break;
    case KC_V_NAMES:
        kc_buf_putc(b, '[');
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                kc_buf_putc(b, ',');
            kc_buf_reset(&tmp);
            name_text(&tmp, &v->names->v[i]);
            kc_json_str(b, tmp.p, tmp.len);
        }
        kc_buf_putc(b, ']');
        break;
    case KC_V_NODES:
        kc_buf_putc(b, '[');
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                kc_buf_putc(b, ',');
            kc_buf_int(b, v->nodes[i]);
        }
        kc_buf_putc(b, ']');
        break;
    default:
        /* Names and endpoints: their CSV text, as a JSON string. */
        kc_value_text(&tmp, v, true);
        kc_json_str(b, tmp.p, tmp.len);
        break;
    }
    if (tmp.err)
        b->err = true;
    kc_buf_free(&tmp);
}

/* ---- the objects a view lists ---------------------------------------------------- */

typedef struct listing {
    const kc_column *cols; /* the view's column table */
    const int *pick;       /* the columns shown */
    size_t n_pick;
    int *owned_pick;       /* defaults, when --columns was not given */
    const char *objs;      /* rows or groups */
    size_t stride, n;
} listing;

static void listing_init(listing *l, const kc_view *v, const kc_output_opts *o, bool for_csv)
{
    size_t total;
    memset(l, 0, sizeof *l);
    l->cols = kc_view_columns(v->opts.group_by, &total);
    if (o->columns) {
        l->pick = o->columns;
        l->n_pick = o->n_columns;
    } else {
        kc_columns_default(v->opts.group_by, v->opts.summary, for_csv, &l->owned_pick, &l->n_pick);
        l->pick = l->owned_pick;
    }
    if (v->opts.group_by == KC_GROUP_NONE) {
        l->objs = (const char *)v->rows;
        l->stride = sizeof *v->rows;
        l->n = v->n_rows;
    } else {
        l->objs = (const char *)v->groups;
        l->stride = sizeof *v->groups;
        l->n = v->n_groups;
    }
}

static const void *listing_obj(const listing *l, size_t i)
{
    return l->objs + i * l->stride;
}

static void listing_free(listing *l)
{
    free(l->owned_pick);
}

/* ---- CSV -------------------------------------------------------------------------- */

void kc_output_csv(kc_buf *b, const kc_view *v, const kc_output_opts *o)
{
    listing l;
    kc_buf cell = {0};
    listing_init(&l, v, o, true);
    for (size_t c = 0; c < l.n_pick; c++) {
        if (c)
            kc_buf_putc(b, ',');
        kc_buf_puts(b, l.cols[l.pick[c]].name);
    }
    kc_buf_puts(b, "\r\n");
    for (size_t i = 0; i < l.n; i++) {
        for (size_t c = 0; c < l.n_pick; c++) {
            kc_value val = {0};
            l.cols[l.pick[c]].get(listing_obj(&l, i), &val);
            kc_buf_reset(&cell);
            kc_value_text(&cell, &val, true);
            if (c)
                kc_buf_putc(b, ',');
            kc_csv_field(b, cell.p ? cell.p : "", cell.len, o->terminal);
        }
        kc_buf_puts(b, "\r\n");
    }
    if (cell.err)
        b->err = true;
    kc_buf_free(&cell);
    listing_free(&l);
}

/* ---- table ------------------------------------------------------------------------ */

/* One cell as the terminal shows it: escaped, with its width. */
static size_t table_cell(kc_buf *raw, kc_buf *out, const kc_column *col, const void *obj,
                         bool *right)
{
    kc_value val = {0};
    col->get(obj, &val);
    kc_buf_reset(raw);
    kc_buf_reset(out);
    kc_value_text(raw, &val, false);
    kc_term_str(out, raw->p ? raw->p : "", raw->len);
    *right = val.kind == KC_V_INT || val.kind == KC_V_DURATION;
    return kc_display_width(out->p ? out->p : "", out->len);
}

static void upper(kc_buf *b, const char *s)
{
    for (; *s; s++)
        kc_buf_putc(b, (char)(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s));
}

static void pad(kc_buf *b, size_t n)
{
    while (n--)
        kc_buf_putc(b, ' ');
}

/* The line under a table: how much was found and how much was asked. */
static void table_footer(kc_buf *b, const kc_view *v)
{
    kc_buf_printf(b, "%lld connection%s, %zu principal%s; %zu of %zu broker%s answered",
                  (long long)v->connections, v->connections == 1 ? "" : "s", v->n_principals,
                  v->n_principals == 1 ? "" : "s", v->brokers_ok, v->n_results,
                  v->n_results == 1 ? "" : "s");
    if (v->brokers_restricted)
        kc_buf_printf(b, " (%zu showing only the caller's own connections)", v->brokers_restricted);
    if (v->truncated)
        kc_buf_puts(b, " (--limit reached on some brokers)");
    kc_buf_putc(b, '\n');
}

void kc_output_table(kc_buf *b, const kc_view *v, const kc_output_opts *o)
{
    listing l;
    kc_buf raw = {0}, cell = {0};
    listing_init(&l, v, o, false);
    size_t *width = calloc(l.n_pick ? l.n_pick : 1, sizeof *width);
    if (!width) {
        b->err = true;
        listing_free(&l);
        return;
    }
    /* Two passes, so a million rows are never held as text. */
    for (size_t c = 0; c < l.n_pick; c++)
        width[c] = strlen(l.cols[l.pick[c]].name);
    for (size_t i = 0; i < l.n; i++) {
        for (size_t c = 0; c < l.n_pick; c++) {
            bool right;
            size_t w = table_cell(&raw, &cell, &l.cols[l.pick[c]], listing_obj(&l, i), &right);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (size_t c = 0; c < l.n_pick; c++) {
        const char *name = l.cols[l.pick[c]].name;
        upper(b, name);
        if (c + 1 < l.n_pick)
            pad(b, width[c] - strlen(name) + 2);
    }
    kc_buf_putc(b, '\n');
    for (size_t i = 0; i < l.n; i++) {
        for (size_t c = 0; c < l.n_pick; c++) {
            bool right, last = c + 1 == l.n_pick;
            size_t w = table_cell(&raw, &cell, &l.cols[l.pick[c]], listing_obj(&l, i), &right);
            if (right)
                pad(b, width[c] - w);
            kc_buf_put(b, cell.p, cell.len);
            if (!right && !last)
                pad(b, width[c] - w);
            if (!last)
                pad(b, 2);
        }
        kc_buf_putc(b, '\n');
    }
    table_footer(b, v);
    if (raw.err || cell.err)
        b->err = true;
    free(width);
    kc_buf_free(&raw);
    kc_buf_free(&cell);
    listing_free(&l);
}

void kc_output_write(kc_buf *b, const kc_view *v, const kc_output_opts *o)
{
    switch (o->format) {
    case KC_OUTPUT_JSON: kc_output_json(b, v, o); break;
    case KC_OUTPUT_CSV: kc_output_csv(b, v, o); break;
    default: kc_output_table(b, v, o); break;
    }
}
