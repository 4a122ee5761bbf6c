/*
 * kc_view.c: merges every broker's answer into rows and groups. The rows
 * are sorted once; principal groups are the runs of that order, and other
 * groups sort one pointer per connection (or one small record per summary
 * entry) by the group key and walk the runs. A million connections cost
 * two pointers each in the view and one more while grouping, never a copy
 * of the strings. See kc_view.h.
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
    kcp_str id = kcp_str_c(client_id), software = kcp_str_c(KC_SOFTWARE_NAME);
    size_t kept = 0, dropped;
    for (size_t i = 0; client_id && i < r->n_rows; i++) {
        const kc_connection *c = &r->rows[i];
        bool own = kcp_str_eq(kc_connection_client_id(c), id) &&
                   (generated || kcp_str_eq(kc_connection_client_software_name(c), software));
        if (!own)
            r->rows[kept++] = *c;
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
    int64_t idle = r->broker->broker_time_ms - r->c->w->last_activity_at_ms;
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

/* Two rows of one page with the same index hold the same string, so the
 * bytes need comparing only across pages. */
static int principal_cmp(const kc_connection *a, const kc_connection *b)
{
    if (a->page == b->page && a->w->principal_index == b->w->principal_index)
        return 0;
    return kc_str_cmp(kc_connection_principal(a), kc_connection_principal(b));
}

/* Default order: by principal, then broker, then the broker's paging order
 * (per network thread, each in accept order). */
static int row_default_cmp(const kc_row *a, const kc_row *b)
{
    int c = principal_cmp(a->c, b->c);
    if (!c)
        c = int_cmp(a->broker->broker.node_id, b->broker->broker.node_id);
    if (!c)
        c = (a->broker > b->broker) - (a->broker < b->broker);
    return c ? c : (a->c > b->c) - (a->c < b->c);
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

/* In summary mode, one summary (or one of its split counts) as it counts
 * towards a group. */
typedef struct part {
    kc_summary *s;
    const kcp_describe_connections_response_count_by_name *split;
    int split_kind; /* ATTR_LISTENER or ATTR_SOFTWARE when split is set */
    int32_t node;
    int64_t weight;
} part;

/* The distinct names of one set of a group, by their bytes: open
 * addressing over an array of slots at most half full. Slots of an older
 * generation count as empty, so starting the next set costs nothing; the
 * memory follows the most distinct names a set had, not the group size. */
typedef struct name_set {
    kc_name *v;         /* the distinct names of the current set */
    uint32_t *hashes;   /* hashes[i] of v[i] */
    size_t n, cap;
    struct slot {
        uint32_t gen, index;
    } *slots;
    size_t mask;        /* slots has mask + 1 entries (0 before the first) */
    uint32_t gen;
} name_set;

/* Grouping works on items: pointers to the view's rows (kc_row), or in
 * summary mode to parts; which one is a property of the whole build. */
typedef struct builder {
    bool summary;             /* items are parts, not rows */
    bool rows_by_principal;   /* v->rows are in default order (by principal first) */
    int kind;                 /* the kind of group being built, for item_cmp */
    const void **items;
    size_t n_items;
    part *parts;
    size_t n_parts, cap_parts;
    name_set names;           /* reused for every set of names */
    int32_t *nodes;           /* one node id per item of a group, reused */
    size_t cap_nodes;
    char *errstr;
    size_t errstr_size;
} builder;

#define ROW(it) ((const kc_row *)(it))
#define PART(it) ((const part *)(it))

static const kc_name no_name = {{NULL, -1}, {NULL, -1}};

static kc_name one(kcp_str s)
{
    kc_name n = {s, {NULL, -1}};
    return n;
}

static kc_name principal_of(const builder *B, const void *it)
{
    return one(B->summary ? PART(it)->s->principal : kc_connection_principal(ROW(it)->c));
}

static kc_name address_of(const builder *B, const void *it)
{
    return B->summary ? no_name : one(kc_connection_client_host(ROW(it)->c));
}

static kc_name listener_of(const builder *B, const void *it)
{
    if (!B->summary)
        return one(kc_connection_listener(ROW(it)->c));
    return PART(it)->split_kind == ATTR_LISTENER ? one(PART(it)->split->name) : no_name;
}

static kc_name software_of(const builder *B, const void *it)
{
    if (!B->summary) {
        kc_name n = {kc_connection_client_software_name(ROW(it)->c),
                     kc_connection_client_software_version(ROW(it)->c)};
        return n;
    }
    return PART(it)->split_kind == ATTR_SOFTWARE ? one(PART(it)->split->name) : no_name;
}

static int32_t node_of(const builder *B, const void *it)
{
    return B->summary ? PART(it)->node : ROW(it)->broker->broker.node_id;
}

static int64_t weight_of(const builder *B, const void *it)
{
    return B->summary ? PART(it)->weight : 1;
}

static kc_name key_of(const builder *B, int kind, const void *it)
{
    switch (kind) {
    case KC_GROUP_PRINCIPAL: return principal_of(B, it);
    case KC_GROUP_CLIENT_SOFTWARE: return software_of(B, it);
    case KC_GROUP_CLIENT_ADDRESS: return address_of(B, it);
    case KC_GROUP_LISTENER: return listener_of(B, it);
    default: return no_name;
    }
}

static int item_cmp(const void *x, const void *y, void *ctx)
{
    const builder *B = ctx;
    const void *a = *(const void *const *)x, *b = *(const void *const *)y;
    if (B->kind == KC_GROUP_BROKER)
        return int_cmp(node_of(B, a), node_of(B, b));
    if (B->kind == KC_GROUP_PRINCIPAL && !B->summary)
        return principal_cmp(ROW(a)->c, ROW(b)->c);
    kc_name ka = key_of(B, B->kind, a), kb = key_of(B, B->kind, b);
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

static int no_memory(builder *B)
{
    snprintf(B->errstr, B->errstr_size, "out of memory");
    return -1;
}

static int add_part(builder *B, part p)
{
    if (B->n_parts == B->cap_parts) {
        size_t cap = B->cap_parts ? B->cap_parts * 2 : 64;
        part *np = realloc(B->parts, cap * sizeof *np);
        if (!np)
            return no_memory(B);
        B->parts = np;
        B->cap_parts = cap;
    }
    B->parts[B->n_parts++] = p;
    return 0;
}

/* Room for the node ids of a group of n items. */
static int reserve_nodes(builder *B, size_t n)
{
    if (n <= B->cap_nodes)
        return 0;
    free(B->nodes);
    B->nodes = malloc(n * sizeof *B->nodes);
    B->cap_nodes = B->nodes ? n : 0;
    return B->nodes ? 0 : no_memory(B);
}

static uint32_t fnv(uint32_t h, kcp_str s)
{
    for (int32_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.ptr[i]) * 16777619u;
    return h;
}

/* b null and b empty are different names (NAME vs NAME/). */
static uint32_t name_hash(const kc_name *n)
{
    uint32_t h = fnv(2166136261u, n->a);
    h = (h ^ (n->b.len < 0 ? 0xffu : 0x2fu)) * 16777619u;
    return fnv(h, n->b);
}

static void set_clear(name_set *s)
{
    s->n = 0;
    if (++s->gen == 0) { /* wrapped: every slot really empty again */
        if (s->slots)
            memset(s->slots, 0, (s->mask + 1) * sizeof *s->slots);
        s->gen = 1;
    }
}

static void set_place(name_set *s, uint32_t index)
{
    size_t at = s->hashes[index] & s->mask;
    while (s->slots[at].gen == s->gen)
        at = (at + 1) & s->mask;
    s->slots[at] = (struct slot){s->gen, index};
}

/* Room for one more name, the slots staying at most half full. */
static int set_grow(name_set *s)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        kc_name *v = realloc(s->v, cap * sizeof *v);
        if (v)
            s->v = v;
        uint32_t *h = v ? realloc(s->hashes, cap * sizeof *h) : NULL;
        if (!h)
            return -1;
        s->hashes = h;
        s->cap = cap;
    }
    if (s->slots && 2 * (s->n + 1) <= s->mask + 1)
        return 0;
    size_t size = s->slots ? (s->mask + 1) * 2 : 32;
    struct slot *slots = calloc(size, sizeof *slots);
    if (!slots)
        return -1;
    free(s->slots);
    s->slots = slots;
    s->mask = size - 1;
    s->gen = 1;
    for (size_t i = 0; i < s->n; i++)
        set_place(s, (uint32_t)i);
    return 0;
}

static int set_add(name_set *s, const kc_name *name)
{
    uint32_t h = name_hash(name);
    for (size_t at = h & s->mask; s->slots && s->slots[at].gen == s->gen; at = (at + 1) & s->mask) {
        uint32_t i = s->slots[at].index;
        if (s->hashes[i] == h && kc_name_cmp(&s->v[i], name) == 0)
            return 0;
    }
    if (s->n >= UINT32_MAX || set_grow(s))
        return -1;
    s->v[s->n] = *name;
    s->hashes[s->n] = h;
    set_place(s, (uint32_t)s->n++);
    return 0;
}

static void set_free(name_set *s)
{
    free(s->v);
    free(s->hashes);
    free(s->slots);
}

/* The distinct values of one attribute over items[0..n), sorted. A value
 * that repeats the previous item's (rows of one page often share it) is
 * not even hashed. */
static int collect(builder *B, const void *const *items, size_t n,
                   kc_name (*get)(const builder *, const void *), bool known, kc_names *out)
{
    name_set *set = &B->names;
    kc_name last = no_name;
    out->known = known;
    if (!known)
        return 0;
    set_clear(set);
    for (size_t i = 0; i < n; i++) {
        kc_name v = get(B, items[i]);
        if (v.a.len < 0 || (last.a.len >= 0 && kc_name_cmp(&last, &v) == 0))
            continue;
        last = v;
        if (set_add(set, &v))
            return no_memory(B);
    }
    /* The set is done with: its values may be sorted in place. */
    qsort(set->v, set->n, sizeof *set->v, name_qcmp);
    out->n = set->n;
    if (!set->n)
        return 0;
    out->v = malloc(set->n * sizeof *out->v);
    if (!out->v)
        return no_memory(B);
    memcpy(out->v, set->v, set->n * sizeof *out->v);
    return 0;
}

static int collect_nodes(builder *B, const void *const *items, size_t n, kc_group *g)
{
    size_t m = 0, u = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t node = node_of(B, items[i]);
        if (m == 0 || B->nodes[m - 1] != node)
            B->nodes[m++] = node;
    }
    qsort(B->nodes, m, sizeof *B->nodes, node_qcmp);
    for (size_t i = 0; i < m; i++)
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

/* The parts of the summaries for one kind of group: the summaries (with
 * zero-weight parts for their splits, so the sets see them) or, for
 * listener and software groups, the splits. */
static int gather_parts(builder *B, const kc_view *v, int kind)
{
    B->n_parts = 0;
    for (size_t r = 0; r < v->n_results; r++) {
        const kc_result *res = &v->results[r];
        for (size_t k = 0; k < res->n_summaries; k++) {
            kc_summary *s = res->summaries[k];
            bool whole = kind == KC_GROUP_PRINCIPAL || kind == KC_GROUP_BROKER;
            part p = {.s = s, .node = res->broker.node_id, .weight = whole ? s->connections : 0};
            if (whole && add_part(B, p))
                return -1;
            for (int32_t j = 0; j < s->listeners.n; j++) {
                p.split = &s->listeners.v[j];
                p.split_kind = ATTR_LISTENER;
                p.weight = kind == KC_GROUP_LISTENER ? p.split->connections : 0;
                if ((whole || kind == KC_GROUP_LISTENER) && add_part(B, p))
                    return -1;
            }
            for (int32_t j = 0; j < s->client_software.n; j++) {
                p.split = &s->client_software.v[j];
                p.split_kind = ATTR_SOFTWARE;
                p.weight = kind == KC_GROUP_CLIENT_SOFTWARE ? p.split->connections : 0;
                if ((whole || kind == KC_GROUP_CLIENT_SOFTWARE) && add_part(B, p))
                    return -1;
            }
        }
    }
    return 0;
}

/* The items for one kind of group, in key order: a pointer to each row
 * (already in order for principals when the rows are), or to each part. */
static int gather(builder *B, const kc_view *v, int kind)
{
    size_t n = v->n_rows;
    if (B->summary) {
        if (gather_parts(B, v, kind))
            return -1;
        n = B->n_parts;
    }
    free(B->items);
    B->items = malloc((n ? n : 1) * sizeof *B->items);
    if (!B->items)
        return no_memory(B);
    for (size_t i = 0; i < n; i++)
        B->items[i] = B->summary ? (const void *)&B->parts[i] : (const void *)&v->rows[i];
    B->n_items = n;
    B->kind = kind;
    if (n && !(kind == KC_GROUP_PRINCIPAL && !B->summary && B->rows_by_principal))
        qsort_r(B->items, n, sizeof *B->items, item_cmp, B);
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

bool kc_group_unknown(const kc_group *g)
{
    return g->kind == KC_GROUP_BROKER && g->broker && g->broker->status != KC_OK &&
           g->connections == 0;
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
            /* A broker that failed before any row tells nothing, not "none". */
            bool answered = res->status == KC_OK;
            g->principals.known = answered;
            g->client_addresses.known = answered && !v->opts.summary;
            g->client_software.known = g->listeners.known = answered;
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
    const void *const *items = B->items;
    size_t n = B->n_items, n_groups = 0;
    for (size_t i = 0; i < n; i++)
        n_groups += i == 0 || item_cmp(&items[i - 1], &items[i], B) != 0;
    kc_group *groups = calloc(n_groups ? n_groups : 1, sizeof *groups);
    if (!groups)
        return no_memory(B);
    bool summary = v->opts.summary;
    size_t g = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i + 1;
        while (j < n && item_cmp(&items[i], &items[j], B) == 0)
            j++;
        kc_group *grp = &groups[g++];
        grp->kind = kind;
        grp->key = key_of(B, kind, items[i]);
        grp->node_id = node_of(B, items[i]);
        for (size_t k = i; k < j; k++)
            grp->connections += weight_of(B, items[k]);
        bool by_count = kind == KC_GROUP_PRINCIPAL || kind == KC_GROUP_BROKER;
        rc = reserve_nodes(B, j - i);
        if (!rc)
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
    builder B = {.summary = o->summary, .errstr = errstr, .errstr_size = errstr_size};
    memset(v, 0, sizeof *v);
    v->opts = *o;
    v->results = results;
    v->n_results = n;
    for (size_t r = 0; r < n; r++) {
        const kc_result *res = &results[r];
        if (res->status == KC_OK)
            v->brokers_ok++, v->brokers_restricted += res->restricted;
        else
            v->brokers_failed++;
        if (!o->summary) {
            v->n_rows += res->n_rows;
            if (kc_result_truncated(res))
                v->truncated = true;
        }
    }
    kc_sort s = o->group_by == KC_GROUP_NONE ? o->sort : (kc_sort){-1, false};
    B.rows_by_principal = s.column < 0;
    if (v->n_rows) {
        v->rows = malloc(v->n_rows * sizeof *v->rows);
        if (!v->rows)
            return no_memory(&B);
        size_t k = 0;
        for (size_t r = 0; r < n; r++)
            for (size_t i = 0; i < results[r].n_rows; i++)
                v->rows[k++] = (kc_row){&results[r].rows[i], &results[r]};
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
    free(B.parts);
    set_free(&B.names);
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
