/*
 * kc_json.c: the JSON object of kafka-connections, on one line:
 *   {"schema_version", "generated_at", "complete", "summary",
 *    "brokers": [...], "principals": [...], "connections": [...],
 *    "group_by", "groups": [...], "totals": {...}, ["changes": {...}]}
 * Every key but "changes" (--watch only) is always present (null where a
 * value is absent), so scripts never need to test for a key. Documented
 * in kafka-connections(1).
 */
#include "kc_output.h"

#include <string.h>

static void key(kc_buf *b, bool *first, const char *name)
{
    kc_buf_puts(b, *first ? "\"" : ",\"");
    *first = false;
    kc_buf_puts(b, name);
    kc_buf_puts(b, "\":");
}

static void str_or_null(kc_buf *b, const char *s)
{
    if (s)
        kc_json_str(b, s, strlen(s));
    else
        kc_buf_puts(b, "null");
}

static void names(kc_buf *b, const kc_names *n)
{
    kc_value v = {.kind = n->known ? KC_V_NAMES : KC_V_NULL, .names = n, .n = n->n};
    kc_value_json(b, &v);
}

static void brokers(kc_buf *b, const kc_view *v)
{
    kc_buf_putc(b, '[');
    for (size_t i = 0; i < v->n_results; i++) {
        const kc_result *r = &v->results[i];
        bool ok = r->status == KC_OK, answered = ok || r->n_rows || r->n_summaries, first = true;
        if (i)
            kc_buf_putc(b, ',');
        kc_buf_putc(b, '{');
        key(b, &first, "node_id");
        kc_buf_int(b, r->broker.node_id);
        key(b, &first, "host");
        str_or_null(b, r->broker.host);
        key(b, &first, "port");
        if (r->broker.host)
            kc_buf_int(b, r->broker.port);
        else
            kc_buf_puts(b, "null");
        key(b, &first, "status");
        kc_buf_printf(b, "\"%s\"", kc_status_name(r->status));
        key(b, &first, "error");
        str_or_null(b, ok ? NULL : r->error);
        key(b, &first, "restricted");
        kc_buf_puts(b, !answered ? "null" : r->restricted ? "true" : "false");
        key(b, &first, "connections");
        if (answered)
            kc_buf_int(b, kc_result_connections(r, v->opts.summary));
        else
            kc_buf_puts(b, "null");
        key(b, &first, "total_count");
        if (ok)
            kc_buf_int(b, r->total_count);
        else
            kc_buf_puts(b, "null");
        key(b, &first, "broker_time");
        if (ok && r->broker_time_ms > 0) {
            kc_buf_putc(b, '"');
            kc_fmt_time(b, r->broker_time_ms, true);
            kc_buf_putc(b, '"');
        } else {
            kc_buf_puts(b, "null");
        }
        key(b, &first, "elapsed_ms");
        kc_buf_int(b, r->elapsed_ms);
        kc_buf_putc(b, '}');
    }
    kc_buf_putc(b, ']');
}

/* A group, with its key under key_name ("principal" in "principals",
 * "key" in "groups"); the list that only repeats the key is left out of
 * "principals" but kept in "groups", whose shape never varies. */
static void group(kc_buf *b, const kc_group *g, const char *key_name, bool with_principals)
{
    bool first = true;
    kc_buf_putc(b, '{');
    key(b, &first, key_name);
    if (g->kind == KC_GROUP_BROKER) {
        kc_buf_int(b, g->node_id);
    } else {
        kc_value k = {.kind = KC_V_NAME, .name = g->key};
        kc_value_json(b, &k);
    }
    /* A broker that failed before any row: null, as in the other formats. */
    bool unknown = kc_group_unknown(g);
    key(b, &first, "connections");
    if (unknown)
        kc_buf_puts(b, "null");
    else
        kc_buf_int(b, g->connections);
    key(b, &first, "brokers");
    kc_value nodes = {.kind = unknown ? KC_V_NULL : KC_V_NODES, .nodes = g->brokers,
                      .n = g->n_brokers};
    kc_value_json(b, &nodes);
    if (with_principals) {
        key(b, &first, "principals");
        names(b, &g->principals);
    }
    key(b, &first, "client_addresses");
    names(b, &g->client_addresses);
    key(b, &first, "client_software");
    names(b, &g->client_software);
    key(b, &first, "listeners");
    names(b, &g->listeners);
    kc_buf_putc(b, '}');
}

static void groups(kc_buf *b, const kc_group *g, size_t n, const char *key_name,
                   bool with_principals)
{
    kc_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            kc_buf_putc(b, ',');
        group(b, &g[i], key_name, with_principals);
    }
    kc_buf_putc(b, ']');
}

static void connections(kc_buf *b, const kc_view *v)
{
    kc_buf_putc(b, '[');
    for (size_t i = 0; i < v->n_rows; i++) {
        bool first = true;
        if (i)
            kc_buf_putc(b, ',');
        kc_buf_putc(b, '{');
        for (size_t c = 0; c < kc_n_conn_columns; c++) {
            if (!kc_conn_columns[c].in_json)
                continue;
            kc_value val = {0};
            kc_conn_columns[c].get(&v->rows[i], &val);
            key(b, &first, kc_conn_columns[c].name);
            kc_value_json(b, &val);
        }
        kc_buf_putc(b, '}');
    }
    kc_buf_putc(b, ']');
}

static void seen_list(kc_buf *b, const kc_seen *const *s, size_t n)
{
    kc_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        bool first = true;
        kc_buf_puts(b, i ? ",{" : "{");
        key(b, &first, "node_id");
        kc_buf_int(b, s[i]->node_id);
        key(b, &first, "connection_id");
        str_or_null(b, s[i]->connection_id);
        key(b, &first, "principal");
        str_or_null(b, s[i]->principal);
        key(b, &first, "client_host");
        str_or_null(b, s[i]->client_host);
        key(b, &first, "client_port");
        kc_buf_int(b, s[i]->client_port);
        key(b, &first, "client_software");
        str_or_null(b, s[i]->client_software);
        kc_buf_putc(b, '}');
    }
    kc_buf_putc(b, ']');
}

void kc_output_json(kc_buf *b, const kc_view *v, const kc_output_opts *o)
{
    bool first = true;
    kc_buf_putc(b, '{');
    key(b, &first, "schema_version");
    kc_buf_printf(b, "%d", KC_JSON_SCHEMA_VERSION);
    key(b, &first, "generated_at");
    kc_buf_putc(b, '"');
    kc_fmt_time(b, o->generated_at, true);
    kc_buf_putc(b, '"');
    key(b, &first, "complete");
    kc_buf_puts(b, o->complete ? "true" : "false");
    key(b, &first, "summary");
    kc_buf_puts(b, v->opts.summary ? "true" : "false");
    key(b, &first, "brokers");
    brokers(b, v);
    key(b, &first, "principals");
    groups(b, v->principals, v->n_principals, "principal", false);
    key(b, &first, "connections");
    connections(b, v);
    key(b, &first, "group_by");
    kc_buf_printf(b, "\"%s\"", kc_group_by_name(v->opts.group_by));
    key(b, &first, "groups");
    groups(b, v->groups, v->groups ? v->n_groups : 0, "key", true);
    key(b, &first, "totals");
    kc_buf_printf(b,
                  "{\"connections\":%lld,\"principals\":%zu,\"brokers\":%zu,\"brokers_ok\":%zu,"
                  "\"brokers_failed\":%zu,\"truncated\":%s}",
                  (long long)v->connections, v->n_principals, v->n_results, v->brokers_ok,
                  v->brokers_failed, v->truncated ? "true" : "false");
    if (o->changes && o->changes->untracked) {
        key(b, &first, "changes");
        kc_buf_puts(b, "null");
    } else if (o->changes) {
        key(b, &first, "changes");
        kc_buf_puts(b, "{\"appeared\":");
        seen_list(b, o->changes->appeared, o->changes->n_appeared);
        kc_buf_puts(b, ",\"closed\":");
        seen_list(b, o->changes->closed, o->changes->n_closed);
        kc_buf_putc(b, '}');
    }
    kc_buf_puts(b, "}\n");
}
