/*
 * kc_fanout.h: how the kafka-connections CLI reaches the brokers. The
 * operator-facing side (options, views, output) calls these; the network
 * side (bootstrap through librdkafka, then the CLI's own TLS/SASL
 * connection to every broker, ApiVersions and DescribeConnections paging)
 * implements them. Nothing here prints: errors come back as strings that
 * name the broker and the cause.
 */
#ifndef KC_FANOUT_H
#define KC_FANOUT_H

#include "kcp_connections.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* KIP-511: how the tool names its software to brokers, on the bootstrap
 * client's connections and its own alike, so that it can tell its own
 * connections from others (kc_result_drop_own). */
#define KC_SOFTWARE_NAME "kafka-connections"

/* What starts every line the tool writes to stderr. */
#define KC_PROG KC_SOFTWARE_NAME ": "

/* Connection settings, from --command-config and -X (Kafka's and
 * librdkafka's property names), already validated. Strings are owned by
 * whoever filled the struct. */
typedef struct kc_settings {
    int security_protocol;       /* enum kcb_security_protocol: 0 PLAINTEXT .. 3 SASL_SSL */
    const char *sasl_mechanism;  /* "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"; NULL without SASL */
    const char *sasl_username;
    const char *sasl_password;   /* never printed */
    const char *ssl_ca_location;          /* PEM CA bundle; NULL = system default */
    const char *ssl_certificate_location; /* client certificate (PEM) for mTLS; may be NULL */
    const char *ssl_key_location;         /* its private key (PEM); may be NULL */
    const char *ssl_key_password;         /* may be NULL */
    bool verify_hostname;        /* ssl.endpoint.identification.algorithm=https (default) */
    int16_t api_key;             /* DescribeConnections key; default 1000 */
    int timeout_ms;              /* per broker, whole exchange; default 30000 */
    int parallelism;             /* brokers asked at once; default 16 */
    const char *client_id;       /* "kafka-connections" */
    const char **librdkafka_props; /* extra key, value pairs for the bootstrap client; NULL-terminated */
    /* Non-NULL: once *stop is non-zero (set from a signal handler), the
     * bootstrap and the fan-out give up within KC_STOP_POLL_MS. */
    const volatile sig_atomic_t *stop;
} kc_settings;

/* How long a stop request may wait to be seen. */
#define KC_STOP_POLL_MS 200

/* True when s asks to stop now. */
static inline bool kc_stopping(const kc_settings *s)
{
    return s->stop && *s->stop;
}

/* One broker as Metadata describes it. */
typedef struct kc_broker {
    int32_t node_id;
    char *host;
    uint16_t port;
} kc_broker;

/* Why a broker's answer is missing or partial (the JSON "status"). */
typedef enum kc_status {
    KC_OK = 0,          /* "ok" */
    KC_UNSUPPORTED,     /* "unsupported": DescribeConnections not advertised */
    KC_UNAUTHORIZED,    /* "unauthorized": CLUSTER_AUTHORIZATION_FAILED or SASL failure */
    KC_UNREACHABLE,     /* "unreachable": connect failed or timed out */
    KC_ERROR            /* "error": anything else (TLS, protocol, error code) */
} kc_status;

/* Returns "ok", "unsupported", "unauthorized", "unreachable" or "error". */
const char *kc_status_name(int status);

/* One connection as a broker listed it: its decoded row and the page whose
 * Strings the row's ...Index fields refer to. Both belong to the kc_result
 * the handle came from; the handle is only valid while that result is. */
typedef struct kc_connection {
    const kcp_describe_connections_response_connection *w;
    const kcp_describe_connections_response *page;
} kc_connection;

/* The strings of a row, resolved against its page: a null string where
 * the broker sent -1 (e.g. no client id yet). One accessor per ...Index
 * field of the spec, all made by this one macro. */
#define KC_CONNECTION_STR(name, field)                                                           \
    static inline kcp_str kc_connection_##name(const kc_connection *c)                          \
    {                                                                                             \
        return kcp_connections_str(c->page, c->w->field);                                         \
    }
KC_CONNECTION_STR(listener, listener_name_index)
KC_CONNECTION_STR(principal, principal_index)
KC_CONNECTION_STR(sasl_mechanism, sasl_mechanism_index)
KC_CONNECTION_STR(local_host, local_host_index)
KC_CONNECTION_STR(client_id, client_id_index)
KC_CONNECTION_STR(client_software_name, client_software_name_index)
KC_CONNECTION_STR(client_software_version, client_software_version_index)
KC_CONNECTION_STR(close_reason, close_reason_index)
KC_CONNECTION_STR(tls_protocol, tls_protocol_index)
KC_CONNECTION_STR(tls_cipher, tls_cipher_index)
KC_CONNECTION_STR(peer_certificate_subject, peer_certificate_subject_index)
KC_CONNECTION_STR(peer_certificate_issuer, peer_certificate_issuer_index)
KC_CONNECTION_STR(peer_certificate_serial, peer_certificate_serial_index)
#undef KC_CONNECTION_STR
/* The client host travels inline (it is seldom shared), not by index. */
static inline kcp_str kc_connection_client_host(const kc_connection *c)
{
    return c->w->client_host;
}

/* Everything one broker answered, all pages together. Rows and summaries
 * point into pages[] (decoded responses, each checked with
 * kcp_connections_check()) and bodies[] (the bytes their strings point
 * into), so the result must be kept whole until kc_result_free(). Pages
 * are allocated one by one and never move, so rows[] may point at them
 * while pages are added. */
typedef struct kc_result {
    kc_broker broker;            /* copy; owned */
    int status;                  /* enum kc_status */
    char *error;                 /* "broker 2 (127.0.0.1:9093): SASL authentication failed: ..."; NULL when ok */
    bool restricted;             /* the broker showed only the caller's own connections */
    bool denied;                 /* unauthorized by CLUSTER_AUTHORIZATION_FAILED: the
                                  * credentials were accepted, the request refused */
    int64_t broker_time_ms;      /* the broker's clock at its first page */
    int32_t total_count;         /* TotalCount of the first page */
    int64_t elapsed_ms;          /* time from first connect to last page */
    int16_t describe_version;    /* DescribeConnections version asked (or, for the
                                  * scout, the highest both sides speak); -1 none */
    size_t n_rows;
    kc_connection *rows;         /* owned array, in the broker's paging order */
    size_t cap_rows;             /* allocated length of rows */
    size_t n_summaries;
    const kcp_describe_connections_response_principal_summary **summaries;
    kcp_describe_connections_response **pages; /* owned, each malloc'd */
    uint8_t **bodies;                          /* owned */
    size_t n_pages;
} kc_result;

/* kc_bootstrap's return when librdkafka refused the settings. */
#define KC_BAD_SETTINGS (-2)

/* Asks the bootstrap servers ("host:port,host:port") for the cluster's
 * brokers through librdkafka with the same security settings. On success
 * *brokers (malloc'd array, free with kc_brokers_free) holds *n brokers
 * sorted by node id. Returns 0; KC_BAD_SETTINGS when librdkafka refused
 * the settings before sending anything (an unreadable CA file, a key that
 * does not match its certificate); or -1 when the cluster could not be
 * asked (e.g. authentication failed). errstr says which server and why.
 * When no bootstrap server can be reached and much of the timeout is left,
 * one line on notes (NULL: none) says why while it keeps trying. started
 * (NULL: none) is called once with opaque as soon as librdkafka's client
 * exists, that is once rd_kafka_new() has loaded its TLS context (CA bundle
 * included), and before waiting for Metadata. */
int kc_bootstrap(const kc_settings *s, const char *bootstrap_servers, kc_broker **brokers,
                 size_t *n, FILE *notes, void (*started)(void *opaque), void *opaque, char *errstr,
                 size_t errstr_size);
void kc_brokers_free(kc_broker *brokers, size_t n);

/* The scout: a thread of its own, started from kc_bootstrap()'s started
 * callback, that works while librdkafka bootstraps. It builds the
 * fan-out's TLS context (loading a CA bundle can take longer than the whole
 * bootstrap; started after librdkafka has loaded its own, since two loads
 * at once in OpenSSL 3 take longer than one after the other) and, without
 * SASL, has one ApiVersions exchange with the first bootstrap server (same
 * security settings) to learn which DescribeConnections version the
 * cluster serves, so that kc_fanout() can send each broker its first page
 * right behind ApiVersions: one round trip less per broker. With SASL,
 * which must come first, it only builds the TLS context. */
typedef struct kc_scout kc_scout;
typedef struct kc_tls_ctx kc_tls_ctx;

/* What the scout made ready for kc_fanout(). */
typedef struct kc_fanout_prep {
    int16_t pipeline_version; /* version to send behind ApiVersions; -1: wait for it */
    kc_tls_ctx *tls;          /* owned (kc_fanout_prep_free); NULL: not built */
    char tls_error[512];      /* why tls could not be built; "" when it was not tried */
} kc_fanout_prep;

/* Starts the scout; NULL when there is nothing to do (SASL without TLS)
 * or it could not start (the fan-out then builds its own TLS context and
 * waits for every ApiVersions answer). s must stay valid until
 * kc_scout_finish(). */
kc_scout *kc_scout_start(const kc_settings *s, const char *bootstrap_servers);

/* Stops the scout if it is still at work (a host name lookup or the TLS
 * context under way is waited for), frees it, and fills *prep with what it
 * made ready: the version to pipeline (-1 when it learned none: not
 * served, unreachable, not done yet, or sc NULL) and the TLS context,
 * which the caller frees with kc_fanout_prep_free(). */
void kc_scout_finish(kc_scout *sc, kc_fanout_prep *prep);
void kc_fanout_prep_free(kc_fanout_prep *prep);

/* kc_bootstrap()'s started callback for the scout: opaque is a
 * kc_scout_launch, whose scout it sets with kc_scout_start(). */
typedef struct kc_scout_launch {
    const kc_settings *s;
    const char *bootstrap_servers;
    kc_scout *scout; /* NULL until started, or when it could not start */
} kc_scout_launch;
void kc_scout_launch_cb(void *opaque);

/* After a bootstrap that failed on certificate verification: one TLS
 * handshake with the first bootstrap server, as the fan-out would make it,
 * to name the cause librdkafka does not (its message for a hostname
 * mismatch reads as if the CA were wrong). Nothing is sent but ApiVersions,
 * no credentials. Returns 0 with why as "bootstrap server (HOST:PORT): TLS
 * certificate verification failed: ...", or -1 when the handshake did not
 * fail that way. */
int kc_scout_explain_tls(const kc_settings *s, const char *bootstrap_servers, char *why,
                         size_t why_size);

/* Progress callback: done of total brokers have finished. Called in the
 * thread that called kc_fanout(), one call at a time, about every 100 ms
 * while answers are coming in, done never going down; the last call has
 * done == total. */
typedef void (*kc_progress_fn)(void *opaque, size_t done, size_t total);

/* Asks every broker in parallel (at most s->parallelism at once, each
 * within s->timeout_ms): connect, TLS, ApiVersions v3 announcing
 * "kafka-connections" and its version, check DescribeConnections is
 * advertised under s->api_key, SASL, then DescribeConnections with req,
 * following NextCursor until the last page or until max_rows rows (0 = no
 * limit). prep (NULL: nothing prepared) comes from kc_scout_finish(): its
 * TLS context is used when it was built or failed to build, else the
 * fan-out builds its own; with prep->pipeline_version >= 0 and no SASL, the
 * first page goes out in that version behind ApiVersions, and a broker
 * whose ApiVersions answer does not allow it is asked again, waiting for
 * each answer. results[i] answers brokers[i]; each must be freed with
 * kc_result_free(). Returns the number of brokers whose status is not ok.
 * The exchanges run on up to one worker thread per CPU, each with one
 * poll() loop, with every signal blocked; resolving a host name blocks its
 * loop (getaddrinfo) but counts against that broker's timeout. */
size_t kc_fanout(const kc_settings *s, const kc_broker *brokers, size_t n,
                 const kcp_describe_connections_request *req, int64_t max_rows,
                 const kc_fanout_prep *prep, kc_result *results, kc_progress_fn progress,
                 void *opaque);
void kc_result_free(kc_result *r);
/* True when r is ok and its broker matched more connections than it listed
 * (--limit). */
bool kc_result_truncated(const kc_result *r);

#endif
