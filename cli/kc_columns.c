/*
 * kc_columns.c: the fields of connection rows and groups, one getter per
 * field. See kc_columns.h.
 */
#include "kc_columns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- value helpers ------------------------------------------------------------ */

static void v_int(kc_value *v, int64_t i)
{
    v->kind = KC_V_INT;
    v->i = i;
}

static void v_str(kc_value *v, kcp_str s)
{
    v->kind = s.len < 0 ? KC_V_NULL : KC_V_STR;
    v->name.a = s;
    v->name.b = KCP_STR_NULL;
}

static void v_cstr(kc_value *v, const char *s)
{
    v_str(v, kcp_str_c(s));
}

/* A timestamp where -1 means "never" (AuthenticatedAtMs, SessionExpiresAtMs, ClosedAtMs). */
static void v_time(kc_value *v, int64_t ms)
{
    v->kind = ms < 0 ? KC_V_NULL : KC_V_TIME;
    v->i = ms;
}

static void v_names(kc_value *v, const kc_names *names)
{
    v->kind = names->known ? KC_V_NAMES : KC_V_NULL;
    v->names = names;
    v->n = names->n;
}

const char *kc_state_name(int state, char scratch[24])
{
    static const char *const names[] = {"authenticating", "open", "closing", "closed"};
    if (state >= 0 && state < 4)
        return names[state];
    snprintf(scratch, 24, "%d", state);
    return scratch;
}

const char *kc_protocol_name(int protocol, char scratch[24])
{
    static const char *const names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    if (protocol >= 0 && protocol < 4)
        return names[protocol];
    snprintf(scratch, 24, "%d", protocol);
    return scratch;
}

/* ---- connection rows ----------------------------------------------------------- */

#define ROW(obj) ((const kc_row *)(obj))
#define CONN(obj) (ROW(obj)->c)
#define WIRE(obj) (CONN(obj)->w)

/* One getter per field, one line each. Strings go through the
 * kc_connection accessors (the row holds indexes into its page's Strings),
 * numbers are read from the decoded row. */
#define STR_GETTER(fn, name)                                                                     \
    static void fn(const void *o, kc_value *v)                                                    \
    {                                                                                             \
        v_str(v, kc_connection_##name(CONN(o)));                                                 \
    }
#define INT_GETTER(fn, expr)                                                                     \
    static void fn(const void *o, kc_value *v)                                                    \
    {                                                                                             \
        v_int(v, (expr));                                                                         \
    }
#define TIME_GETTER(fn, field)                                                                   \
    static void fn(const void *o, kc_value *v)                                                    \
    {                                                                                             \
        v_time(v, WIRE(o)->field);                                                                \
    }

INT_GETTER(c_node_id, ROW(o)->broker->broker.node_id)
STR_GETTER(c_close_reason, close_reason)
STR_GETTER(c_principal, principal)
STR_GETTER(c_listener, listener)
STR_GETTER(c_sasl_mechanism, sasl_mechanism)
STR_GETTER(c_tls_protocol, tls_protocol)
STR_GETTER(c_tls_cipher, tls_cipher)
STR_GETTER(c_peer_subject, peer_certificate_subject)
STR_GETTER(c_peer_issuer, peer_certificate_issuer)
STR_GETTER(c_peer_serial, peer_certificate_serial)
STR_GETTER(c_client_host, client_host)
INT_GETTER(c_client_port, WIRE(o)->client_port)
STR_GETTER(c_local_host, local_host)
INT_GETTER(c_local_port, WIRE(o)->local_port)
STR_GETTER(c_client_id, client_id)
STR_GETTER(c_sw_name, client_software_name)
STR_GETTER(c_sw_version, client_software_version)
TIME_GETTER(c_connected_at, connected_at_ms)
TIME_GETTER(c_authenticated_at, authenticated_at_ms)
TIME_GETTER(c_last_activity_at, last_activity_at_ms)
INT_GETTER(c_idle_ms, kc_row_idle_ms(ROW(o)))
INT_GETTER(c_requests, WIRE(o)->requests)
INT_GETTER(c_bytes_in, WIRE(o)->bytes_in)
INT_GETTER(c_bytes_out, WIRE(o)->bytes_out)
TIME_GETTER(c_session_expires_at, session_expires_at_ms)
TIME_GETTER(c_closed_at, closed_at_ms)

/* The one string a row carries itself. */
static void c_connection_id(const void *o, kc_value *v)
{
    v_str(v, WIRE(o)->connection_id);
}

static void c_state(const void *o, kc_value *v)
{
    v_cstr(v, kc_state_name(WIRE(o)->state, v->scratch));
}

static void c_security_protocol(const void *o, kc_value *v)
{
    v_cstr(v, kc_protocol_name(WIRE(o)->security_protocol, v->scratch));
}

static void c_client(const void *o, kc_value *v)
{
    v->kind = KC_V_ENDPOINT;
    v->name.a = kc_connection_client_host(CONN(o));
    v->i = WIRE(o)->client_port;
}

static void c_broker(const void *o, kc_value *v)
{
    v->kind = KC_V_ENDPOINT;
    v->name.a = kcp_str_c(ROW(o)->broker->broker.host ? ROW(o)->broker->broker.host : "");
    v->i = ROW(o)->broker->broker.port;
}

static void c_client_software(const void *o, kc_value *v)
{
    v->kind = KC_V_NAME;
    v->name.a = kc_connection_client_software_name(CONN(o));
    v->name.b = kc_connection_client_software_version(CONN(o));
}

static void c_idle(const void *o, kc_value *v)
{
    v->kind = KC_V_DURATION;
    v->i = kc_row_idle_ms(ROW(o));
}

/* JSON key order: as kafka-connections(1) documents it, extra fields next
 * to their kin; the fields for people (client, client_software, idle, broker) last. */
const kc_column kc_conn_columns[] = {
    {"node_id", c_node_id, false, true, 0},
    {"connection_id", c_connection_id, false, true, 0},
    {"state", c_state, false, true, 0},
    {"close_reason", c_close_reason, false, true, 0},
    {"principal", c_principal, false, true, 0},
    {"listener", c_listener, false, true, 0},
    {"security_protocol", c_security_protocol, false, true, 0},
    {"sasl_mechanism", c_sasl_mechanism, false, true, 0},
    {"tls_protocol", c_tls_protocol, false, true, 0},
    {"tls_cipher", c_tls_cipher, false, true, 0},
    {"peer_certificate_subject", c_peer_subject, false, true, 0},
    {"peer_certificate_issuer", c_peer_issuer, false, true, 0},
    {"peer_certificate_serial", c_peer_serial, false, true, 0},
    {"client_host", c_client_host, false, true, 0},
    {"client_port", c_client_port, false, true, 0},
    {"local_host", c_local_host, false, true, 0},
    {"local_port", c_local_port, false, true, 0},
    {"client_id", c_client_id, false, true, 0},
    {"client_software_name", c_sw_name, false, true, 0},
    {"client_software_version", c_sw_version, false, true, 0},
    {"connected_at", c_connected_at, false, true, 0},
    {"authenticated_at", c_authenticated_at, false, true, 0},
    {"last_activity_at", c_last_activity_at, false, true, 0},
    {"idle_ms", c_idle_ms, true, true, 0},
    {"requests", c_requests, true, true, 0},
    {"bytes_in", c_bytes_in, true, true, 0},
    {"bytes_out", c_bytes_out, true, true, 0},
    {"session_expires_at", c_session_expires_at, false, true, 0},
    {"closed_at", c_closed_at, false, true, 0},
    {"client", c_client, false, false, 0},
    {"client_software", c_client_software, false, false, 0},
    {"idle", c_idle, true, false, 0},
    {"broker", c_broker, false, false, 0},
};
const size_t kc_n_conn_columns = sizeof kc_conn_columns / sizeof kc_conn_columns[0];

/* ---- groups ---------------------------------------------------------------------- */

#define GROUP(obj) ((const kc_group *)(obj))
#define BROKER_RESULT(obj) (GROUP(obj)->broker)

static void g_key(const void *o, kc_value *v)
{
    const kc_group *g = GROUP(o);
    if (g->kind == KC_GROUP_BROKER) {
        v_int(v, g->node_id);
    } else {
        v->kind = g->key.b.len < 0 ? KC_V_STR : KC_V_NAME;
        v->name = g->key;
    }
}

static void g_connections(const void *o, kc_value *v)
{
    const kc_group *g = GROUP(o);
    if (kc_group_unknown(g))
        v->kind = KC_V_NULL;
    else
        v_int(v, g->connections);
}

static void g_brokers(const void *o, kc_value *v)
{
    if (kc_group_unknown(GROUP(o))) {
        v->kind = KC_V_NULL;
        return;
    }
    v->kind = KC_V_NODES;
    v->nodes = GROUP(o)->brokers;
    v->n = GROUP(o)->n_brokers;
}

static void g_principals(const void *o, kc_value *v)
{
    v_names(v, &GROUP(o)->principals);
}

static void g_addresses(const void *o, kc_value *v)
{
    v_names(v, &GROUP(o)->client_addresses);
}

static void g_software(const void *o, kc_value *v)
{
    v_names(v, &GROUP(o)->client_software);
}

static void g_listeners(const void *o, kc_value *v)
{
    v_names(v, &GROUP(o)->listeners);
}

static void g_host(const void *o, kc_value *v)
{
    v_cstr(v, BROKER_RESULT(o) ? BROKER_RESULT(o)->broker.host : NULL);
}

static void g_port(const void *o, kc_value *v)
{
    if (BROKER_RESULT(o) && BROKER_RESULT(o)->broker.host)
        v_int(v, BROKER_RESULT(o)->broker.port);
}

static void g_endpoint(const void *o, kc_value *v)
{
    const kc_result *r = BROKER_RESULT(o);
    /* A --broker id missing from the metadata has no address. */
    if (r && r->broker.host) {
        v->kind = KC_V_ENDPOINT;
        v->name.a = kcp_str_c(r->broker.host);
        v->i = r->broker.port;
    }
}

static void g_status(const void *o, kc_value *v)
{
    if (BROKER_RESULT(o))
        v_cstr(v, kc_status_name(BROKER_RESULT(o)->status));
}

static void g_error(const void *o, kc_value *v)
{
    if (BROKER_RESULT(o))
        v_cstr(v, BROKER_RESULT(o)->error);
}

static void g_restricted(const void *o, kc_value *v)
{
    const kc_result *r = BROKER_RESULT(o);
    if (r && r->status == KC_OK) {
        v->kind = KC_V_BOOL;
        v->i = r->restricted;
    }
}

#define BIT(k) (1u << (k))
#define ALL_GROUPS                                                                               \
    (BIT(KC_GROUP_PRINCIPAL) | BIT(KC_GROUP_BROKER) | BIT(KC_GROUP_CLIENT_SOFTWARE) |            \
     BIT(KC_GROUP_CLIENT_ADDRESS) | BIT(KC_GROUP_LISTENER))
#define BUT(k) (ALL_GROUPS & ~BIT(k))

/* The first five are the key column of each kind of group. */
const kc_column kc_group_columns[] = {
    {"principal", g_key, false, false, BIT(KC_GROUP_PRINCIPAL)},
    {"node_id", g_key, false, false, BIT(KC_GROUP_BROKER)},
    {"client_software", g_key, false, false, BIT(KC_GROUP_CLIENT_SOFTWARE)},
    {"client_address", g_key, false, false, BIT(KC_GROUP_CLIENT_ADDRESS)},
    {"listener", g_key, false, false, BIT(KC_GROUP_LISTENER)},
    {"host", g_host, false, false, BIT(KC_GROUP_BROKER)},
    {"port", g_port, false, false, BIT(KC_GROUP_BROKER)},
    {"endpoint", g_endpoint, false, false, BIT(KC_GROUP_BROKER)},
    {"status", g_status, false, false, BIT(KC_GROUP_BROKER)},
    {"restricted", g_restricted, false, false, BIT(KC_GROUP_BROKER)},
    {"connections", g_connections, true, false, ALL_GROUPS},
    {"brokers", g_brokers, true, false, BUT(KC_GROUP_BROKER)},
    {"principals", g_principals, true, false, BUT(KC_GROUP_PRINCIPAL)},
    {"client_addresses", g_addresses, true, false, BUT(KC_GROUP_CLIENT_ADDRESS)},
    {"client_software", g_software, true, false, BUT(KC_GROUP_CLIENT_SOFTWARE)},
    {"listeners", g_listeners, true, false, BUT(KC_GROUP_LISTENER)},
    {"error", g_error, false, false, BIT(KC_GROUP_BROKER)},
};
const size_t kc_n_group_columns = sizeof kc_group_columns / sizeof kc_group_columns[0];

/* ---- lookup -------------------------------------------------------------------------- */

const kc_column *kc_view_columns(int group_by, size_t *n)
{
    if (group_by == KC_GROUP_NONE) {
        *n = kc_n_conn_columns;
        return kc_conn_columns;
    }
    *n = kc_n_group_columns;
    return kc_group_columns;
}

static bool applies(int group_by, const kc_column *c)
{
    return group_by == KC_GROUP_NONE || (c->groups & BIT(group_by));
}

int kc_column_find(int group_by, const char *name)
{
    size_t n;
    const kc_column *cols = kc_view_columns(group_by, &n);
    for (size_t i = 0; i < n; i++) {
        if (!applies(group_by, &cols[i]))
            continue;
        if (strcmp(cols[i].name, name) == 0 ||
            (group_by != KC_GROUP_NONE && cols[i].get == g_key && strcmp(name, "key") == 0))
            return (int)i;
    }
    return -1;
}

/* Summaries carry counts by principal, listener and client software only. */
static bool available(int group_by, bool summary, const kc_column *c)
{
    return !summary || group_by == KC_GROUP_NONE || c->get != g_addresses;
}

/* Writes "a, b, c" of every column valid for group_by. */
static void list_columns(int group_by, bool summary, char *out, size_t size)
{
    size_t n, len = 0;
    const kc_column *cols = kc_view_columns(group_by, &n);
    out[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        if (!applies(group_by, &cols[i]) || !available(group_by, summary, &cols[i]))
            continue;
        int w = snprintf(out + len, size - len, "%s%s", len ? ", " : "", cols[i].name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

/* Finds name for option opt, or explains what is valid. */
static int find_for(const char *opt, int group_by, bool summary, const char *name, size_t len,
                    char *errstr, size_t errstr_size)
{
    char copy[64], valid[1024];
    snprintf(copy, sizeof copy, "%.*s", (int)(len < sizeof copy ? len : sizeof copy - 1), name);
    int i = len < sizeof copy ? kc_column_find(group_by, copy) : -1;
    size_t n;
    const kc_column *cols = kc_view_columns(group_by, &n);
    if (i >= 0 && available(group_by, summary, &cols[i]))
        return i;
    list_columns(group_by, summary, valid, sizeof valid);
    if (i >= 0)
        snprintf(errstr, errstr_size, "%s: '%s' is not available with --summary (one of: %s)", opt,
                 copy, valid);
    else
        snprintf(errstr, errstr_size, "%s: unknown field '%s' for --group-by %s (one of: %s)", opt,
                 copy, kc_group_by_name(group_by), valid);
    return -1;
}

int kc_sort_parse(int group_by, bool summary, const char *text, kc_sort *out, char *errstr,
                  size_t errstr_size)
{
    const char *colon = strchr(text, ':');
    size_t len = colon ? (size_t)(colon - text) : strlen(text);
    int i = find_for("--sort", group_by, summary, text, len, errstr, errstr_size);
    if (i < 0)
        return -1;
    size_t n;
    out->column = i;
    out->desc = kc_view_columns(group_by, &n)[i].desc_first;
    if (colon) {
        if (strcmp(colon + 1, "asc") == 0) {
            out->desc = false;
        } else if (strcmp(colon + 1, "desc") == 0) {
            out->desc = true;
        } else {
            snprintf(errstr, errstr_size, "--sort: '%s' is not asc or desc", colon + 1);
            return -1;
        }
    }
    return 0;
}

int kc_columns_parse(int group_by, bool summary, const char *text, int **cols, size_t *n,
                     char *errstr, size_t errstr_size)
{
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    *cols = malloc(cap * sizeof **cols);
    *n = 0;
    if (!*cols) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (const char *p = text;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            snprintf(errstr, errstr_size, "--columns: empty column name in '%s'", text);
            return -1;
        }
        int i = find_for("--columns", group_by, summary, p, len, errstr, errstr_size);
        if (i < 0)
            return -1;
        (*cols)[(*n)++] = i;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

void kc_columns_default(int group_by, bool summary, bool for_csv, int **cols, size_t *n)
{
    static const char *const table_defaults[] = {
        [KC_GROUP_PRINCIPAL] = "principal,connections,brokers,client_addresses,client_software",
        [KC_GROUP_BROKER] = "node_id,endpoint,status,connections,principals",
        [KC_GROUP_CLIENT_SOFTWARE] = "client_software,connections,principals,brokers",
        [KC_GROUP_CLIENT_ADDRESS] = "client_address,connections,principals,client_software",
        [KC_GROUP_LISTENER] = "listener,connections,principals,brokers",
        [KC_GROUP_NONE] =
            "node_id,principal,client,client_id,client_software,listener,state,idle,connected_at",
    };
    size_t total;
    const kc_column *all = kc_view_columns(group_by, &total);
    char err[8];
    *n = 0;
    if (!for_csv) {
        if (kc_columns_parse(group_by, false, table_defaults[group_by], cols, n, err, sizeof err))
            *n = 0;
        /* Summaries know no addresses: drop that column rather than show dashes. */
        for (size_t i = 0; summary && i < *n; i++) {
            if (!available(group_by, summary, &all[(*cols)[i]])) {
                memmove(*cols + i, *cols + i + 1, (*n - i - 1) * sizeof **cols);
                (*n)--;
                i--;
            }
        }
        return;
    }
    /* A CSV row carries the whole record: every JSON field of a connection,
     * every field of a group. */
    *cols = malloc(total * sizeof **cols);
    for (size_t i = 0; *cols && i < total; i++) {
        if (group_by == KC_GROUP_NONE ? all[i].in_json
                                      : applies(group_by, &all[i]) &&
                                            available(group_by, summary, &all[i]))
            (*cols)[(*n)++] = (int)i;
    }
}

/* ---- ordering -------------------------------------------------------------------------- */

int kc_value_cmp(const kc_value *a, const kc_value *b)
{
    if (a->kind == KC_V_NULL || b->kind == KC_V_NULL)
        return (a->kind == KC_V_NULL) - (b->kind == KC_V_NULL);
    switch (a->kind) {
    case KC_V_STR:
    case KC_V_NAME: return kc_name_cmp(&a->name, &b->name);
    case KC_V_ENDPOINT: {
        int c = kc_str_cmp(a->name.a, b->name.a);
        return c ? c : (a->i > b->i) - (a->i < b->i);
    }
    case KC_V_NAMES:
    case KC_V_NODES: return (a->n > b->n) - (a->n < b->n);
    default: return (a->i > b->i) - (a->i < b->i);
    }
}
