/* The connection registry: creation, connection events and the closed
 * history. Describe and reporting live in their own files. */
#include "kcb_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned kcb_version(void)
{
    return KCB_VERSION;
}

const char *kcb_version_str(void)
{
    return KCB_VERSION_STR;
}

static const char *const close_reason_names[KCB_CLOSE__COUNT] = {
    [KCB_CLOSE_NONE] = "none",
    [KCB_CLOSE_CLIENT] = "client closed",
    [KCB_CLOSE_IDLE_TIMEOUT] = "idle timeout",
    [KCB_CLOSE_AUTH_FAILED] = "authentication failed",
    [KCB_CLOSE_AUTH_TIMEOUT] = "authentication timeout",
    [KCB_CLOSE_SESSION_EXPIRED] = "session expired",
    [KCB_CLOSE_MALFORMED] = "malformed frame",
    [KCB_CLOSE_PROTOCOL] = "protocol violation",
    [KCB_CLOSE_IO_ERROR] = "network error",
    [KCB_CLOSE_SHUTDOWN] = "broker shutdown",
    [KCB_CLOSE_ADMIN] = "closed by admin",
};

const char *kcb_close_reason_name(int reason)
{
    if (reason < 0 || reason >= KCB_CLOSE__COUNT)
        return "unknown";
    return close_reason_names[reason];
}

int64_t kcb__now(const kcb_registry *reg)
{
    if (reg->host.now_ms)
        return reg->host.now_ms(reg->host.opaque);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kcb__log(const kcb_registry *reg, int level, const char *fmt, ...)
{
    if (!reg->host.log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    reg->host.log(reg->host.opaque, level, line);
}

bool kcb__parse_ip(const char *s, size_t len, uint8_t out[16], bool *is_v4)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *is_v4 = true;
        return true;
    }
    *is_v4 = false;
    return inet_pton(AF_INET6, buf, out) == 1;
}

/* ---------------------------------------------------------------- setup */

static void free_super_users(kcb_registry *reg)
{
    for (size_t i = 0; i < reg->n_super_users; i++)
        free(reg->super_users[i]);
    free(reg->super_users);
    reg->super_users = NULL;
    reg->n_super_users = 0;
}

/* Splits Kafka's super.users ("User:a;User:b") into trimmed entries. */
static int parse_super_users(kcb_registry *reg, const char *list)
{
    if (!list)
        return 0;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ';';
    reg->super_users = calloc(cap, sizeof *reg->super_users);
    if (!reg->super_users)
        return -1;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            char *s = strndup(a, (size_t)(b - a));
            if (!s)
                return -1;
            reg->super_users[reg->n_super_users++] = s;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

kcb_registry *kcb_registry_new(const kcb_host *host, const kcb_config *cfg, char *errstr,
                               size_t errstr_size)
{
#define FAIL(...)                                                                        \
    do {                                                                                  \
        if (errstr && errstr_size)                                                        \
            snprintf(errstr, errstr_size, __VA_ARGS__);                                  \
        goto fail;                                                                        \
    } while (0)
    kcb_registry *reg = calloc(1, sizeof *reg);
    if (!reg) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (host) {
        if (host->abi_version != KCB_ABI_VERSION)
            FAIL("kcb_host.abi_version is %u, this library speaks %u", (unsigned)host->abi_version,
                 (unsigned)KCB_ABI_VERSION);
        if (host->struct_size < offsetof(kcb_host, reserved))
            FAIL("kcb_host.struct_size %u is too small", (unsigned)host->struct_size);
        memcpy(&reg->host, host, host->struct_size < sizeof reg->host ? host->struct_size : sizeof reg->host);
    }
    if (cfg) {
        if (cfg->struct_size < offsetof(kcb_config, reserved))
            FAIL("kcb_config.struct_size %u is too small", (unsigned)cfg->struct_size);
        memcpy(&reg->cfg, cfg, cfg->struct_size < sizeof reg->cfg ? cfg->struct_size : sizeof reg->cfg);
    }
    reg->cfg.super_users = NULL; /* parsed below; the caller's string is not kept */
    if (reg->cfg.shards == 0)
        reg->cfg.shards = 1;
    if (reg->cfg.shards > 4096)
        FAIL("kcb_config.shards %u is above 4096", (unsigned)reg->cfg.shards);
    if (reg->cfg.history_size == 0)
        reg->cfg.history_size = 1000;
    if (reg->cfg.history_max_age_ms <= 0)
        reg->cfg.history_max_age_ms = 600000;
    if (reg->cfg.default_page <= 0)
        reg->cfg.default_page = 1000;
    if (reg->cfg.max_page <= 0)
        reg->cfg.max_page = 10000;
    if (reg->cfg.default_page > reg->cfg.max_page)
        FAIL("kcb_config.default_page %d is above max_page %d", (int)reg->cfg.default_page,
             (int)reg->cfg.max_page);
    if (parse_super_users(reg, cfg ? cfg->super_users : NULL))
        FAIL("out of memory");
    reg->shards = calloc(reg->cfg.shards, sizeof *reg->shards);
    reg->history = calloc(reg->cfg.history_size, sizeof *reg->history);
    if (!reg->shards || !reg->history)
        FAIL("out of memory");
    for (uint32_t i = 0; i < reg->cfg.shards; i++) {
        pthread_mutex_init(&reg->shards[i].lock, NULL);
        reg->shards[i].reg = reg;
    }
    pthread_mutex_init(&reg->history_lock, NULL);
    atomic_init(&reg->next_seq, 1);
    return reg;
fail:
    free_super_users(reg);
    free(reg->shards);
    free(reg->history);
    free(reg);
    return NULL;
#undef FAIL
}

void kcb__rec_free_strings(kcb_rec *r)
{
    char **fields[] = {&r->principal, &r->mechanism, &r->tls_protocol, &r->tls_cipher,
                       &r->peer_subject, &r->peer_issuer, &r->peer_serial, &r->sw_name,
                       &r->sw_version, &r->client_id};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

static void history_drop_oldest(kcb_registry *reg)
{
    kcb_closed *old = reg->history[reg->history_head];
    reg->history[reg->history_head] = NULL;
    reg->history_head = (reg->history_head + 1) % reg->cfg.history_size;
    reg->history_len--;
    kcb__rec_free_strings(&old->rec);
    free(old);
}

void kcb__history_expire(kcb_registry *reg, int64_t now)
{
    while (reg->history_len > 0 &&
           now - reg->history[reg->history_head]->rec.closed_at > reg->cfg.history_max_age_ms)
        history_drop_oldest(reg);
}

void kcb_registry_free(kcb_registry *reg)
{
    if (!reg)
        return;
    for (uint32_t i = 0; i < reg->cfg.shards; i++) {
        kcb_conn *c = reg->shards[i].head;
        while (c) {
            kcb_conn *next = c->next;
            kcb__rec_free_strings(&c->rec);
            free(c);
            c = next;
        }
        pthread_mutex_destroy(&reg->shards[i].lock);
    }
    while (reg->history_len > 0)
        history_drop_oldest(reg);
    pthread_mutex_destroy(&reg->history_lock);
    free(reg->history);
    free(reg->shards);
    free_super_users(reg);
    free(reg);
}

/* --------------------------------------------------------------- events */

/* Copies src (NULL stays NULL) into a fresh string; the old one is freed
 * after the swap, which happens under the shard lock so that a describe
 * never reads a freed string. */
static void set_string(kcb_conn *c, char **field, const char *src)
{
    char *copy = src ? strdup(src) : NULL;
    if (src && !copy)
        return; /* out of memory: keep the old value rather than lose the record */
    pthread_mutex_lock(&c->shard->lock);
    char *old = *field;
    *field = copy;
    pthread_mutex_unlock(&c->shard->lock);
    free(old);
}

kcb_conn *kcb_conn_accepted(kcb_registry *reg, const kcb_accept_info *info, char *errstr,
                            size_t errstr_size)
{
    const char *why = NULL;
    if (!info || info->struct_size < sizeof(kcb_accept_info))
        why = "kcb_accept_info.struct_size is too small";
    else if (info->shard >= reg->cfg.shards)
        why = "shard is out of range";
    else if (!info->listener_name || !info->local_host || !info->peer_host)
        why = "listener_name, local_host and peer_host are required";
    if (why) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "%s", why);
        return NULL;
    }
    uint64_t seq = atomic_fetch_add_explicit(&reg->next_seq, 1, memory_order_relaxed);
    /* Apache Kafka's id: local:port-remote:port-processor-index. */
    char id[INET6_ADDRSTRLEN * 2 + 64];
    int id_len = snprintf(id, sizeof id, "%s:%u-%s:%u-%u-%llu", info->local_host,
                          (unsigned)info->local_port, info->peer_host, (unsigned)info->peer_port,
                          (unsigned)info->shard, (unsigned long long)seq);
    if (id_len < 0 || (size_t)id_len >= sizeof id) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "address too long for a connection id");
        return NULL;
    }
    size_t l_len = strlen(info->listener_name), lh_len = strlen(info->local_host),
           ph_len = strlen(info->peer_host);
    kcb_conn *c = calloc(1, sizeof *c + (size_t)id_len + l_len + lh_len + ph_len + 4);
    if (!c) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    char *p = (char *)(c + 1);
    c->rec.id = memcpy(p, id, (size_t)id_len + 1);
    p += id_len + 1;
    c->rec.listener = memcpy(p, info->listener_name, l_len + 1);
    p += l_len + 1;
    c->rec.local_host = memcpy(p, info->local_host, lh_len + 1);
    p += lh_len + 1;
    c->rec.peer_host = memcpy(p, info->peer_host, ph_len + 1);
    bool v4;
    kcb__parse_ip(info->peer_host, ph_len, c->rec.peer_addr, &v4);
    c->rec.seq = seq;
    c->rec.local_port = info->local_port;
    c->rec.peer_port = info->peer_port;
    c->rec.security_protocol = (int16_t)info->security_protocol;
    bool sasl = info->security_protocol == KCB_SASL_PLAINTEXT || info->security_protocol == KCB_SASL_SSL;
    c->rec.state = sasl ? KCB_STATE_AUTHENTICATING : KCB_STATE_OPEN;
    c->rec.connected_at = info->now_ms;
    c->rec.authenticated_at = sasl ? -1 : info->now_ms;
    c->rec.session_expires_at = -1;
    c->rec.closed_at = -1;
    atomic_init(&c->rec.last_activity, info->now_ms);
    c->shard = &reg->shards[info->shard];

    pthread_mutex_lock(&c->shard->lock);
    c->prev = c->shard->tail;
    if (c->shard->tail)
        c->shard->tail->next = c;
    else
        c->shard->head = c;
    c->shard->tail = c;
    c->shard->count++;
    pthread_mutex_unlock(&c->shard->lock);
    atomic_fetch_add_explicit(&reg->accepted, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&reg->open, 1, memory_order_relaxed);
    return c;
}

const char *kcb_conn_id(const kcb_conn *c)
{
    return c->rec.id;
}

void kcb_conn_tls(kcb_conn *c, const char *protocol, const char *cipher, const char *peer_subject,
                  const char *peer_issuer, const char *peer_serial)
{
    set_string(c, &c->rec.tls_protocol, protocol);
    set_string(c, &c->rec.tls_cipher, cipher);
    set_string(c, &c->rec.peer_subject, peer_subject);
    set_string(c, &c->rec.peer_issuer, peer_issuer);
    set_string(c, &c->rec.peer_serial, peer_serial);
}

void kcb_conn_sasl_mechanism(kcb_conn *c, const char *mechanism)
{
    set_string(c, &c->rec.mechanism, mechanism);
}

void kcb_conn_authenticated(kcb_conn *c, const char *principal, const char *mechanism,
                            int64_t session_lifetime_ms, int64_t now_ms)
{
    char *p = principal ? strdup(principal) : NULL;
    char *m = mechanism ? strdup(mechanism) : NULL;
    pthread_mutex_lock(&c->shard->lock);
    char *old_p = c->rec.principal, *old_m = c->rec.mechanism;
    c->rec.principal = p;
    c->rec.mechanism = m;
    c->rec.authenticated_at = now_ms;
    c->rec.session_expires_at = session_lifetime_ms > 0 ? now_ms + session_lifetime_ms : -1;
    if (c->rec.state == KCB_STATE_AUTHENTICATING)
        c->rec.state = KCB_STATE_OPEN;
    pthread_mutex_unlock(&c->shard->lock);
    atomic_store_explicit(&c->rec.last_activity, now_ms, memory_order_relaxed);
    free(old_p);
    free(old_m);
}

void kcb_conn_auth_failed(kcb_conn *c, int64_t now_ms)
{
    atomic_fetch_add_explicit(&c->shard->reg->auth_failures, 1, memory_order_relaxed);
    atomic_store_explicit(&c->rec.last_activity, now_ms, memory_order_relaxed);
}

void kcb_conn_client_software(kcb_conn *c, const char *name, const char *version)
{
    /* KIP-511: an empty or absent name means the client did not say. */
    set_string(c, &c->rec.sw_name, name && *name ? name : NULL);
    set_string(c, &c->rec.sw_version, version && *version ? version : NULL);
}

/* Owner-only increment: a relaxed load and store, no locked instruction. */
static inline void bump(_Atomic int64_t *v, int64_t by)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

void kcb_conn_request(kcb_conn *c, int16_t api_key, const char *client_id, size_t client_id_len,
                      uint32_t bytes_in, int64_t now_ms)
{
    (void)api_key;
    bump(&c->rec.requests, 1);
    bump(&c->rec.bytes_in, bytes_in);
    atomic_store_explicit(&c->rec.last_activity, now_ms, memory_order_relaxed);
    if (!client_id)
        return;
    /* The owner is the only writer, so it may read its own field unlocked. */
    const char *cur = c->rec.client_id;
    if (cur && strlen(cur) == client_id_len && memcmp(cur, client_id, client_id_len) == 0)
        return;
    char *copy = strndup(client_id, client_id_len);
    if (!copy)
        return;
    pthread_mutex_lock(&c->shard->lock);
    char *old = c->rec.client_id;
    c->rec.client_id = copy;
    pthread_mutex_unlock(&c->shard->lock);
    free(old);
}

void kcb_conn_response(kcb_conn *c, uint32_t bytes_out, int64_t now_ms)
{
    bump(&c->rec.bytes_out, bytes_out);
    atomic_store_explicit(&c->rec.last_activity, now_ms, memory_order_relaxed);
}

void kcb_conn_closing(kcb_conn *c, int reason)
{
    pthread_mutex_lock(&c->shard->lock);
    c->rec.state = KCB_STATE_CLOSING;
    if (reason > KCB_CLOSE_NONE && reason < KCB_CLOSE__COUNT)
        c->rec.close_reason = (int8_t)reason;
    pthread_mutex_unlock(&c->shard->lock);
}

/* Moves the record into the history ring, evicting the oldest when full. */
static void history_add(kcb_registry *reg, kcb_conn *c)
{
    size_t l_len = strlen(c->rec.listener), lh_len = strlen(c->rec.local_host),
           ph_len = strlen(c->rec.peer_host), id_len = strlen(c->rec.id);
    kcb_closed *h = malloc(sizeof *h + id_len + l_len + lh_len + ph_len + 4);
    if (!h) {
        kcb__rec_free_strings(&c->rec);
        return;
    }
    /* The record's counters are atomics: copy them one by one. */
    memcpy(&h->rec, &c->rec, offsetof(kcb_rec, last_activity));
    atomic_init(&h->rec.last_activity, atomic_load_explicit(&c->rec.last_activity, memory_order_relaxed));
    atomic_init(&h->rec.requests, atomic_load_explicit(&c->rec.requests, memory_order_relaxed));
    atomic_init(&h->rec.bytes_in, atomic_load_explicit(&c->rec.bytes_in, memory_order_relaxed));
    atomic_init(&h->rec.bytes_out, atomic_load_explicit(&c->rec.bytes_out, memory_order_relaxed));
    char *p = (char *)(h + 1);
    h->rec.id = memcpy(p, c->rec.id, id_len + 1);
    p += id_len + 1;
    h->rec.listener = memcpy(p, c->rec.listener, l_len + 1);
    p += l_len + 1;
    h->rec.local_host = memcpy(p, c->rec.local_host, lh_len + 1);
    p += lh_len + 1;
    h->rec.peer_host = memcpy(p, c->rec.peer_host, ph_len + 1);

    pthread_mutex_lock(&reg->history_lock);
    kcb__history_expire(reg, h->rec.closed_at);
    if (reg->history_len == reg->cfg.history_size)
        history_drop_oldest(reg);
    reg->history[(reg->history_head + reg->history_len) % reg->cfg.history_size] = h;
    reg->history_len++;
    pthread_mutex_unlock(&reg->history_lock);
}

void kcb_conn_closed(kcb_conn *c, int reason, int64_t now_ms)
{
    kcb_shard *s = c->shard;
    kcb_registry *reg = s->reg;
    pthread_mutex_lock(&s->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    s->count--;
    pthread_mutex_unlock(&s->lock);
    /* Unlinked: no describe can see c any more, so no lock is needed below. */
    if (reason > KCB_CLOSE_NONE && reason < KCB_CLOSE__COUNT)
        c->rec.close_reason = (int8_t)reason;
    c->rec.state = KCB_STATE_CLOSED;
    c->rec.closed_at = now_ms;
    history_add(reg, c); /* takes over the mutable strings */
    free(c);
    atomic_fetch_add_explicit(&reg->closed, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&reg->open, 1, memory_order_relaxed);
}

void kcb_registry_stats(kcb_registry *reg, kcb_stats *out)
{
    out->accepted = atomic_load_explicit(&reg->accepted, memory_order_relaxed);
    out->closed = atomic_load_explicit(&reg->closed, memory_order_relaxed);
    out->auth_failures = atomic_load_explicit(&reg->auth_failures, memory_order_relaxed);
    out->open = atomic_load_explicit(&reg->open, memory_order_relaxed);
}
