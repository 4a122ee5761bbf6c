/* The connection registry: creation, connection events and the closed
 * history. Describe and reporting live in their own files. */
#include "kcb_internal.h"
#include "kcb_page.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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
    /* Clients choose some of the strings a describe tables; a key they
     * cannot know keeps them from making those strings collide. */
    if (getrandom(reg->strings_key, sizeof reg->strings_key, 0) != (ssize_t)sizeof reg->strings_key)
        FAIL("no random bytes for the strings table key");
    reg->shards = calloc(reg->cfg.shards, sizeof *reg->shards);
    reg->history = calloc(reg->cfg.history_size, sizeof *reg->history);
    if (!reg->shards || !reg->history)
        FAIL("out of memory");
    for (uint32_t i = 0; i < reg->cfg.shards; i++) {
        pthread_mutex_init(&reg->shards[i].lock, NULL);
        reg->shards[i].reg = reg;
    }
    kcb_intern_init(&reg->strings);
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

/* Frees a connection that no describe can reach any more (unlinked, or
 * taken out of the history under its lock), with its string references. */
static void conn_free(kcb_registry *reg, kcb_conn *c)
{
    const kcb_istr *shared[] = {c->rec.listener, c->rec.principal, c->rec.mechanism,
                                c->rec.sw_name, c->rec.sw_version, c->rec.client_id};
    kcb_intern_putv(&reg->strings, sizeof shared / sizeof shared[0], shared);
    free(c->rec.tls);
    free(c);
}

static void history_drop_oldest(kcb_registry *reg)
{
    kcb_conn *old = reg->history[reg->history_head];
    reg->history[reg->history_head] = NULL;
    reg->history_head = (reg->history_head + 1) % reg->cfg.history_size;
    reg->history_len--;
    conn_free(reg, old);
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
        kcb_shard *sh = &reg->shards[i];
        for (uint32_t j = 0; j < sh->used; j++)
            if (sh->slots[j])
                conn_free(reg, sh->slots[j]);
        free(sh->slots);
        pthread_mutex_destroy(&sh->lock);
    }
    while (reg->history_len > 0)
        history_drop_oldest(reg);
    pthread_mutex_destroy(&reg->history_lock);
    kcb_page_free_spare(reg);
    kcb_intern_destroy(&reg->strings);
    free(reg->history);
    free(reg->shards);
    free_super_users(reg);
    free(reg);
}

/* --------------------------------------------------------------- events */

/* Moves the open connections to the front of the array, closing the holes;
 * caller holds the lock. */
static void shard_compact(kcb_shard *sh)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < sh->used; i++) {
        kcb_conn *c = sh->slots[i];
        if (c) {
            c->slot = j;
            sh->slots[j++] = c;
        }
    }
    sh->used = j;
}

/* Appends c (the newest, so the array stays in seq order); caller holds the
 * lock. Returns 0, or -1 when the array could not grow. */
static int shard_append(kcb_shard *sh, kcb_conn *c)
{
    if (sh->used == sh->cap && sh->used - sh->count >= sh->used / 2)
        shard_compact(sh);
    if (sh->used == sh->cap) {
        uint32_t cap = sh->cap ? sh->cap * 2 : 64;
        kcb_conn **slots = cap > sh->cap ? realloc(sh->slots, (size_t)cap * sizeof *slots) : NULL;
        if (!slots)
            return -1;
        sh->slots = slots;
        sh->cap = cap;
    }
    c->slot = sh->used;
    sh->slots[sh->used++] = c;
    sh->count++;
    return 0;
}

/* Takes c out; caller holds the lock. */
static void shard_remove(kcb_shard *sh, kcb_conn *c)
{
    sh->slots[c->slot] = NULL;
    sh->count--;
    uint32_t holes = sh->used - (uint32_t)sh->count;
    if (holes > 64 && holes > sh->count)
        shard_compact(sh);
}

/* Replaces n shared-string fields of c at once: the swap happens under the
 * shard lock and the old strings are released after it, so a describe
 * never reads a released string. values[i] NULL clears field i. */
static void swap_strings(kcb_conn *c, const kcb_istr **const fields[], const kcb_istr *values[],
                         size_t n)
{
    pthread_mutex_lock(&c->shard->lock);
    for (size_t i = 0; i < n; i++) {
        const kcb_istr *old = *fields[i];
        *fields[i] = values[i];
        values[i] = old;
    }
    pthread_mutex_unlock(&c->shard->lock);
    kcb_intern_putv(&c->shard->reg->strings, n, values);
}

/* Interns up to two C strings (as many as one event carries) into out,
 * NULL staying NULL. Returns 0, or -1 when memory ran out, having dropped
 * what it took. */
static int intern_all(kcb_registry *reg, const char *const src[], const kcb_istr *out[], size_t n)
{
    size_t len[2];
    if (n > sizeof len / sizeof len[0])
        return -1;
    for (size_t i = 0; i < n; i++)
        len[i] = src[i] ? strlen(src[i]) : 0;
    return kcb_intern_getv(&reg->strings, n, src, len, out);
}

/* v in decimal at p, no NUL; returns its length. */
static size_t put_decimal(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* Apache Kafka's id: local:port-remote:port-processor-index, written by
 * hand since every accept makes one (snprintf's format parsing cost more
 * than the rest of the id). Returns its length, or 0 when it does not fit
 * in size with its NUL; *peer_off is where the peer host starts in it. */
static size_t connection_id(char *id, size_t size, const kcb_accept_info *info, uint64_t seq,
                            size_t *peer_off)
{
    const char *host[2] = {info->local_host, info->peer_host};
    size_t host_len[2] = {strlen(host[0]), strlen(host[1])};
    char num[4][20];
    size_t num_len[4] = {put_decimal(num[0], info->local_port), put_decimal(num[1], info->peer_port),
                         put_decimal(num[2], info->shard), put_decimal(num[3], seq)};
    size_t len = host_len[0] + host_len[1] + num_len[0] + num_len[1] + num_len[2] + num_len[3] + 5;
    if (len >= size)
        return 0;
    char *p = id;
    *peer_off = host_len[0] + 1 + num_len[0] + 1;
    for (int i = 0; i < 2; i++) {
        memcpy(p, host[i], host_len[i]);
        p += host_len[i];
        *p++ = ':';
        memcpy(p, num[i], num_len[i]);
        p += num_len[i];
        *p++ = '-';
    }
    memcpy(p, num[2], num_len[2]);
    p += num_len[2];
    *p++ = '-';
    memcpy(p, num[3], num_len[3]);
    p[num_len[3]] = '\0';
    return len;
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
    /* The id's size bound keeps every length below 256, as kcb_rec stores
     * them. */
    char id[INET6_ADDRSTRLEN * 2 + 64];
    size_t peer_off;
    size_t id_len = connection_id(id, sizeof id, info, seq, &peer_off);
    if (id_len == 0) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "address too long for a connection id");
        return NULL;
    }
    kcb_conn *c = calloc(1, sizeof *c + id_len + 1);
    const kcb_istr *listener = c ? kcb_intern_get(&reg->strings, info->listener_name,
                                                  strlen(info->listener_name))
                                 : NULL;
    if (!listener) {
        free(c);
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    memcpy(c + 1, id, id_len + 1);
    c->rec.id_len = (uint8_t)id_len;
    c->rec.local_len = (uint8_t)strlen(info->local_host);
    c->rec.peer_off = (uint8_t)peer_off;
    c->rec.peer_len = (uint8_t)strlen(info->peer_host);
    c->rec.listener = listener;
    bool v4;
    kcb__parse_ip(info->peer_host, c->rec.peer_len, c->rec.peer_addr, &v4);
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
    int rc = shard_append(c->shard, c);
    pthread_mutex_unlock(&c->shard->lock);
    if (rc) {
        kcb_intern_put(&reg->strings, listener);
        free(c);
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    atomic_fetch_add_explicit(&reg->accepted, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&reg->open, 1, memory_order_relaxed);
    return c;
}

const char *kcb_conn_id(const kcb_conn *c)
{
    return kcb__rec_id(&c->rec);
}

/* One block: the views, then the given strings back to back. NULL when no
 * argument is given (or memory ran out, which keeps the old block). */
static kcb_tls *tls_block(const char *const src[KCB_TLS__COUNT], bool *oom)
{
    size_t lens[KCB_TLS__COUNT], total = 0;
    bool any = false;
    for (int i = 0; i < KCB_TLS__COUNT; i++) {
        lens[i] = src[i] ? strlen(src[i]) : 0;
        total += lens[i] + 1;
        any |= src[i] != NULL;
    }
    *oom = false;
    if (!any)
        return NULL;
    kcb_tls *t = malloc(sizeof *t + total);
    if (!t || total > INT32_MAX) {
        free(t);
        *oom = true;
        return NULL;
    }
    char *p = (char *)(t + 1);
    for (int i = 0; i < KCB_TLS__COUNT; i++) {
        if (!src[i]) {
            t->v[i] = KCP_STR_NULL;
            continue;
        }
        memcpy(p, src[i], lens[i] + 1);
        t->v[i].ptr = p;
        t->v[i].len = (int32_t)lens[i];
        p += lens[i] + 1;
    }
    return t;
}

void kcb_conn_tls(kcb_conn *c, const char *protocol, const char *cipher, const char *peer_subject,
                  const char *peer_issuer, const char *peer_serial)
{
    const char *src[KCB_TLS__COUNT] = {[KCB_TLS_PROTOCOL] = protocol, [KCB_TLS_CIPHER] = cipher,
                                       [KCB_TLS_SUBJECT] = peer_subject, [KCB_TLS_ISSUER] = peer_issuer,
                                       [KCB_TLS_SERIAL] = peer_serial};
    bool oom;
    kcb_tls *t = tls_block(src, &oom);
    if (oom)
        return; /* keep the old value rather than lose the record */
    pthread_mutex_lock(&c->shard->lock);
    kcb_tls *old = c->rec.tls;
    c->rec.tls = t;
    pthread_mutex_unlock(&c->shard->lock);
    free(old);
}

void kcb_conn_sasl_mechanism(kcb_conn *c, const char *mechanism)
{
    const char *src[1] = {mechanism};
    const kcb_istr *v[1];
    const kcb_istr **const fields[1] = {&c->rec.mechanism};
    if (intern_all(c->shard->reg, src, v, 1) == 0)
        swap_strings(c, fields, v, 1);
}

void kcb_conn_authenticated(kcb_conn *c, const char *principal, const char *mechanism,
                            int64_t session_lifetime_ms, int64_t now_ms)
{
    const char *src[2] = {principal, mechanism};
    const kcb_istr *v[2] = {NULL, NULL};
    bool oom = intern_all(c->shard->reg, src, v, 2) != 0;
    pthread_mutex_lock(&c->shard->lock);
    if (!oom) { /* out of memory: keep the old names, still record the event */
        const kcb_istr *old_p = c->rec.principal, *old_m = c->rec.mechanism;
        c->rec.principal = v[0];
        c->rec.mechanism = v[1];
        v[0] = old_p;
        v[1] = old_m;
    }
    c->rec.authenticated_at = now_ms;
    c->rec.session_expires_at = session_lifetime_ms > 0 ? now_ms + session_lifetime_ms : -1;
    if (c->rec.state == KCB_STATE_AUTHENTICATING)
        c->rec.state = KCB_STATE_OPEN;
    pthread_mutex_unlock(&c->shard->lock);
    atomic_store_explicit(&c->rec.last_activity, now_ms, memory_order_relaxed);
    kcb_intern_putv(&c->shard->reg->strings, 2, v);
}

void kcb_conn_auth_failed(kcb_conn *c, int64_t now_ms)
{
    atomic_fetch_add_explicit(&c->shard->reg->auth_failures, 1, memory_order_relaxed);
    atomic_store_explicit(&c->rec.last_activity, now_ms, memory_order_relaxed);
}

void kcb_conn_client_software(kcb_conn *c, const char *name, const char *version)
{
    /* KIP-511: an empty or absent name means the client did not say. */
    const char *src[2] = {name && *name ? name : NULL, version && *version ? version : NULL};
    const kcb_istr *v[2];
    const kcb_istr **const fields[2] = {&c->rec.sw_name, &c->rec.sw_version};
    if (intern_all(c->shard->reg, src, v, 2) == 0)
        swap_strings(c, fields, v, 2);
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
    /* The owner is the only writer, so it may read its own field unlocked;
     * a shared string does not change while referenced. */
    const kcb_istr *cur = c->rec.client_id;
    if (cur && (size_t)cur->len == client_id_len && memcmp(cur->s, client_id, client_id_len) == 0)
        return;
    const kcb_istr *v[1] = {kcb_intern_get(&c->shard->reg->strings, client_id, client_id_len)};
    const kcb_istr **const fields[1] = {&c->rec.client_id};
    if (v[0])
        swap_strings(c, fields, v, 1);
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

/* Puts the closed connection itself into the history ring (no copy),
 * evicting the oldest when full. */
static void history_add(kcb_registry *reg, kcb_conn *c)
{
    pthread_mutex_lock(&reg->history_lock);
    kcb__history_expire(reg, c->rec.closed_at);
    if (reg->history_len == reg->cfg.history_size)
        history_drop_oldest(reg);
    reg->history[(reg->history_head + reg->history_len) % reg->cfg.history_size] = c;
    reg->history_len++;
    pthread_mutex_unlock(&reg->history_lock);
}

void kcb_conn_closed(kcb_conn *c, int reason, int64_t now_ms)
{
    kcb_shard *s = c->shard;
    kcb_registry *reg = s->reg;
    pthread_mutex_lock(&s->lock);
    shard_remove(s, c);
    pthread_mutex_unlock(&s->lock);
    /* Unlinked: no describe can see c until the history has it, so no lock
     * is needed below. */
    if (reason > KCB_CLOSE_NONE && reason < KCB_CLOSE__COUNT)
        c->rec.close_reason = (int8_t)reason;
    c->rec.state = KCB_STATE_CLOSED;
    c->rec.closed_at = now_ms;
    history_add(reg, c);
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
