/*
 * kb_config.c: the reference broker's configuration. A properties file in
 * java.util.Properties syntax plus key=value overrides become a table of
 * entries (last one wins, as in Properties); each known property is then
 * parsed by its own function in the order of the table below, which is also
 * the order of their dependencies, and the combination is checked last.
 */
#include "kb_config.h"

#include "kcb.h"
#include "kcp_properties.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Durations top out near 31 years, so now_ms + any of them cannot overflow. */
#define MS_MAX INT64_C(1000000000000)
/* The registry may preallocate one slot per closed connection it keeps. */
#define HISTORY_MAX 1000000
/* Synthetic records cost a few hundred bytes each: 10M stays within a
 * test machine's memory. */
#define SYNTHETIC_MAX 10000000

typedef struct entry {
    char *key;
    char *value;
} entry;

/* listener.security.protocol.map, needed only while parsing listeners. */
typedef struct proto_map {
    char *listener;
    int protocol;
} proto_map;

typedef struct loader {
    kb_config *cfg;
    entry *entries;
    size_t n_entries, cap_entries;
    proto_map *map;
    size_t n_map;
    bool have_node_id;
    char *err;
    size_t err_size;
} loader;

static int fail(loader *L, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int fail(loader *L, const char *fmt, ...)
{
    if (L->err && L->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->err, L->err_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int no_memory(loader *L)
{
    return fail(L, "out of memory");
}

/* Makes room for one more element of an array that grows by doubling. */
static int grow(loader *L, void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return no_memory(L);
    *arr = p;
    *cap = ncap;
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Kafka trims every value (String.trim: any char <= ' ') before parsing. */
static bool trim_space(char c)
{
    return c > 0 && c <= ' ';
}

static void trim(const char **s, size_t *n)
{
    while (*n && trim_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && trim_space((*s)[*n - 1]))
        (*n)--;
}

/* ---- entries ------------------------------------------------------------ */

/* Takes key and value (malloc'd) whatever happens; a repeated key replaces. */
static int set_entry(loader *L, char *key, char *value)
{
    if (!key || !value) {
        free(key);
        free(value);
        return no_memory(L);
    }
    for (size_t i = 0; i < L->n_entries; i++) {
        if (strcmp(L->entries[i].key, key) == 0) {
            free(L->entries[i].value);
            L->entries[i].value = value;
            free(key);
            return 0;
        }
    }
    if (grow(L, (void **)&L->entries, &L->cap_entries, L->n_entries, sizeof *L->entries)) {
        free(key);
        free(value);
        return -1;
    }
    L->entries[L->n_entries++] = (entry){key, value};
    return 0;
}

static const char *get_entry(const loader *L, const char *key)
{
    for (size_t i = 0; i < L->n_entries; i++)
        if (strcmp(L->entries[i].key, key) == 0)
            return L->entries[i].value;
    return NULL;
}

/* ---- the file and overrides --------------------------------------------- */

/* Each property of the file becomes an entry; set_entry fails only for
 * want of memory. */
static int put_property(void *opaque, unsigned line, const char *key, const char *value,
                        char *errstr, size_t errstr_size)
{
    (void)line; /* errors are found while reading, and name it then */
    if (set_entry(opaque, strdup(key), strdup(value)) == 0)
        return 0;
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
}

static int load_file(loader *L, const char *path)
{
    return kcp_properties_load(path, put_property, L, L->err, L->err_size);
}

/* An override is taken literally (the shell already unescaped it). */
static int load_override(loader *L, const char *ov)
{
    const char *eq = strchr(ov, '=');
    /* Name only what looks like the key: the rest may be a password. */
    if (!eq) {
        size_t shown = strcspn(ov, " \t:");
        return fail(L, "override '%.*s%s' is not key=value", (int)shown, ov, ov[shown] ? "..." : "");
    }
    const char *k = ov;
    size_t kn = (size_t)(eq - ov);
    trim(&k, &kn);
    if (kn == 0)
        return fail(L, "an override has no key before '='");
    return set_entry(L, dup_n(k, kn), strdup(eq + 1));
}

/* ---- value parsers ------------------------------------------------------ */

enum { NUM_OK = 0, NUM_NOT_INT, NUM_RANGE };

/* All of s[0..n) as a base-10 integer in [min, max], as Java's parseLong
 * reads it: optional sign, digits only. */
static int to_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    size_t i = 0;
    bool neg = false, big = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return NUM_NOT_INT;
    uint64_t mag = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return NUM_NOT_INT;
        unsigned d = (unsigned)(s[i] - '0');
        if (mag > (UINT64_MAX - d) / 10)
            big = true;
        else
            mag = mag * 10 + d;
    }
    if (big || mag > (uint64_t)INT64_MAX + neg)
        return NUM_RANGE;
    int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (v < min || v > max)
        return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

/* Parses a whole property value as an integer, naming it on error. */
static int parse_int(loader *L, const char *name, const char *value, int64_t min, int64_t max,
                     int64_t *out)
{
    switch (to_int(value, strlen(value), min, max, out)) {
    case NUM_OK: return 0;
    case NUM_NOT_INT: return fail(L, "%s: '%s' is not an integer", name, value);
    default:
        return fail(L, "%s: '%s' is out of range (%lld..%lld)", name, value, (long long)min,
                    (long long)max);
    }
}

typedef struct prop prop;
typedef int (*prop_parse)(loader *L, const prop *p, const char *value);

/* One property. value is the trimmed text given or the default, or NULL
 * when neither exists: each parser decides what absence means. */
struct prop {
    const char *name;
    const char *def;
    prop_parse parse;
    size_t offset, size; /* the kb_config field, if the parser stores one */
    int64_t min, max;    /* for integers */
};

static void *field(const loader *L, const prop *p)
{
    return (char *)L->cfg + p->offset;
}

static int parse_number(loader *L, const prop *p, const char *value)
{
    int64_t v;
    if (!value || parse_int(L, p->name, value, p->min, p->max, &v))
        return value ? -1 : 0;
    /* min and max keep v within the field's type. */
    if (p->size == sizeof(int16_t)) {
        int16_t x = (int16_t)v;
        memcpy(field(L, p), &x, sizeof x);
    } else if (p->size == sizeof(int32_t)) {
        int32_t x = (int32_t)v;
        memcpy(field(L, p), &x, sizeof x);
    } else {
        memcpy(field(L, p), &v, sizeof v);
    }
    return 0;
}

static int store_string(loader *L, const prop *p, const char *value)
{
    char **f = field(L, p);
    free(*f);
    *f = strdup(value);
    return *f ? 0 : no_memory(L);
}

/* An optional string: empty means unset, as operators blank a key that way. */
static int parse_optional(loader *L, const prop *p, const char *value)
{
    return value && *value ? store_string(L, p, value) : 0;
}

static int parse_nonempty(loader *L, const prop *p, const char *value)
{
    if (!*value)
        return fail(L, "%s: must not be empty", p->name);
    return store_string(L, p, value);
}

/* The realm is the domain part of a Cyrus user name (user@realm). */
static int parse_realm(loader *L, const prop *p, const char *value)
{
    if (!*value || strpbrk(value, "@ \t\r\n\v\f"))
        return fail(L, "%s: must be a non-empty name without '@' or white space", p->name);
    return store_string(L, p, value);
}

static int parse_node_id(loader *L, const prop *p, const char *value)
{
    if (!value)
        return 0;
    int64_t v;
    if (parse_int(L, p->name, value, 0, INT32_MAX, &v))
        return -1;
    /* broker.id is the older name of node.id; both may be given if equal. */
    if (L->have_node_id && L->cfg->node_id != v)
        return fail(L, "%s: '%s' differs from node.id '%d'", p->name, value, (int)L->cfg->node_id);
    L->cfg->node_id = (int32_t)v;
    L->have_node_id = true;
    return 0;
}

/* The standard APIs the broker serves next to DescribeConnections. */
static const struct {
    int16_t key;
    const char *name;
} served_apis[] = {
    {3, "Metadata"}, {17, "SaslHandshake"}, {18, "ApiVersions"},
    {36, "SaslAuthenticate"}, {60, "DescribeCluster"},
};

static int parse_api_key(loader *L, const prop *p, const char *value)
{
    if (parse_number(L, p, value))
        return -1;
    for (size_t i = 0; i < sizeof served_apis / sizeof served_apis[0]; i++)
        if (served_apis[i].key == L->cfg->describe_connections_api_key)
            return fail(L, "%s: '%s' is the key of %s, which this broker also serves", p->name,
                        value, served_apis[i].name);
    return 0;
}

/* Kafka's PEM keystores are the only kind OpenSSL reads without a JVM. */
static int parse_pem_only(loader *L, const prop *p, const char *value)
{
    if (strcmp(value, "PEM") != 0)
        return fail(L, "%s: '%s' is not supported (only PEM)", p->name, value);
    return 0;
}

static int parse_client_auth(loader *L, const prop *p, const char *value)
{
    static const char *const names[] = {"none", "requested", "required"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(value, names[i]) == 0) {
            L->cfg->ssl_client_auth = i;
            return 0;
        }
    }
    return fail(L, "%s: '%s' is not one of none, requested, required", p->name, value);
}

/* Kafka's LIST type: comma-separated items, each trimmed, none empty.
 * Returns 1 with the next item, 0 at the end, -1 on an empty item. */
static int next_item(loader *L, const prop *p, const char *value, const char **pos,
                     const char **item, size_t *len)
{
    if (**pos == '\0')
        return 0;
    const char *comma = strchr(*pos, ',');
    const char *end = comma ? comma : *pos + strlen(*pos);
    *item = *pos;
    *len = (size_t)(end - *pos);
    trim(item, len);
    *pos = comma ? comma + 1 : end;
    if (*len == 0 || (comma && **pos == '\0'))
        return fail(L, "%s: empty entry in '%s'", p->name, value);
    return 1;
}

static const char *const supported_mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

static int parse_mechanisms(loader *L, const prop *p, const char *value)
{
    kb_config *c = L->cfg;
    size_t cap = 0;
    const char *pos = value, *item;
    size_t len;
    int rc;
    while ((rc = next_item(L, p, value, &pos, &item, &len)) == 1) {
        const char *known = NULL;
        for (size_t i = 0; i < 3; i++)
            if (strlen(supported_mechanisms[i]) == len &&
                memcmp(supported_mechanisms[i], item, len) == 0)
                known = supported_mechanisms[i];
        if (!known)
            return fail(L, "%s: '%.*s' is not supported (supported: PLAIN, SCRAM-SHA-256, "
                           "SCRAM-SHA-512)",
                        p->name, (int)len, item);
        for (size_t i = 0; i < c->n_sasl_mechanisms; i++)
            if (strcmp(c->sasl_mechanisms[i], known) == 0)
                return fail(L, "%s: '%s' is listed twice", p->name, known);
        if (grow(L, (void **)&c->sasl_mechanisms, &cap, c->n_sasl_mechanisms,
                 sizeof *c->sasl_mechanisms))
            return -1;
        if (!(c->sasl_mechanisms[c->n_sasl_mechanisms] = strdup(known)))
            return no_memory(L);
        c->n_sasl_mechanisms++;
    }
    return rc;
}

/* super.users: "User:alice;User:bob", each a principal TYPE:NAME. */
static int parse_super_users(loader *L, const prop *p, const char *value)
{
    if (!value || !*value)
        return 0;
    for (const char *s = value; *s;) {
        const char *end = strchr(s, ';');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        const char *e = s;
        trim(&e, &n);
        const char *colon = memchr(e, ':', n);
        if (n && (!colon || colon == e || colon == e + n - 1))
            return fail(L, "%s: '%.*s' is not a principal (expected User:NAME)", p->name, (int)n,
                        e);
        s = end ? end + 1 : s + strlen(s);
    }
    return store_string(L, p, value);
}

/* ---- endpoints ---------------------------------------------------------- */

static const char *const protocol_names[] = {
    [KCB_PLAINTEXT] = "PLAINTEXT",
    [KCB_SSL] = "SSL",
    [KCB_SASL_PLAINTEXT] = "SASL_PLAINTEXT",
    [KCB_SASL_SSL] = "SASL_SSL",
};
#define N_PROTOCOLS (sizeof protocol_names / sizeof protocol_names[0])

static bool uses_sasl(int protocol)
{
    return protocol == KCB_SASL_PLAINTEXT || protocol == KCB_SASL_SSL;
}

static bool uses_tls(int protocol)
{
    return protocol == KCB_SSL || protocol == KCB_SASL_SSL;
}

static void free_endpoints(kb_endpoint *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].listener);
        free(e[i].host);
    }
    free(e);
}

static bool valid_listener_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return n > 0;
}

/* Listener names are case-insensitive in Kafka, which upper-cases them. */
static char *upper_dup(const char *s, size_t n)
{
    char *d = dup_n(s, n);
    for (char *q = d; q && *q; q++)
        *q = (char)toupper((unsigned char)*q);
    return d;
}

static bool host_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* "HOST:PORT" or "[IPV6]:PORT"; HOST may be empty (all interfaces). The
 * host is returned without brackets, as clients expect it in Metadata. */
static int parse_host_port(loader *L, const char *name, const char *item, size_t item_len,
                           const char *s, size_t n, char **host, uint16_t *port)
{
    const char *h = s, *colon;
    size_t hn;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close || close + 1 == s + n || close[1] != ':')
            return fail(L, "%s: '%.*s' has no port after the IPv6 address", name, (int)item_len,
                        item);
        h = s + 1;
        hn = (size_t)(close - h);
        colon = close + 1;
        char tmp[INET6_ADDRSTRLEN + 1] = "";
        unsigned char addr[16];
        if (hn < sizeof tmp)
            memcpy(tmp, h, hn);
        if (hn >= sizeof tmp || inet_pton(AF_INET6, tmp, addr) != 1)
            return fail(L, "%s: '%.*s' has an invalid IPv6 address '%.*s'", name, (int)item_len,
                        item, (int)hn, h);
    } else {
        colon = NULL;
        for (const char *q = s; q < s + n; q++)
            if (*q == ':')
                colon = q;
        if (!colon)
            return fail(L, "%s: '%.*s' has no port", name, (int)item_len, item);
        hn = (size_t)(colon - s);
        if (memchr(s, ':', hn))
            return fail(L, "%s: '%.*s' needs brackets around its IPv6 address", name,
                        (int)item_len, item);
        for (size_t i = 0; i < hn; i++)
            if (!host_char(s[i]))
                return fail(L, "%s: '%.*s' has an invalid host '%.*s'", name, (int)item_len,
                            item, (int)hn, s);
    }
    const char *ps = colon + 1;
    size_t pn = (size_t)(s + n - ps);
    int64_t v;
    switch (to_int(ps, pn, 1, 65535, &v)) {
    case NUM_OK: break;
    case NUM_NOT_INT:
        return fail(L, "%s: '%.*s' has a port '%.*s' that is not an integer", name,
                    (int)item_len, item, (int)pn, ps);
    default:
        return fail(L, "%s: '%.*s' has a port '%.*s' out of range (1..65535)", name,
                    (int)item_len, item, (int)pn, ps);
    }
    *port = (uint16_t)v;
    *host = dup_n(h, hn);
    return *host ? 0 : no_memory(L);
}

static int map_lookup(const loader *L, const char *listener)
{
    for (size_t i = 0; i < L->n_map; i++)
        if (strcmp(L->map[i].listener, listener) == 0)
            return L->map[i].protocol;
    return -1;
}

/* NAME://HOST:PORT with NAME in listener.security.protocol.map. The caller
 * frees out's strings even on error. */
static int parse_endpoint(loader *L, const char *name, const char *s, size_t n, kb_endpoint *out)
{
    const char *sep = NULL;
    for (const char *q = s; q + 3 <= s + n; q++)
        if (memcmp(q, "://", 3) == 0) {
            sep = q;
            break;
        }
    if (!sep)
        return fail(L, "%s: '%.*s' is not NAME://HOST:PORT", name, (int)n, s);
    size_t ln = (size_t)(sep - s);
    if (!valid_listener_name(s, ln))
        return fail(L, "%s: '%.*s' has an invalid listener name '%.*s'", name, (int)n, s,
                    (int)ln, s);
    if (!(out->listener = upper_dup(s, ln)))
        return no_memory(L);
    if ((out->security_protocol = map_lookup(L, out->listener)) < 0)
        return fail(L, "%s: listener '%s' is not in listener.security.protocol.map", name,
                    out->listener);
    return parse_host_port(L, name, s, n, sep + 3, (size_t)(s + n - sep - 3), &out->host,
                           &out->port);
}

/* Parses a list of endpoints; an empty value gives none. */
static int parse_endpoints(loader *L, const prop *p, const char *value, kb_endpoint **out,
                           size_t *n_out)
{
    size_t cap = 0;
    const char *pos = value, *item;
    size_t len;
    int rc;
    while ((rc = next_item(L, p, value, &pos, &item, &len)) == 1) {
        if (grow(L, (void **)out, &cap, *n_out, sizeof **out))
            return -1;
        kb_endpoint *e = &(*out)[(*n_out)++];
        *e = (kb_endpoint){0};
        if (parse_endpoint(L, p->name, item, len, e))
            return -1;
        for (size_t i = 0; i + 1 < *n_out; i++)
            if (strcmp((*out)[i].listener, e->listener) == 0)
                return fail(L, "%s: listener '%s' appears twice", p->name, e->listener);
    }
    return rc;
}

static int protocol_id(const char *s, size_t n)
{
    for (size_t i = 0; i < N_PROTOCOLS; i++)
        if (strlen(protocol_names[i]) == n && strncasecmp(protocol_names[i], s, n) == 0)
            return (int)i;
    return -1;
}

/* listener.security.protocol.map: "NAME:PROTOCOL,...". */
static int parse_protocol_map(loader *L, const prop *p, const char *value)
{
    size_t cap = 0;
    const char *pos = value, *item;
    size_t len;
    int rc;
    while ((rc = next_item(L, p, value, &pos, &item, &len)) == 1) {
        const char *colon = memchr(item, ':', len);
        size_t ln = colon ? (size_t)(colon - item) : 0;
        if (!valid_listener_name(item, ln))
            return fail(L, "%s: '%.*s' is not NAME:PROTOCOL", p->name, (int)len, item);
        const char *proto = colon + 1;
        size_t pn = (size_t)(item + len - proto);
        int id = protocol_id(proto, pn);
        if (id < 0)
            return fail(L, "%s: '%.*s' is not a security protocol (PLAINTEXT, SSL, "
                           "SASL_PLAINTEXT, SASL_SSL)",
                        p->name, (int)pn, proto);
        if (grow(L, (void **)&L->map, &cap, L->n_map, sizeof *L->map))
            return -1;
        proto_map *m = &L->map[L->n_map];
        if (!(m->listener = upper_dup(item, ln)))
            return no_memory(L);
        m->protocol = id;
        if (map_lookup(L, m->listener) >= 0) {
            fail(L, "%s: listener '%s' appears twice", p->name, m->listener);
            free(m->listener);
            return -1;
        }
        L->n_map++;
    }
    return rc;
}

static int parse_listeners(loader *L, const prop *p, const char *value)
{
    kb_config *c = L->cfg;
    if (!value)
        return fail(L, "listeners is required");
    if (parse_endpoints(L, p, value, &c->listeners, &c->n_listeners))
        return -1;
    if (c->n_listeners == 0)
        return fail(L, "%s: no listener given", p->name);
    /* An empty host binds every interface, so it clashes with any host. */
    for (size_t i = 0; i < c->n_listeners; i++)
        for (size_t j = 0; j < i; j++) {
            const kb_endpoint *a = &c->listeners[i], *b = &c->listeners[j];
            if (a->port == b->port && (!*a->host || !*b->host || strcmp(a->host, b->host) == 0))
                return fail(L, "%s: listeners '%s' and '%s' both use port %u", p->name,
                            b->listener, a->listener, (unsigned)a->port);
        }
    return 0;
}

static const kb_endpoint *find_endpoint(const kb_endpoint *e, size_t n, const char *listener)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(e[i].listener, listener) == 0)
            return &e[i];
    return NULL;
}

static int copy_endpoints(loader *L, const kb_endpoint *src, size_t n, kb_endpoint **out,
                          size_t *n_out)
{
    if (!(*out = calloc(n ? n : 1, sizeof **out)))
        return no_memory(L);
    for (*n_out = 0; *n_out < n; (*n_out)++) {
        kb_endpoint *d = &(*out)[*n_out];
        *d = src[*n_out];
        d->listener = strdup(src[*n_out].listener);
        d->host = strdup(src[*n_out].host);
        if (!d->listener || !d->host) {
            (*n_out)++;
            return no_memory(L);
        }
    }
    return 0;
}

/* An empty host, 0.0.0.0 or :: binds every interface; clients cannot
 * connect to it, so it must not be advertised (Kafka refuses 0.0.0.0 too). */
static bool binds_all(const char *host)
{
    unsigned char addr[16], zero[16] = {0};
    if (!*host)
        return true;
    if (inet_pton(AF_INET, host, addr) == 1)
        return memcmp(addr, zero, 4) == 0;
    return inet_pton(AF_INET6, host, addr) == 1 && memcmp(addr, zero, 16) == 0;
}

static int check_connectable(loader *L, const char *name, const kb_endpoint *e)
{
    if (binds_all(e->host))
        return fail(L, "%s: listener '%s' has host '%s', which clients cannot connect to", name,
                    e->listener, e->host);
    return 0;
}

static int parse_advertised(loader *L, const prop *p, const char *value)
{
    kb_config *c = L->cfg;
    if (!value || !*value) {
        for (size_t i = 0; i < c->n_listeners; i++)
            if (binds_all(c->listeners[i].host))
                return fail(L, "listeners: listener '%s' binds all interfaces; set "
                               "advertised.listeners to an address clients can reach",
                            c->listeners[i].listener);
        return copy_endpoints(L, c->listeners, c->n_listeners, &c->advertised, &c->n_advertised);
    }
    if (parse_endpoints(L, p, value, &c->advertised, &c->n_advertised))
        return -1;
    for (size_t i = 0; i < c->n_advertised; i++) {
        const kb_endpoint *e = &c->advertised[i];
        if (!find_endpoint(c->listeners, c->n_listeners, e->listener))
            return fail(L, "%s: listener '%s' is not in listeners", p->name, e->listener);
        if (check_connectable(L, p->name, e))
            return -1;
    }
    return 0;
}

static void free_nodes(kb_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_endpoints(nodes[i].endpoints, nodes[i].n_endpoints);
    free(nodes);
}

/* Finds node id in cfg->nodes or appends it. */
static kb_node *node_for(loader *L, int32_t id, size_t *cap)
{
    kb_config *c = L->cfg;
    for (size_t i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].id == id)
            return &c->nodes[i];
    if (grow(L, (void **)&c->nodes, cap, c->n_nodes, sizeof *c->nodes))
        return NULL;
    kb_node *n = &c->nodes[c->n_nodes++];
    *n = (kb_node){.id = id};
    return n;
}

/* One "ID@NAME://HOST:PORT" of cluster.nodes, added to its node. */
static int parse_node_endpoint(loader *L, const prop *p, const char *item, size_t len,
                               size_t *cap_nodes)
{
    const char *at = memchr(item, '@', len);
    int64_t id;
    if (!at || to_int(item, (size_t)(at - item), 0, INT32_MAX, &id) != NUM_OK)
        return fail(L, "%s: '%.*s' is not NODE_ID@NAME://HOST:PORT", p->name, (int)len, item);
    kb_node *node = node_for(L, (int32_t)id, cap_nodes);
    if (!node)
        return -1;
    kb_endpoint *grown = realloc(node->endpoints, (node->n_endpoints + 1) * sizeof *grown);
    if (!grown)
        return no_memory(L);
    node->endpoints = grown;
    kb_endpoint *e = &grown[node->n_endpoints++];
    *e = (kb_endpoint){0};
    if (parse_endpoint(L, p->name, at + 1, (size_t)(item + len - at - 1), e))
        return -1;
    if (!find_endpoint(L->cfg->listeners, L->cfg->n_listeners, e->listener))
        return fail(L, "%s: listener '%s' of node %d is not in listeners", p->name, e->listener,
                    (int)node->id);
    if (find_endpoint(node->endpoints, node->n_endpoints - 1, e->listener))
        return fail(L, "%s: node %d has listener '%s' twice", p->name, (int)node->id,
                    e->listener);
    return check_connectable(L, p->name, e);
}

/* This node's entry must say what advertised.listeners says, or clients
 * would be told two different addresses for the same broker. */
static int check_own_node(loader *L, const prop *p)
{
    const kb_config *c = L->cfg;
    const kb_node *self = NULL;
    for (size_t i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].id == c->node_id)
            self = &c->nodes[i];
    if (!self)
        return fail(L, "%s: does not include this node (node.id %d)", p->name, (int)c->node_id);
    for (size_t i = 0; i < c->n_advertised; i++) {
        const kb_endpoint *a = &c->advertised[i];
        const kb_endpoint *e = find_endpoint(self->endpoints, self->n_endpoints, a->listener);
        if (!e || e->port != a->port || strcmp(e->host, a->host) != 0)
            return fail(L, "%s: node %d must list %s://%s:%u as advertised.listeners does",
                        p->name, (int)c->node_id, a->listener, a->host, (unsigned)a->port);
    }
    for (size_t i = 0; i < self->n_endpoints; i++)
        if (!find_endpoint(c->advertised, c->n_advertised, self->endpoints[i].listener))
            return fail(L, "%s: node %d has listener '%s', which advertised.listeners lacks",
                        p->name, (int)c->node_id, self->endpoints[i].listener);
    return 0;
}

static int parse_cluster_nodes(loader *L, const prop *p, const char *value)
{
    kb_config *c = L->cfg;
    if (!L->have_node_id)
        return 0; /* reported as missing node.id once everything is read */
    if (!value || !*value) {
        if (!(c->nodes = calloc(1, sizeof *c->nodes)))
            return no_memory(L);
        c->n_nodes = 1;
        c->nodes[0].id = c->node_id;
        return copy_endpoints(L, c->advertised, c->n_advertised, &c->nodes[0].endpoints,
                              &c->nodes[0].n_endpoints);
    }
    size_t cap = 0;
    const char *pos = value, *item;
    size_t len;
    int rc;
    while ((rc = next_item(L, p, value, &pos, &item, &len)) == 1)
        if (parse_node_endpoint(L, p, item, len, &cap))
            return -1;
    return rc ? rc : check_own_node(L, p);
}

static int parse_metrics_listener(loader *L, const prop *p, const char *value)
{
    kb_config *c = L->cfg;
    if (!value || !*value)
        return 0;
    if (parse_host_port(L, p->name, value, strlen(value), value, strlen(value), &c->metrics_host,
                        &c->metrics_port))
        return -1;
    return store_string(L, p, value);
}

/* ---- the properties ----------------------------------------------------- */

#define FIELD(f) offsetof(kb_config, f), sizeof(((kb_config *)0)->f)
#define NUMBER(name, def, f, min, max) {name, def, parse_number, FIELD(f), min, max}
#define STRING(name, def, parse, f) {name, def, parse, FIELD(f), 0, 0}
#define CHECK(name, def, parse) {name, def, parse, 0, 0, 0, 0}

/* Parsed in this order: each property comes after those it depends on. */
static const prop props[] = {
    CHECK("node.id", NULL, parse_node_id),
    CHECK("broker.id", NULL, parse_node_id),
    STRING("cluster.id", "kafka-connections", parse_nonempty, cluster_id),
    CHECK("listener.security.protocol.map",
          "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
          parse_protocol_map),
    CHECK("listeners", NULL, parse_listeners),
    CHECK("advertised.listeners", NULL, parse_advertised),
    CHECK("cluster.nodes", NULL, parse_cluster_nodes),
    CHECK("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512", parse_mechanisms),
    STRING("sasl.sasldb.path", NULL, parse_optional, sasldb_path),
    STRING("sasl.realm", "kafka", parse_realm, sasl_realm),
    STRING("sasl.scram.salt.secret", NULL, parse_optional, sasl_scram_salt_secret),
    STRING("super.users", NULL, parse_super_users, super_users),
    NUMBER("connections.max.idle.ms", "600000", connections_max_idle_ms, 1, MS_MAX),
    NUMBER("connections.max.reauth.ms", "0", connections_max_reauth_ms, 0, MS_MAX),
    NUMBER("connections.auth.timeout.ms", "10000", auth_timeout_ms, 1, MS_MAX),
    NUMBER("socket.request.max.bytes", "104857600", socket_request_max_bytes, 1, INT32_MAX),
    NUMBER("max.connections", "2147483647", max_connections, 0, INT32_MAX),
    NUMBER("num.network.threads", "3", num_network_threads, 1, 64),
    CHECK("ssl.keystore.type", "PEM", parse_pem_only),
    STRING("ssl.keystore.location", NULL, parse_optional, ssl_keystore_location),
    STRING("ssl.key.password", NULL, parse_optional, ssl_key_password),
    CHECK("ssl.truststore.type", "PEM", parse_pem_only),
    STRING("ssl.truststore.location", NULL, parse_optional, ssl_truststore_location),
    CHECK("ssl.client.auth", "none", parse_client_auth),
    {"describe.connections.api.key", "1000", parse_api_key, FIELD(describe_connections_api_key),
     0, INT16_MAX},
    NUMBER("connections.history.size", "1000", history_size, 1, HISTORY_MAX),
    NUMBER("connections.history.max.age.ms", "600000", history_max_age_ms, 1, MS_MAX),
    STRING("metrics.listener", NULL, parse_metrics_listener, metrics_listener),
    NUMBER("test.synthetic.connections", "0", test_synthetic_connections, 0,
           SYNTHETIC_MAX),
};
#define N_PROPS (sizeof props / sizeof props[0])

/* Keys of Apache Kafka's sample server.properties that only concern storage,
 * replication, ZooKeeper or the KRaft controller. This broker has none of
 * those, so they are accepted without effect (and reported in cfg->ignored)
 * to let operators start from a copy of their broker's file. Anything that
 * touches client security (authorizer.class.name, listener.name.*,
 * sasl.jaas.config, ...) is deliberately absent: ignoring it would silently
 * weaken what the operator asked for. */
static const char *const no_effect[] = {
    "process.roles",
    "controller.quorum.voters",
    "controller.quorum.bootstrap.servers",
    "controller.listener.names",
    "inter.broker.listener.name",
    "security.inter.broker.protocol",
    "sasl.mechanism.inter.broker.protocol",
    "zookeeper.connect",
    "zookeeper.connection.timeout.ms",
    "num.io.threads",
    "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes",
    "log.dir",
    "log.dirs",
    "num.partitions",
    "num.recovery.threads.per.data.dir",
    "default.replication.factor",
    "min.insync.replicas",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.retention.hours",
    "log.retention.bytes",
    "log.segment.bytes",
    "log.retention.check.interval.ms",
    "group.initial.rebalance.delay.ms",
    "auto.create.topics.enable",
    "delete.topic.enable",
};
#define N_NO_EFFECT (sizeof no_effect / sizeof no_effect[0])

static const prop *find_prop(const char *key)
{
    for (size_t i = 0; i < N_PROPS; i++)
        if (strcmp(props[i].name, key) == 0)
            return &props[i];
    return NULL;
}

static bool has_no_effect(const char *key)
{
    for (size_t i = 0; i < N_NO_EFFECT; i++)
        if (strcmp(no_effect[i], key) == 0)
            return true;
    return false;
}

#define MAX_SUGGEST_LEN 64

/* Levenshtein distance, ignoring case; both shorter than MAX_SUGGEST_LEN. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    size_t row[MAX_SUGGEST_LEN + 1];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* The known name closest to key, if close enough to be a likely typo: at
 * most a quarter of its length away (at least 1, at most 3 edits). */
static const char *closest_name(const char *key)
{
    size_t len = strlen(key);
    if (len >= MAX_SUGGEST_LEN)
        return NULL;
    size_t limit = len / 4 < 1 ? 1 : len / 4 > 3 ? 3 : len / 4;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < N_PROPS; i++) {
        size_t d = edit_distance(key, props[i].name);
        if (d < best_d) {
            best_d = d;
            best = props[i].name;
        }
    }
    return best;
}

static int check_keys(loader *L)
{
    kb_config *c = L->cfg;
    size_t cap = 0;
    for (size_t i = 0; i < L->n_entries; i++) {
        const char *key = L->entries[i].key;
        if (find_prop(key))
            continue;
        if (!has_no_effect(key)) {
            const char *near = closest_name(key);
            if (near)
                return fail(L, "unknown property '%s' (did you mean '%s'?)", key, near);
            return fail(L, "unknown property '%s'", key);
        }
        if (grow(L, (void **)&c->ignored, &cap, c->n_ignored, sizeof *c->ignored))
            return -1;
        if (!(c->ignored[c->n_ignored] = strdup(key)))
            return no_memory(L);
        c->n_ignored++;
    }
    return 0;
}

/* Requirements that span properties, checked once all are parsed. */
static int check_combination(loader *L)
{
    const kb_config *c = L->cfg;
    if (!L->have_node_id)
        return fail(L, "node.id is required (broker.id is accepted as its alias)");
    for (size_t i = 0; i < c->n_listeners; i++) {
        const kb_endpoint *e = &c->listeners[i];
        if (uses_sasl(e->security_protocol) && !c->sasldb_path)
            return fail(L, "sasl.sasldb.path is required by %s listener '%s'",
                        protocol_names[e->security_protocol], e->listener);
        if (uses_sasl(e->security_protocol) && c->n_sasl_mechanisms == 0)
            return fail(L, "sasl.enabled.mechanisms is empty but %s listener '%s' needs one",
                        protocol_names[e->security_protocol], e->listener);
        if (uses_tls(e->security_protocol) && !c->ssl_keystore_location)
            return fail(L, "ssl.keystore.location is required by %s listener '%s'",
                        protocol_names[e->security_protocol], e->listener);
    }
    /* A requested certificate can only be verified against trusted CAs. */
    if (c->ssl_client_auth != KB_CLIENT_AUTH_NONE && !c->ssl_truststore_location)
        return fail(L, "ssl.truststore.location is required by ssl.client.auth=%s",
                    c->ssl_client_auth == KB_CLIENT_AUTH_REQUIRED ? "required" : "requested");
    return 0;
}

static int parse_all(loader *L)
{
    for (size_t i = 0; i < N_PROPS; i++) {
        const prop *p = &props[i];
        const char *given = get_entry(L, p->name);
        const char *value = given ? given : p->def;
        if (p->parse(L, p, value))
            return -1;
    }
    return check_combination(L);
}

static void loader_free(loader *L)
{
    for (size_t i = 0; i < L->n_entries; i++) {
        free(L->entries[i].key);
        free(L->entries[i].value);
    }
    free(L->entries);
    for (size_t i = 0; i < L->n_map; i++)
        free(L->map[i].listener);
    free(L->map);
}

/* Trims every value once, as Kafka's ConfigDef does before parsing. */
static void trim_values(loader *L)
{
    for (size_t i = 0; i < L->n_entries; i++) {
        char *v = L->entries[i].value;
        const char *s = v;
        size_t n = strlen(v);
        trim(&s, &n);
        memmove(v, s, n);
        v[n] = '\0';
    }
}

int kb_config_load(kb_config *cfg, const char *path, char *const *overrides, size_t n_overrides,
                   char *errstr, size_t errstr_size)
{
    memset(cfg, 0, sizeof *cfg);
    loader L = {.cfg = cfg, .err = errstr, .err_size = errstr_size};
    if (errstr && errstr_size)
        errstr[0] = '\0';
    int rc = path ? load_file(&L, path) : 0;
    for (size_t i = 0; rc == 0 && i < n_overrides; i++)
        rc = load_override(&L, overrides[i]);
    if (rc == 0) {
        trim_values(&L);
        rc = check_keys(&L);
    }
    if (rc == 0)
        rc = parse_all(&L);
    loader_free(&L);
    return rc ? -1 : 0;
}

void kb_config_free(kb_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->cluster_id);
    free_endpoints(cfg->listeners, cfg->n_listeners);
    free_endpoints(cfg->advertised, cfg->n_advertised);
    free_nodes(cfg->nodes, cfg->n_nodes);
    for (size_t i = 0; i < cfg->n_sasl_mechanisms; i++)
        free(cfg->sasl_mechanisms[i]);
    free(cfg->sasl_mechanisms);
    free(cfg->sasldb_path);
    if (cfg->sasl_scram_salt_secret)
        explicit_bzero(cfg->sasl_scram_salt_secret, strlen(cfg->sasl_scram_salt_secret));
    free(cfg->sasl_scram_salt_secret);
    free(cfg->sasl_realm);
    free(cfg->super_users);
    free(cfg->ssl_keystore_location);
    free(cfg->ssl_key_password);
    free(cfg->ssl_truststore_location);
    free(cfg->metrics_listener);
    free(cfg->metrics_host);
    for (size_t i = 0; i < cfg->n_ignored; i++)
        free(cfg->ignored[i]);
    free(cfg->ignored);
    memset(cfg, 0, sizeof *cfg);
}

const kb_endpoint *kb_config_advertised(const kb_config *cfg, const char *listener)
{
    return cfg && listener ? find_endpoint(cfg->advertised, cfg->n_advertised, listener) : NULL;
}
