/*
 * kcb.h: the embedding ABI of kafka-connections' broker plugin.
 *
 * A Kafka-protocol broker or proxy written in C or C++ reports connection
 * events to a kcb_registry and hands it DescribeConnections requests; the
 * registry answers who is connected. Everything here has the kcb_ prefix,
 * handles are opaque, and the library keeps no global state.
 *
 * Threading: the host has N network threads and gives each its own shard
 * (0..shards-1). All events of one connection come from the thread that
 * owns its shard. The hot path (kcb_conn_request/kcb_conn_response without
 * a client id change) takes no lock at all; the rarer events (accept,
 * authentication, a new client id, close) briefly take their shard's lock,
 * and some a registry-wide one (the shared-strings table, the closed
 * history). kcb_describe() and the reporting functions may run on any
 * thread at any time.
 *
 * Strings passed in are copied; the caller keeps ownership of its own.
 * Times are milliseconds since the Unix epoch, from the host's clock.
 */
#ifndef KCB_H
#define KCB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define KCB_API
#elif defined(__GNUC__)
#define KCB_API __attribute__((visibility("default")))
#else
#define KCB_API
#endif

/* Library version, 0xMMmmpp. Compare with kcb_version() at run time. */
#define KCB_VERSION 0x000100
#define KCB_VERSION_STR "0.1.0"
/* Bumped whenever a struct below changes incompatibly. */
#define KCB_ABI_VERSION 1

/* Returns the version of the library actually loaded (KCB_VERSION form). */
KCB_API unsigned kcb_version(void);
/* Returns the loaded library's version as a static string, e.g. "0.1.0". */
KCB_API const char *kcb_version_str(void);

/* Default API key of DescribeConnections; hosts may serve it under another. */
#define KCB_DESCRIBE_CONNECTIONS_KEY 1000

/* Kafka's security protocol ids (org.apache.kafka.common.security.auth). */
enum kcb_security_protocol {
    KCB_PLAINTEXT = 0,
    KCB_SSL = 1,
    KCB_SASL_PLAINTEXT = 2,
    KCB_SASL_SSL = 3
};

/* Connection states, as sent on the wire. */
enum kcb_state {
    KCB_STATE_AUTHENTICATING = 0,
    KCB_STATE_OPEN = 1,
    KCB_STATE_CLOSING = 2,
    KCB_STATE_CLOSED = 3
};

/* Why a connection ended; kcb_close_reason_name() gives the wire text. */
enum kcb_close_reason {
    KCB_CLOSE_NONE = 0,
    KCB_CLOSE_CLIENT,          /* "client closed" */
    KCB_CLOSE_IDLE_TIMEOUT,    /* "idle timeout" */
    KCB_CLOSE_AUTH_FAILED,     /* "authentication failed" */
    KCB_CLOSE_AUTH_TIMEOUT,    /* "authentication timeout" */
    KCB_CLOSE_SESSION_EXPIRED, /* "session expired" */
    KCB_CLOSE_MALFORMED,       /* "malformed frame" */
    KCB_CLOSE_PROTOCOL,        /* "protocol violation" */
    KCB_CLOSE_IO_ERROR,        /* "network error" */
    KCB_CLOSE_SHUTDOWN,        /* "broker shutdown" */
    KCB_CLOSE_ADMIN,           /* "closed by admin" */
    KCB_CLOSE__COUNT
};

/* Returns the static text of a close reason ("idle timeout"), or "unknown". */
KCB_API const char *kcb_close_reason_name(int reason);

/* What the host's authorizer decides for DESCRIBE on CLUSTER. */
enum kcb_authz {
    KCB_AUTHZ_ALLOW = 0,    /* sees every connection */
    KCB_AUTHZ_OWN_ONLY = 1, /* sees only its own principal's connections */
    KCB_AUTHZ_DENY = 2      /* gets CLUSTER_AUTHORIZATION_FAILED */
};

enum kcb_log_level { KCB_LOG_ERROR = 3, KCB_LOG_WARNING = 4, KCB_LOG_INFO = 6, KCB_LOG_DEBUG = 7 };

/* Callbacks the host supplies. Zero-initialise, then set abi_version and
 * struct_size so a newer library can tell which fields an older host knows.
 * Every callback may be NULL and may be called from any thread. */
typedef struct kcb_host {
    uint32_t abi_version; /* KCB_ABI_VERSION */
    uint32_t struct_size; /* sizeof(kcb_host) */
    void *opaque;         /* passed back to every callback */
    /* Wall clock in ms since the epoch; NULL uses CLOCK_REALTIME. */
    int64_t (*now_ms)(void *opaque);
    /* One log line, without newline. NULL discards. */
    void (*log)(void *opaque, int level, const char *line);
    /* Is principal ("User:alice") allowed DESCRIBE on CLUSTER? NULL uses the
     * super-users list of kcb_config: listed = ALLOW, others = OWN_ONLY. */
    int (*authorize_describe)(void *opaque, const char *principal);
    void *reserved[8]; /* must be NULL */
} kcb_host;

/* Registry settings; zero means the documented default. */
typedef struct kcb_config {
    uint32_t struct_size;      /* sizeof(kcb_config) */
    uint32_t shards;           /* network threads of the host; default 1 */
    const char *super_users;   /* "User:admin;User:ops" as Kafka's super.users */
    uint32_t history_size;     /* closed connections kept; default 1000 */
    int64_t history_max_age_ms;/* how long they are kept; default 600000 */
    int32_t default_page;      /* rows when a request's Limit is 0; default 1000 */
    int32_t max_page;          /* cap on a request's Limit; default 10000 */
    void *reserved[8];         /* must be NULL */
} kcb_config;

typedef struct kcb_registry kcb_registry;
typedef struct kcb_conn kcb_conn;

/* Creates a registry; NULL with errstr set on bad arguments (e.g.
 * default_page above max_page), no memory, or no random bytes from the
 * kernel for the strings table's hash key. host and cfg are copied
 * (host->opaque is kept as given). Free with kcb_registry_free(). */
KCB_API kcb_registry *kcb_registry_new(const kcb_host *host, const kcb_config *cfg,
                                       char *errstr, size_t errstr_size);
/* Frees the registry and every connection and history record it holds.
 * No other call on it may be running or follow. */
KCB_API void kcb_registry_free(kcb_registry *reg);

/* What the host knows when it accepts a connection. */
typedef struct kcb_accept_info {
    uint32_t struct_size;      /* sizeof(kcb_accept_info) */
    uint32_t shard;            /* the accepting network thread */
    const char *listener_name; /* e.g. "SASL_SSL" */
    int security_protocol;     /* enum kcb_security_protocol */
    const char *local_host;    /* numeric IPv4 or IPv6 address */
    uint16_t local_port;
    const char *peer_host;
    uint16_t peer_port;
    int64_t now_ms;
} kcb_accept_info;

/* ---- connection events: call from the thread owning the shard ---------- */

/* Registers a new connection; returns its handle (owned by the registry
 * until kcb_conn_closed) or NULL with errstr set. The principal starts as
 * User:ANONYMOUS; on SASL listeners the state is authenticating. */
KCB_API kcb_conn *kcb_conn_accepted(kcb_registry *reg, const kcb_accept_info *info,
                                    char *errstr, size_t errstr_size);
/* Returns the connection id, localHost:localPort-remoteHost:remotePort-shard-index
 * (Apache Kafka's form); valid until kcb_conn_closed(). */
KCB_API const char *kcb_conn_id(const kcb_conn *c);
/* Records the TLS session; any argument may be NULL (no client certificate).
 * Like the other recording calls below, keeps the previous values when
 * memory runs out: the connection stays listed, with less detail. */
KCB_API void kcb_conn_tls(kcb_conn *c, const char *protocol, const char *cipher,
                          const char *peer_subject, const char *peer_issuer,
                          const char *peer_serial);
/* Records the SASL mechanism the client chose in SaslHandshake. */
KCB_API void kcb_conn_sasl_mechanism(kcb_conn *c, const char *mechanism);
/* Authentication (or KIP-368 re-authentication) succeeded: principal as
 * "User:name", mechanism ("PLAIN", "SCRAM-SHA-256", "MTLS" or NULL), and the
 * session lifetime in ms (0 = no expiry). The state becomes open. */
KCB_API void kcb_conn_authenticated(kcb_conn *c, const char *principal, const char *mechanism,
                                    int64_t session_lifetime_ms, int64_t now_ms);
/* Authentication failed: counted in the registry's stats; state and close
 * reason stay as they are, so the host closes next with
 * KCB_CLOSE_AUTH_FAILED. */
KCB_API void kcb_conn_auth_failed(kcb_conn *c, int64_t now_ms);
/* Client software from ApiVersions v3+ (KIP-511); NULL or "" = "unknown". */
KCB_API void kcb_conn_client_software(kcb_conn *c, const char *name, const char *version);
/* Hot path: a request arrived (bytes_in counts the size prefix). client_id
 * may be NULL; it is copied only when it changed. Unless the client id
 * changed (then it allocates and takes the shard lock, which a describe may
 * hold briefly), it neither allocates nor locks. api_key is not recorded. */
KCB_API void kcb_conn_request(kcb_conn *c, int16_t api_key, const char *client_id,
                              size_t client_id_len, uint32_t bytes_in, int64_t now_ms);
/* Hot path: a response left (bytes_out counts the size prefix). */
KCB_API void kcb_conn_response(kcb_conn *c, uint32_t bytes_out, int64_t now_ms);
/* The host decided to close (reason: enum kcb_close_reason); state closing. */
KCB_API void kcb_conn_closing(kcb_conn *c, int reason);
/* The socket is closed: the record moves to the closed history and c is no
 * longer valid. reason KCB_CLOSE_NONE keeps the reason given to closing. */
KCB_API void kcb_conn_closed(kcb_conn *c, int reason, int64_t now_ms);

/* ---- DescribeConnections --------------------------------------------- */

/* Answers one DescribeConnections request for the caller's connection.
 * request/request_len is the request body (after the request header) at
 * api_version; on return *response (malloc'd, caller frees with free()) and
 * *response_len hold the response body to send after a response header v1.
 * Filter errors and refusals are answered in the body (INVALID_REQUEST,
 * CLUSTER_AUTHORIZATION_FAILED); a version this library does not serve gets
 * a version-0 body with UNSUPPORTED_VERSION. Returns 0, or -1 when the body
 * could not be decoded or memory ran out, with errstr set: the host should
 * then close the connection, as Kafka does for a malformed request. Any
 * thread; it locks each shard only while scanning it. */
KCB_API int kcb_describe(kcb_registry *reg, const kcb_conn *caller, int16_t api_version,
                         const uint8_t *request, size_t request_len, uint8_t **response,
                         size_t *response_len, char *errstr, size_t errstr_size);

/* ---- reporting --------------------------------------------------------- */

typedef struct kcb_stats {
    uint64_t accepted;       /* connections ever accepted */
    uint64_t closed;         /* connections ever closed */
    uint64_t auth_failures;  /* failed authentications */
    uint64_t open;           /* connections currently registered */
} kcb_stats;

/* Fills *out with the registry's counters. Any thread. */
KCB_API void kcb_registry_stats(kcb_registry *reg, kcb_stats *out);

/* Called once per distinct (principal, listener, client software) group of
 * live connections; strings are valid only during the call. */
typedef void (*kcb_count_fn)(void *opaque, const char *principal, const char *listener,
                             const char *software_name, const char *software_version,
                             uint64_t connections);
/* Reports live connection counts per principal, listener and client software,
 * for metrics (e.g. Prometheus). Returns 0, or -1 if memory ran out. */
KCB_API int kcb_registry_counts(kcb_registry *reg, kcb_count_fn fn, void *opaque);

#ifdef __cplusplus
}
#endif
#endif
