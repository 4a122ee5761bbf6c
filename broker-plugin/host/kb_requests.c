/* Request handling of the reference broker: the pre-authentication rules,
 * the SASL exchange (SaslHandshake v0 with bare tokens, v1 with
 * SaslAuthenticate, KIP-368 re-authentication) and the APIs it serves:
 * ApiVersions, Metadata, DescribeCluster and DescribeConnections. */
#include "kb_log.h"
#include "kb_server.h"
#include "kcp_header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kafka error codes (org.apache.kafka.common.protocol.Errors). */
enum {
    ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    ERR_UNSUPPORTED_SASL_MECHANISM = 33,
    ERR_ILLEGAL_SASL_STATE = 34,
    ERR_UNSUPPORTED_VERSION = 35,
    ERR_INVALID_REQUEST = 42,
    ERR_SASL_AUTHENTICATION_FAILED = 58,
    ERR_UNKNOWN_TOPIC_ID = 100,
    ERR_UNSUPPORTED_ENDPOINT_TYPE = 119
};

/* Kafka's value for "authorized operations not requested". */
#define AUTHORIZED_OPERATIONS_OMITTED INT32_MIN

typedef struct request {
    kb_conn *c;
    kcp_request_header h;
    int api;                 /* kcp_api_id */
    const uint8_t *body;
    size_t body_len;
} request;

/* s as a C string in buf, cut to size - 1 bytes (the fields copied here
 * are length-checked before). */
static void c_string(char *buf, size_t size, kcp_str s)
{
    size_t len = s.len > 0 ? (size_t)s.len : 0;
    if (len >= size)
        len = size - 1;
    if (len)
        memcpy(buf, s.ptr, len);
    buf[len] = '\0';
}

static const kcp_message_desc *message_desc(int api, bool is_request)
{
    for (size_t i = 0; i < kcp_messages_count; i++)
        if ((int)kcp_messages[i].api == api && kcp_messages[i].is_request == is_request)
            return &kcp_messages[i];
    return NULL;
}

/* The API a key names on this broker: DescribeConnections answers to the
 * configured key only. -1 for keys we do not serve. */
static int api_for_key(const kb_config *cfg, int16_t key)
{
    if (key == cfg->describe_connections_api_key)
        return KCP_API_DESCRIBE_CONNECTIONS;
    int api = kcp_api_id_for_key(key);
    return api == KCP_API_DESCRIBE_CONNECTIONS ? -1 : api;
}

static int16_t key_of(const kb_config *cfg, int api)
{
    return api == KCP_API_DESCRIBE_CONNECTIONS ? cfg->describe_connections_api_key
                                               : kcp_api_info_get(api)->api_key;
}

static int reply(request *q, const void *body, int16_t version)
{
    int16_t hv = kcp_api_response_header_version(q->api, version);
    return kb_conn_send(q->c, q->h.correlation_id, hv, message_desc(q->api, false), body, version) ? -1 : 0;
}

/* Decodes the request body into msg; the whole body must be used. */
static int decode_body(request *q, void *msg, int16_t version)
{
    const kcp_message_desc *d = message_desc(q->api, true);
    kcp_reader r;
    kcp_reader_init(&r, q->body, q->body_len);
    if (d->decode(&r, msg, version) || r.pos != q->body_len) {
        kb_log(KB_WARN, "malformed_request", "conn", kcb_conn_id(q->c->reg), "api", d->name, "why",
               r.err ? r.errstr : "trailing bytes after the body", NULL);
        return -1;
    }
    return 0;
}

static const char *conn_id(const request *q)
{
    return kcb_conn_id(q->c->reg);
}

/* ------------------------------------------------------------ ApiVersions */

static bool alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* KIP-511's pattern for client software name and version,
 * [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?, checked by hand: every
 * ApiVersions request runs it, and compiling a regex each time cost more
 * than the rest of the request. */
static bool software_field_valid(kcp_str s)
{
    if (s.len <= 0)
        return s.len == 0;
    /* The registry keeps names and versions of up to 255 bytes. */
    if (s.len > 255)
        return false;
    if (!alnum(s.ptr[0]) || !alnum(s.ptr[s.len - 1]))
        return false;
    for (int32_t i = 1; i < s.len - 1; i++)
        if (!alnum(s.ptr[i]) && s.ptr[i] != '.' && s.ptr[i] != '-')
            return false;
    return true;
}

static int handle_api_versions(request *q)
{
    const kb_config *cfg = q->c->thread->srv->cfg;
    int16_t version = q->h.api_version;
    kcp_api_versions_response resp;
    kcp_api_versions_response_init(&resp);
    kcp_api_versions_response_api_version self = {.api_key = 18,
                                                  .min_version = KCP_API_VERSIONS_REQUEST_MIN_VERSION,
                                                  .max_version = KCP_API_VERSIONS_REQUEST_MAX_VERSION};
    int rc = 0;
    if (version > KCP_API_VERSIONS_REQUEST_MAX_VERSION) {
        /* KIP-511: answer a version we do not know with a v0 body carrying
         * only our own ApiVersions range, so the client can retry. */
        resp.error_code = ERR_UNSUPPORTED_VERSION;
        resp.api_keys.n = 1;
        resp.api_keys.v = &self;
        rc = reply(q, &resp, 0);
        kcp_api_versions_response_free(&resp);
        return rc ? KCB_CLOSE_IO_ERROR : 0;
    }
    kcp_api_versions_request req;
    if (decode_body(q, &req, version)) {
        kcp_api_versions_request_free(&req);
        return KCB_CLOSE_MALFORMED;
    }
    if (!software_field_valid(req.client_software_name) || !software_field_valid(req.client_software_version)) {
        resp.error_code = ERR_INVALID_REQUEST;
        kb_log(KB_WARN, "invalid_client_software", "conn", conn_id(q), NULL);
    } else {
        q->c->api_versions_seen = true;
        if (version >= 3) {
            char name[256], ver[256];
            c_string(name, sizeof name, req.client_software_name);
            c_string(ver, sizeof ver, req.client_software_version);
            kcb_conn_client_software(q->c->reg, name, ver);
        }
        kcp_api_versions_response_api_version keys[KCP_API__COUNT];
        for (int i = 0; i < KCP_API__COUNT; i++) {
            const kcp_api_info *info = kcp_api_info_get(i);
            kcp_api_versions_response_api_version_init(&keys[i]);
            keys[i].api_key = key_of(cfg, i);
            keys[i].min_version = info->min_version;
            keys[i].max_version = info->max_version;
        }
        resp.api_keys.n = KCP_API__COUNT;
        resp.api_keys.v = keys;
        rc = reply(q, &resp, version);
        resp.api_keys.n = 0;
        kcp_api_versions_request_free(&req);
        kcp_api_versions_response_free(&resp);
        return rc ? KCB_CLOSE_IO_ERROR : 0;
    }
    rc = reply(q, &resp, version);
    kcp_api_versions_request_free(&req);
    kcp_api_versions_response_free(&resp);
    return rc ? KCB_CLOSE_IO_ERROR : 0;
}

/* -------------------------------------------------------- cluster layout */

static const kb_endpoint *node_endpoint(const kb_node *n, const char *listener)
{
    for (size_t i = 0; i < n->n_endpoints; i++)
        if (strcmp(n->endpoints[i].listener, listener) == 0)
            return &n->endpoints[i];
    return NULL;
}

/* Fills b, the brokers array of a Metadata or a DescribeCluster response,
 * with every node that has an endpoint on the listener q arrived on, so
 * that both answers advertise the same brokers. A macro because the two
 * element types differ: init is the element's _init function, id_field the
 * name of its node id field. b.v stays NULL when out of memory. */
#define LIST_BROKERS(q, a, b, init, id_field)                                                     \
    do {                                                                                          \
        const kb_config *cfg_ = (q)->c->thread->srv->cfg;                                         \
        (b).n = 0;                                                                                \
        (b).v = kcp_arena_alloc((a), cfg_->n_nodes * sizeof *(b).v);                              \
        for (size_t i_ = 0; (b).v && i_ < cfg_->n_nodes; i_++) {                                  \
            const kb_endpoint *ep_ = node_endpoint(&cfg_->nodes[i_], (q)->c->listener->listener); \
            if (!ep_)                                                                             \
                continue;                                                                         \
            init(&(b).v[(b).n]);                                                                  \
            (b).v[(b).n].id_field = cfg_->nodes[i_].id;                                           \
            (b).v[(b).n].host = kcp_str_c(ep_->host);                                             \
            (b).v[(b).n].port = ep_->port;                                                        \
            (b).n++;                                                                              \
        }                                                                                         \
    } while (0)

/* The controller id must be a node the client can reach: kafka-python's
 * admin client connects to it through the brokers listed in the same
 * answer. We report the lowest node id with an endpoint on the listener
 * the request came in on (the serving node has one, so there always is). */
static int32_t controller_id(const request *q)
{
    const kb_config *cfg = q->c->thread->srv->cfg;
    int32_t id = -1;
    for (size_t i = 0; i < cfg->n_nodes; i++)
        if (node_endpoint(&cfg->nodes[i], q->c->listener->listener) &&
            (id < 0 || cfg->nodes[i].id < id))
            id = cfg->nodes[i].id;
    return id;
}

static int handle_metadata(request *q)
{
    const kb_config *cfg = q->c->thread->srv->cfg;
    int16_t version = q->h.api_version;
    kcp_metadata_request req;
    if (decode_body(q, &req, version)) {
        kcp_metadata_request_free(&req);
        return KCB_CLOSE_MALFORMED;
    }
    kcp_metadata_response resp;
    kcp_metadata_response_init(&resp);
    kcp_arena *a = &resp.arena;
    LIST_BROKERS(q, a, resp.brokers, kcp_metadata_response_metadata_response_broker_init, node_id);
    resp.cluster_id = kcp_str_c(cfg->cluster_id);
    resp.controller_id = controller_id(q);
    resp.cluster_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
    /* This broker holds no topics: any topic asked for by name is unknown
     * (auto-creation is not offered); a null list (v1+) or an empty one
     * (v0, meaning all) lists nothing. */
    int32_t n = req.topics.n > 0 ? req.topics.n : 0;
    resp.topics.n = n;
    resp.topics.v = n ? kcp_arena_alloc(a, (size_t)n * sizeof *resp.topics.v) : NULL;
    for (int32_t i = 0; i < n && resp.topics.v; i++) {
        kcp_metadata_response_metadata_response_topic *t = &resp.topics.v[i];
        kcp_metadata_response_metadata_response_topic_init(t);
        t->name = req.topics.v[i].name;
        t->topic_id = req.topics.v[i].topic_id;
        t->error_code = req.topics.v[i].name.len < 0 ? ERR_UNKNOWN_TOPIC_ID : ERR_UNKNOWN_TOPIC_OR_PARTITION;
        t->topic_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
    }
    int rc = (!resp.brokers.v || (n && !resp.topics.v)) ? -1 : reply(q, &resp, version);
    kcp_metadata_response_free(&resp);
    kcp_metadata_request_free(&req);
    return rc ? KCB_CLOSE_IO_ERROR : 0;
}

static int handle_describe_cluster(request *q)
{
    const kb_config *cfg = q->c->thread->srv->cfg;
    int16_t version = q->h.api_version;
    kcp_describe_cluster_request req;
    if (decode_body(q, &req, version)) {
        kcp_describe_cluster_request_free(&req);
        return KCB_CLOSE_MALFORMED;
    }
    kcp_describe_cluster_response resp;
    kcp_describe_cluster_response_init(&resp);
    kcp_arena *a = &resp.arena;
    resp.endpoint_type = req.endpoint_type;
    resp.cluster_id = kcp_str_c(cfg->cluster_id);
    resp.controller_id = controller_id(q);
    resp.cluster_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
    if (version >= 1 && req.endpoint_type != 1) {
        /* Only broker endpoints exist here (KIP-919 endpoint type 1). */
        resp.error_code = ERR_UNSUPPORTED_ENDPOINT_TYPE;
        resp.error_message = kcp_str_c("only broker endpoints (type 1) are served");
    } else {
        LIST_BROKERS(q, a, resp.brokers, kcp_describe_cluster_response_describe_cluster_broker_init,
                     broker_id);
    }
    int rc = reply(q, &resp, version);
    kcp_describe_cluster_response_free(&resp);
    kcp_describe_cluster_request_free(&req);
    return rc ? KCB_CLOSE_IO_ERROR : 0;
}

static int handle_describe_connections(request *q)
{
    uint8_t *body = NULL;
    size_t body_len = 0;
    char err[256];
    if (kcb_describe(q->c->thread->srv->reg, q->c->reg, q->h.api_version, q->body, q->body_len, &body,
                     &body_len, err, sizeof err)) {
        kb_log(KB_WARN, "malformed_request", "conn", conn_id(q), "api", "DescribeConnections", "why", err, NULL);
        return KCB_CLOSE_MALFORMED;
    }
    /* Every version is flexible: response header v1 (correlation id and an
     * empty tagged-field section). */
    uint8_t hdr[9];
    kcp_writer w;
    kcp_writer_init(&w, hdr, sizeof hdr);
    kcp_write_int32(&w, (int32_t)(body_len + 5));
    kcp_write_int32(&w, q->h.correlation_id);
    kcp_write_uvarint(&w, 0);
    int rc = kb_conn_send_raw(q->c, hdr, sizeof hdr) || kb_conn_send_raw(q->c, body, body_len);
    free(body);
    return rc ? KCB_CLOSE_IO_ERROR : 0;
}

/* ------------------------------------------------------------------ SASL */

static int handle_sasl_handshake(request *q)
{
    kb_conn *c = q->c;
    kb_server *srv = c->thread->srv;
    int16_t version = q->h.api_version;
    kcp_sasl_handshake_request req;
    if (decode_body(q, &req, version)) {
        kcp_sasl_handshake_request_free(&req);
        return KCB_CLOSE_MALFORMED;
    }
    char mech[64];
    c_string(mech, sizeof mech, req.mechanism);
    kcp_sasl_handshake_request_free(&req);

    kcp_sasl_handshake_response resp;
    kcp_sasl_handshake_response_init(&resp);
    const char *names[8];
    size_t n = srv->sasl ? kb_sasl_mechanisms(srv->sasl, names, 8) : 0;
    kcp_str list[8];
    for (size_t i = 0; i < n && i < 8; i++)
        list[i] = kcp_str_c(names[i]);
    resp.mechanisms.n = (int32_t)(n < 8 ? n : 8);
    resp.mechanisms.v = list;

    bool reauth = c->auth_phase == KB_AUTH_DONE || c->reauthenticating;
    char err[256] = "";
    if (c->auth_phase == KB_AUTH_NONE || c->auth_phase == KB_AUTH_AUTHENTICATE ||
        (reauth && (version < 1 || strcmp(mech, c->mechanism) != 0))) {
        /* No SASL on this listener, or a re-authentication that switches
         * mechanism or uses the v0 framing (KIP-368 needs v1). */
        resp.error_code = ERR_ILLEGAL_SASL_STATE;
        snprintf(err, sizeof err, "SaslHandshake not allowed here");
    } else if (!kb_sasl_enabled(srv->sasl, mech)) {
        resp.error_code = ERR_UNSUPPORTED_SASL_MECHANISM;
        snprintf(err, sizeof err, "mechanism %s is not enabled", mech);
    } else {
        kb_sasl_session_free(c->sasl);
        c->sasl = kb_sasl_session_new(srv->sasl, mech, err, sizeof err);
        if (!c->sasl)
            resp.error_code = ERR_SASL_AUTHENTICATION_FAILED;
    }
    int rc = reply(q, &resp, version);
    resp.mechanisms.n = 0;
    kcp_sasl_handshake_response_free(&resp);
    if (resp.error_code) {
        kb_log(KB_WARN, "sasl_handshake_refused", "conn", conn_id(q), "mechanism", mech, "why", err, NULL);
        kcb_conn_auth_failed(c->reg, kb_now_ms());
        kb_conn_close_after_flush(c, KCB_CLOSE_AUTH_FAILED);
        return rc ? KCB_CLOSE_IO_ERROR : 0;
    }
    if (!reauth) {
        free(c->mechanism);
        c->mechanism = strdup(mech);
        kcb_conn_sasl_mechanism(c->reg, mech);
    }
    c->reauthenticating = reauth;
    if (reauth)
        c->reauth_started_at = kb_now_ms();
    c->auth_phase = version == 0 ? KB_AUTH_RAW_TOKENS : KB_AUTH_AUTHENTICATE;
    return rc ? KCB_CLOSE_IO_ERROR : 0;
}

/* Authentication finished: record the principal and the session's end.
 * Returns the session lifetime to announce (KIP-368), or -1 when a
 * re-authentication tried to change the principal. */
static int64_t authenticated(kb_conn *c)
{
    const kb_config *cfg = c->thread->srv->cfg;
    char *principal = NULL;
    if (asprintf(&principal, "User:%s", kb_sasl_username(c->sasl)) < 0)
        return -1;
    if (c->reauthenticating && strcmp(principal, c->principal) != 0) {
        kb_log(KB_WARN, "reauthentication_refused", "conn", kcb_conn_id(c->reg), "principal", principal,
               "why", "principal changed", NULL);
        free(principal);
        return -1;
    }
    int64_t now = kb_now_ms(), lifetime = cfg->connections_max_reauth_ms;
    c->session_expires_at = lifetime > 0 ? now + lifetime : -1;
    kcb_conn_authenticated(c->reg, principal, c->mechanism, lifetime, now);
    kb_log(KB_INFO, c->reauthenticating ? "reauthenticated" : "authenticated", "conn", kcb_conn_id(c->reg),
           "principal", principal, "mechanism", c->mechanism, NULL);
    free(c->principal);
    c->principal = principal;
    c->auth_phase = KB_AUTH_DONE;
    c->reauthenticating = false;
    kb_sasl_session_free(c->sasl);
    c->sasl = NULL;
    return lifetime;
}

static void auth_failed(kb_conn *c, const char *why)
{
    kb_log(KB_WARN, "authentication_failed", "conn", kcb_conn_id(c->reg), "mechanism", c->mechanism,
           "why", why, NULL);
    kcb_conn_auth_failed(c->reg, kb_now_ms());
}

static int handle_sasl_authenticate(request *q)
{
    kb_conn *c = q->c;
    int16_t version = q->h.api_version;
    kcp_sasl_authenticate_request req;
    if (decode_body(q, &req, version)) {
        kcp_sasl_authenticate_request_free(&req);
        return KCB_CLOSE_MALFORMED;
    }
    kcp_sasl_authenticate_response resp;
    kcp_sasl_authenticate_response_init(&resp);
    const uint8_t *out = NULL;
    size_t out_len = 0;
    char err[256] = "";
    int st = kb_sasl_step(c->sasl, req.auth_bytes.ptr, req.auth_bytes.len > 0 ? (size_t)req.auth_bytes.len : 0,
                          &out, &out_len, err, sizeof err);
    int64_t lifetime = 0;
    if (st == KB_SASL_DONE) {
        resp.auth_bytes.ptr = out;
        resp.auth_bytes.len = (int32_t)out_len;
        /* The reply must go out before the session (owning out) is freed. */
        uint8_t *copy = out_len ? kcp_arena_memdup(&resp.arena, out, out_len) : NULL;
        resp.auth_bytes.ptr = copy;
        lifetime = authenticated(c);
        if (lifetime < 0) {
            st = KB_SASL_FAILED;
            snprintf(err, sizeof err, "re-authentication must keep the principal");
        }
    } else if (st == KB_SASL_CONTINUE) {
        resp.auth_bytes.ptr = out;
        resp.auth_bytes.len = (int32_t)out_len;
    }
    if (st == KB_SASL_FAILED) {
        resp.error_code = ERR_SASL_AUTHENTICATION_FAILED;
        resp.error_message = kcp_str_c("Authentication failed: invalid credentials");
        resp.auth_bytes.ptr = NULL;
        resp.auth_bytes.len = 0;
        auth_failed(c, err);
        kb_conn_close_after_flush(c, KCB_CLOSE_AUTH_FAILED);
    } else {
        resp.session_lifetime_ms = lifetime > 0 ? lifetime : 0;
    }
    int rc = reply(q, &resp, version);
    kcp_sasl_authenticate_response_free(&resp);
    kcp_sasl_authenticate_request_free(&req);
    return rc ? KCB_CLOSE_IO_ERROR : 0;
}

/* After SaslHandshake v0 the tokens come as bare size-prefixed frames, and
 * so do the answers (kafka-python expects an empty frame after PLAIN). */
static int handle_raw_token(kb_conn *c, const uint8_t *frame, size_t len)
{
    const uint8_t *out = NULL;
    size_t out_len = 0;
    char err[256] = "";
    kcb_conn_request(c->reg, -1, NULL, 0, (uint32_t)(len + 4), kb_now_ms());
    int st = kb_sasl_step(c->sasl, frame, len, &out, &out_len, err, sizeof err);
    if (st == KB_SASL_FAILED) {
        auth_failed(c, err);
        return KCB_CLOSE_AUTH_FAILED;
    }
    uint8_t prefix[4];
    kcp_writer w;
    kcp_writer_init(&w, prefix, sizeof prefix);
    kcp_write_int32(&w, (int32_t)out_len);
    if (kb_conn_send_raw(c, prefix, 4) || (out_len && kb_conn_send_raw(c, out, out_len)))
        return KCB_CLOSE_IO_ERROR;
    if (st == KB_SASL_DONE && authenticated(c) < 0)
        return KCB_CLOSE_AUTH_FAILED;
    return 0;
}

/* ------------------------------------------------------------- dispatch */

static const char *fmt_int(char buf[8], int v)
{
    snprintf(buf, 8, "%d", v);
    return buf;
}

/* Kafka's SaslServerAuthenticator: before authentication only ApiVersions
 * (once), SaslHandshake and then SaslAuthenticate are allowed. */
static bool allowed_before_auth(const kb_conn *c, int api, int16_t version)
{
    switch (c->auth_phase) {
    case KB_AUTH_HANDSHAKE:
        return (api == KCP_API_API_VERSIONS && (!c->api_versions_seen ||
                                                version > KCP_API_VERSIONS_REQUEST_MAX_VERSION)) ||
               api == KCP_API_SASL_HANDSHAKE;
    case KB_AUTH_AUTHENTICATE:
        return api == KCP_API_SASL_AUTHENTICATE;
    default:
        return true;
    }
}

int kb_handle_frame(kb_conn *c, const uint8_t *frame, size_t len)
{
    if (c->auth_phase == KB_AUTH_RAW_TOKENS)
        return handle_raw_token(c, frame, len);
    const kb_config *cfg = c->thread->srv->cfg;
    int64_t now = kb_now_ms();
    request q = {.c = c};
    int16_t key, version;
    int32_t correlation;
    if (kcp_request_header_peek(frame, len, &key, &version, &correlation)) {
        kb_log(KB_WARN, "malformed_request", "conn", kcb_conn_id(c->reg), "why", "frame shorter than a request header", NULL);
        return KCB_CLOSE_MALFORMED;
    }
    char num[8]; /* formatted only on the paths that log */
    q.api = api_for_key(cfg, key);
    if (q.api < 0) {
        /* As Apache Kafka does: an unknown API key closes the connection. */
        kb_log(KB_WARN, "unknown_api_key", "conn", kcb_conn_id(c->reg), "api_key", fmt_int(num, key), NULL);
        return KCB_CLOSE_PROTOCOL;
    }
    kcp_reader r;
    kcp_reader_init(&r, frame, len);
    kcp_arena arena = {0};
    int rc = kcp_request_header_decode(&r, kcp_api_request_header_version(q.api, version), &arena, &q.h);
    if (rc) {
        kb_log(KB_WARN, "malformed_request", "conn", kcb_conn_id(c->reg), "why", r.errstr, NULL);
        kcp_arena_free(&arena);
        return KCB_CLOSE_MALFORMED;
    }
    kcb_conn_request(c->reg, key, q.h.client_id.ptr, q.h.client_id.len > 0 ? (size_t)q.h.client_id.len : 0,
                     (uint32_t)(len + 4), now);
    q.body = frame + r.pos;
    q.body_len = len - r.pos;
    const kcp_api_info *info = kcp_api_info_get(q.api);

    if (!c->reauthenticating && !allowed_before_auth(c, q.api, version)) {
        kb_log(KB_WARN, "illegal_sasl_state", "conn", kcb_conn_id(c->reg), "api", info->name, NULL);
        kcp_arena_free(&arena);
        return KCB_CLOSE_PROTOCOL;
    }
    if (c->session_expires_at > 0 && now > c->session_expires_at &&
        q.api != KCP_API_SASL_HANDSHAKE && q.api != KCP_API_SASL_AUTHENTICATE) {
        kcp_arena_free(&arena);
        return KCB_CLOSE_SESSION_EXPIRED; /* KIP-368 */
    }
    if (q.api != KCP_API_API_VERSIONS && q.api != KCP_API_DESCRIBE_CONNECTIONS &&
        (version < info->min_version || version > info->max_version)) {
        kb_log(KB_WARN, "unsupported_version", "conn", kcb_conn_id(c->reg), "api", info->name, "version",
               fmt_int(num, version), NULL);
        kcp_arena_free(&arena);
        return KCB_CLOSE_PROTOCOL;
    }
    switch (q.api) {
    case KCP_API_API_VERSIONS: rc = handle_api_versions(&q); break;
    case KCP_API_METADATA: rc = handle_metadata(&q); break;
    case KCP_API_DESCRIBE_CLUSTER: rc = handle_describe_cluster(&q); break;
    case KCP_API_SASL_HANDSHAKE: rc = handle_sasl_handshake(&q); break;
    case KCP_API_SASL_AUTHENTICATE:
        if (c->auth_phase == KB_AUTH_AUTHENTICATE) {
            rc = handle_sasl_authenticate(&q);
        } else {
            kb_log(KB_WARN, "illegal_sasl_state", "conn", kcb_conn_id(c->reg), "api", info->name,
                   "why", "SaslAuthenticate without a SaslHandshake v1 first", NULL);
            rc = KCB_CLOSE_PROTOCOL;
        }
        break;
    case KCP_API_DESCRIBE_CONNECTIONS: rc = handle_describe_connections(&q); break;
    default: rc = KCB_CLOSE_PROTOCOL; break;
    }
    kcp_arena_free(&arena);
    return rc;
}
