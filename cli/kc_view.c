/*
 * kc_view.c: merges every broker's answer into rows and groups. Grouping
 * sorts one small record per connection (or per summary entry) by the
 * group key and walks the runs, so a million connections cost one sort and
 * a few pointer arrays, never a copy of the strings. See kc_view.h.
 */
#include "kc_view.h"

#include "kc_columns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const group_names[] = {
    [KC_GROUP_PRINCIPAL] = "principal",
    [KC_GROUP_BROKER] = "broker",
    [KC_GROUP_CLIENT_SOFTWARE] = "client-software",
    [KC_GROUP_CLIENT_ADDRESS] = "client-address",
    [KC_GROUP_LISTENER] = "listener",
    [KC_GROUP_NONE] = "none",
};

const char *kc_group_by_name(int group_by)
{
    if (group_by < 0 || group_by > KC_GROUP_NONE)
        return "?";
    return group_names[group_by];
}

int kc_group_by_parse(const char *name)
{
    for (int i = 0; i <= KC_GROUP_NONE; i++)
        if (strcmp(name, group_names[i]) == 0)
            return i;
    return -1;
}

size_t kc_result_drop_own(kc_result *r, const char *client_id, bool generated)
{
    kcp_str id = kcp_str_c(client_id), software = kcp_str_c("kafka-connections");
    size_t kept = 0, dropped;
    for (size_t i = 0; client_id && i < r->n_rows; i++) {
        kc_conn *c = r->rows[i];
        bool own = kcp_str_eq(c->client_id, id) &&
                   (generated || kcp_str_eq(c->client_software_name, software));
        if (!own)
            r->rows[kept++] = c;
    }
    if (!client_id)
        kept = r->n_rows;
    dropped = r->n_rows - kept;
    r->n_rows = kept;
    r->total_count = r->total_count > (int32_t)dropped ? r->total_count - (int32_t)dropped : 0;
    return dropped;
}

int64_t kc_row_idle_ms(const kc_row *r)
{
    int64_t idle = r->broker->broker_time_ms - r->c->last_activity_at_ms;
    return idle > 0 ? idle : 0;
}

int64_t kc_result_connections(const kc_result *r, bool summary)
{
    if (!summary)
        return (int64_t)r->n_rows;
    int64_t sum = 0;
    for (size_t i = 0; i < r->n_summaries; i++)
        sum += r->summaries[i]->connections;
    return sum;
}

int kc_str_cmp(kcp_str a, kcp_str b)
{
    if (a.len < 0 || b.len < 0)
        return (a.len < 0) - (b.len < 0);
    size_t n = (size_t)(a.len < b.len ? a.len : b.len);
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

int kc_name_cmp(const kc_name *a, const kc_name *b)
{
    int c = kc_str_cmp(a->a, b->a);
    return c ? c : kc_str_cmp(a->b, b->b);
}

static int int_cmp(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* Compares one column of two objects, nulls last whatever the direction. */
static int column_cmp(const kc_column *col, bool desc, const void *x, const void *y)
{
    kc_value a = {0}, b = {0};
    col->get(x, &a);
    col->get(y, &b);
    int c = kc_value_cmp(&a, &b);
    if (a.kind == KC_V_NULL || b.kind == KC_V_NULL)
        return c;
    return desc ? -c : c;
}

/* ---- rows ----------------------------------------------------------------------- */

/* Default order: by principal, then broker, then the broker's paging order
 * (per network thread, each in accept order). */
static int row_default_cmp(const kc_row *a, const kc_row *b)
{
    int c = kc_str_cmp(a->c->principal, b->c->principal);
    if (!c)
        c = int_cmp(a->broker->broker.node_id, b->broker->broker.node_id);
    if (!c)
        c = (a->broker > b->broker) - (a->broker < b->broker);
    return c ? c : int_cmp((int64_t)a->seq, (int64_t)b->seq);
}

static int row_cmp(const void *x, const void *y, void *ctx)
{
    const kc_sort *s = ctx;
    if (s->column >= 0) {
        int c = column_cmp(&kc_conn_columns[s->column], s->desc, x, y);
        if (c)
            return c;
    }
    return row_default_cmp(x, y);
}

/* ---- grouping --------------------------------------------------------------------- */

enum { ATTR_NONE = 0, ATTR_LISTENER, ATTR_SOFTWARE };

/* One connection, or one summary (or one of its split counts), as it
 * counts towards a group. */
typedef struct item {
    kc_conn *c;
    kc_summary *s;
    const kcp_describe_connections_response_count_by_name *split;
    int split_kind; /* ATTR_LISTENER or ATTR_SOFTWARE when split is set */
    int32_t node;
    int64_t weight;
} item;

static const kc_name no_name = {{NULL, -1}, {NULL, -1}};

static kc_name one(kcp_str s)
{
    kc_name n = {s, {NULL, -1}};
    return n;
}

static kc_name principal_of(const item *it)
{
    return one(it->c ? it->c->principal : it->s->principal);
}

static kc_name address_of(const item *it)
{
    return it->c ? one(it->c->client_host) : no_name;
}

static kc_name listener_of(const item *it)
{
    if (it->c)
        return one(it->c->listener_name);
    return it->split_kind == ATTR_LISTENER ? one(it->split->name) : no_name;
}

static kc_name software_of(const item *it)
{
    if (it->c) {
        kc_name n = {it->c->client_software_name, it->c->client_software_version};
        return n;
    }
    return it->split_kind == ATTR_SOFTWARE ? one(it->split->name) : no_name;
}

static kc_name key_of(int kind, const item *it)
{
    switch (kind) {
    case KC_GROUP_PRINCIPAL: return principal_of(it);
    case KC_GROUP_CLIENT_SOFTWARE: return software_of(it);
    case KC_GROUP_CLIENT_ADDRESS: return address_of(it);
    case KC_GROUP_LISTENER: return listener_of(it);
    default: return no_name;
    }
}

static int item_cmp(const void *x, const void *y, void *ctx)
{
    int kind = *(const int *)ctx;
    const item *a = x, *b = y;
    if (kind == KC_GROUP_BROKER)
        return int_cmp(a->node, b->node);
    kc_name ka = key_of(kind, a), kb = key_of(kind, b);
    return kc_name_cmp(&ka, &kb);
}

static int name_qcmp(const void *x, const void *y)
{
    return kc_name_cmp(x, y);
}

static int node_qcmp(const void *x, const void *y)
{
    return int_cmp(*(const int32_t *)x, *(const int32_t *)y);
}

typedef struct builder {
    item *items;
    size_t n_items, cap_items;
    kc_name *scratch; /* one name per item, reused for every set */
    int32_t *nodes;
    char *errstr;
    size_t errstr_size;
} builder;

static int no_memory(builder *B)
{
    snprintf(B->errstr, B->errstr_size, "out of memory");
    return -1;
}

static int add_item(builder *B, item it)
{
    if (B->n_items == B->cap_items) {
        size_t cap = B->cap_items ? B->cap_items * 2 : 64;
        item *p = realloc(B->items, cap * sizeof *p);
        if (!p)
            return no_memory(B);
        B->items = p;
        B->cap_items = cap;
    }
    B->items[B->n_items++] = it;
    return 0;
}

/* The distinct values of one attribute over items[0..n), sorted. */
static int collect(builder *B, const item *items, size_t n, kc_name (*get)(const item *),
                   bool known, kc_names *out)
{
    size_t m = 0;
    out->known = known;
    if (!known)
        return 0;
    for (size_t i = 0; i < n; i++) {
        kc_name v = get(&items[i]);
        if (v.a.len >= 0)
            B->scratch[m++] = v;
    }
    qsort(B->scratch, m, sizeof *B->scratch, name_qcmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || kc_name_cmp(&B->scratch[u - 1], &B->scratch[i]) != 0)
            B->scratch[u++] = B->scratch[i];
    out->n = u;
    if (!u)
        return 0;
    out->v = malloc(u * sizeof *out->v);
    if (!out->v)
        return no_memory(B);
    memcpy(out->v, B->scratch, u * sizeof *out->v);
    return 0;
}

static int collect_nodes(builder *B, const item *items, size_t n, kc_group *g)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        B->nodes[i] = items[i].node;
    qsort(B->nodes, n, sizeof *B->nodes, node_qcmp);
    for (size_t i = 0; i < n; i++)
        if (u == 0 || B->nodes[u - 1] != B->nodes[i])
            B->nodes[u++] = B->nodes[i];
    g->n_brokers = u;
    if (!u)
        return 0;
    g->brokers = malloc(u * sizeof *g->brokers);
    if (!g->brokers)
        return no_memory(B);
    memcpy(g->brokers, B->nodes, u * sizeof *g->brokers);
    return 0;
}

/* Items of the answers for one kind of group: a row each, or in summary
 * mode the summaries (with zero-weight items for their splits, so the
 * sets see them) or, for listener and software groups, the splits. */
static int gather(builder *B, const kc_view *v, int kind)
{
    B->n_items = 0;
    if (!v->opts.summary) {
        for (size_t i = 0; i < v->n_rows; i++) {
            item it = {.c = v->rows[i].c, .node = v->rows[i].broker->broker.node_id, .weight = 1};
            if (add_item(B, it))
                return -1;
        }
        return 0;
    }
    for (size_t r = 0; r < v->n_results; r++) {
        const kc_result *res = &v->results[r];
        for (size_t k = 0; k < res->n_summaries; k++) {
            kc_summary *s = res->summaries[k];
            bool whole = kind == KC_GROUP_PRINCIPAL || kind == KC_GROUP_BROKER;
            item it = {.s = s, .node = res->broker.node_id, .weight = whole ? s->connections : 0};
            if (whole && add_item(B, it))
                return -1;
            for (int32_t j = 0; j < s->listeners.n; j++) {
                it.split = &s->listeners.v[j];
                it.split_kind = ATTR_LISTENER;
                it.weight = kind == KC_GROUP_LISTENER ? it.split->connections : 0;
                if ((whole || kind == KC_GROUP_LISTENER) && add_item(B, it))
                    return -1;
            }
            for (int32_t j = 0; j < s->client_software.n; j++) {
                it.split = &s->client_software.v[j];
                it.split_kind = ATTR_SOFTWARE;
                it.weight = kind == KC_GROUP_CLIENT_SOFTWARE ? it.split->connections : 0;
                if ((whole || kind == KC_GROUP_CLIENT_SOFTWARE) && add_item(B, it))
                    return -1;
            }
        }
    }
    return 0;
}

static void group_free(kc_group *g)
{
    free(g->brokers);
    free(g->principals.v);
    free(g->client_addresses.v);
    free(g->client_software.v);
    free(g->listeners.v);
}

static void groups_free(kc_group *g, size_t n)
{
    for (size_t i = 0; g && i < n; i++)
        group_free(&g[i]);
    free(g);
}

/* Default order of groups: most connections first, then by key. */
static int group_default_cmp(const kc_group *a, const kc_group *b)
{
    int c = int_cmp(b->connections, a->connections);
    if (c)
        return c;
    if (a->kind == KC_GROUP_BROKER)
        return int_cmp(a->node_id, b->node_id);
    return kc_name_cmp(&a->key, &b->key);
}

static int group_cmp(const void *x, const void *y, void *ctx)
{
    const kc_sort *s = ctx;
    if (s && s->column >= 0) {
        int c = column_cmp(&kc_group_columns[s->column], s->desc, x, y);
        if (c)
            return c;
    }
    return group_default_cmp(x, y);
}

/* Adds an empty group for every broker that contributed nothing, so a
 * broker view lists failed and idle brokers too, and links each broker
 * group to its answer. */
static int add_broker_groups(builder *B, const kc_view *v, kc_group **groups, size_t *n)
{
    size_t extra = 0;
    for (size_t r = 0; r < v->n_results; r++) {
        bool found = false;
        for (size_t i = 0; i < *n && !found; i++)
            found = (*groups)[i].node_id == v->results[r].broker.node_id;
        extra += !found;
    }
    if (extra) {
        kc_group *p = realloc(*groups, (*n + extra) * sizeof *p);
        if (!p)
            return no_memory(B);
        *groups = p;
    }
    for (size_t r = 0; r < v->n_results; r++) {
        const kc_result *res = &v->results[r];
        kc_group *g = NULL;
        for (size_t i = 0; i < *n && !g; i++)
            if ((*groups)[i].node_id == res->broker.node_id)
                g = &(*groups)[i];
        if (!g) {
            g = &(*groups)[(*n)++];
            memset(g, 0, sizeof *g);
            g->kind = KC_GROUP_BROKER;
            g->node_id = res->broker.node_id;
            g->principals.known = true;
            g->client_addresses.known = !v->opts.summary;
            g->client_software.known = g->listeners.known = true;
        }
        if (!g->broker)
            g->broker = res;
    }
    return 0;
}

/* Groups of one kind over the whole view, in default order. */
static int aggregate(builder *B, const kc_view *v, int kind, kc_group **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (gather(B, v, kind))
        return -1;
    item *items = B->items;
    size_t n = B->n_items, n_groups = 0;
    free(B->scratch);
    free(B->nodes);
    B->scratch = malloc((n ? n : 1) * sizeof *B->scratch);
    B->nodes = malloc((n ? n : 1) * sizeof *B->nodes);
    if (!B->scratch || !B->nodes)
        return no_memory(B);
    if (n)
        qsort_r(items, n, sizeof *items, item_cmp, &kind);
    for (size_t i = 0; i < n; i++)
        n_groups += i == 0 || item_cmp(&items[i - 1], &items[i], &kind) != 0;
    kc_group *groups = calloc(n_groups ? n_groups : 1, sizeof *groups);
    if (!groups)
        return no_memory(B);
    bool summary = v->opts.summary;
    size_t g = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i + 1;
        while (j < n && item_cmp(&items[i], &items[j], &kind) == 0)
            j++;
        kc_group *grp = &groups[g++];
        grp->kind = kind;
        grp->key = key_of(kind, &items[i]);
        grp->node_id = items[i].node;
        for (size_t k = i; k < j; k++)
            grp->connections += items[k].weight;
        bool by_count = kind == KC_GROUP_PRINCIPAL || kind == KC_GROUP_BROKER;
        rc = collect_nodes(B, items + i, j - i, grp);
        if (!rc)
            rc = collect(B, items + i, j - i, principal_of, true, &grp->principals);
        if (!rc)
            rc = collect(B, items + i, j - i, address_of, !summary, &grp->client_addresses);
        if (!rc)
            rc = collect(B, items + i, j - i, software_of,
                         !summary || by_count || kind == KC_GROUP_CLIENT_SOFTWARE,
                         &grp->client_software);
        if (!rc)
            rc = collect(B, items + i, j - i, listener_of,
                         !summary || by_count || kind == KC_GROUP_LISTENER, &grp->listeners);
        i = j;
    }
    if (rc == 0 && kind == KC_GROUP_BROKER)
        rc = add_broker_groups(B, v, &groups, &g);
    if (rc) {
        groups_free(groups, g);
        return -1;
    }
    qsort_r(groups, g, sizeof *groups, group_cmp, NULL);
    *out = groups;
    *n_out = g;
    return 0;
}

int kc_view_build(kc_view *v, const kc_result *results, size_t n, const kc_view_opts *o,
                  char *errstr, size_t errstr_size)
{
    builder B = {.errstr = errstr, .errstr_size = errstr_size};
    memset(v, 0, sizeof *v);
    v->opts = *o;
    v->results = results;
    v->n_results = n;
    for (size_t r = 0; r < n; r++) {
        const kc_result *res = &results[r];
        if (res->status == KC_OK)
            v->brokers_ok++;
        else
            v->brokers_failed++;
        if (!o->summary) {
            v->n_rows += res->n_rows;
            if (res->status == KC_OK && res->total_count > 0 &&
                (size_t)res->total_count > res->n_rows)
                v->truncated = true;
        }
    }
    if (v->n_rows) {
        v->rows = malloc(v->n_rows * sizeof *v->rows);
        if (!v->rows)
            return no_memory(&B);
        size_t k = 0;
        for (size_t r = 0; r < n; r++)
            for (size_t i = 0; i < results[r].n_rows; i++)
                v->rows[k++] = (kc_row){results[r].rows[i], &results[r], i};
        kc_sort s = o->group_by == KC_GROUP_NONE ? o->sort : (kc_sort){-1, false};
        qsort_r(v->rows, v->n_rows, sizeof *v->rows, row_cmp, &s);
    }
    int rc = aggregate(&B, v, KC_GROUP_PRINCIPAL, &v->principals, &v->n_principals);
    if (rc == 0 && o->group_by == KC_GROUP_PRINCIPAL) {
        v->groups = v->principals;
        v->n_groups = v->n_principals;
    } else if (rc == 0 && o->group_by != KC_GROUP_NONE) {
        rc = aggregate(&B, v, o->group_by, &v->groups, &v->n_groups);
    }
    if (rc == 0 && v->groups && o->sort.column >= 0)
        qsort_r(v->groups, v->n_groups, sizeof *v->groups, group_cmp, &v->opts.sort);
    for (size_t i = 0; i < v->n_principals; i++)
        v->connections += v->principals[i].connections;
    free(B.items);
    free(B.scratch);
    free(B.nodes);
    return rc;
}

void kc_view_free(kc_view *v)
{
    if (v->groups != v->principals)
        groups_free(v->groups, v->n_groups);
    groups_free(v->principals, v->n_principals);
    free(v->rows);
    memset(v, 0, sizeof *v);
}
