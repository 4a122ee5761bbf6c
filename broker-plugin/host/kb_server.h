/*
 * kb_server.h: the reference broker's network layer. num.network.threads
 * threads, each with its own epoll set and registry shard, all waiting on
 * the listening sockets (EPOLLEXCLUSIVE); a connection lives on one thread for
 * its whole life, so nothing about it is shared between threads.
 */
#ifndef KB_SERVER_H
#define KB_SERVER_H

#include "kb_config.h"
#include "kb_sasl.h"
#include "kb_tls.h"
#include "kcb.h"
#include "kcp_frame.h"
#include "kcp_messages.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct kb_server kb_server;
typedef struct kb_thread kb_thread;

/* Where a connection stands in Kafka's SASL exchange
 * (org.apache.kafka.common.security.authenticator.SaslServerAuthenticator). */
enum kb_auth_phase {
    KB_AUTH_NONE,           /* PLAINTEXT/SSL: no SASL; everything allowed */
    KB_AUTH_HANDSHAKE,      /* SASL: expects ApiVersions or SaslHandshake */
    KB_AUTH_RAW_TOKENS,     /* after SaslHandshake v0: bare token frames */
    KB_AUTH_AUTHENTICATE,   /* after SaslHandshake v1: SaslAuthenticate */
    KB_AUTH_DONE            /* authenticated */
};

typedef struct kb_conn {
    int fd;
    kb_thread *thread;
    const kb_endpoint *listener;   /* the bound listener it came in on */
    kcb_conn *reg;                 /* its record in the registry */
    kb_tls *tls;                   /* NULL on plaintext listeners */
    bool tls_done;
    kcp_frame_reader frames;
    uint8_t *out;                  /* pending output */
    size_t out_len, out_off, out_cap;
    int auth_phase;                /* enum kb_auth_phase */
    bool reauthenticating;         /* KIP-368: a new exchange on a live session */
    int64_t reauth_started_at;     /* when that exchange began: it gets the auth timeout too */
    bool api_versions_seen;        /* one valid ApiVersions allowed before auth */
    bool close_after_flush;        /* send what is queued, then close */
    uint32_t interest;             /* epoll events registered now */
    int close_reason;              /* for close_after_flush */
    kb_sasl_session *sasl;
    char *mechanism;               /* chosen in SaslHandshake */
    char *principal;               /* "User:..." once authenticated */
    int64_t accepted_at, last_activity, session_expires_at;
    struct kb_conn *prev, *next;   /* the thread's list */
} kb_conn;

struct kb_thread {
    kb_server *srv;
    uint32_t index;                /* also the registry shard */
    int epfd;
    int wake_fd;                   /* eventfd: shutdown */
    pthread_t tid;
    kb_conn *conns;
    uint32_t n_conns;
};

/* A listener's own address as text, when it is bound to one address:
 * every connection it accepts then has that local address. */
typedef struct kb_local_name {
    bool known;                    /* false for a wildcard bind: ask per connection */
    char host[INET6_ADDRSTRLEN + 8];
    uint16_t port;
} kb_local_name;

struct kb_server {
    const kb_config *cfg;
    kcb_registry *reg;
    kb_sasl_server *sasl;          /* NULL without SASL listeners */
    kb_tls_ctx *tls;               /* NULL without TLS listeners */
    kb_thread *threads;
    int *listen_fds;               /* one per listener, shared by the threads */
    kb_local_name *local_names;    /* one per listener: its address when bound to one */
    atomic_bool stopping;
    atomic_int open_conns;
    int open_high_water;           /* most open since the last trim; thread 0 only */
};

/* Binds every listener on every network thread and prepares the threads.
 * Returns 0, or -1 with errstr naming the listener and the cause. */
int kb_server_init(kb_server *srv, const kb_config *cfg, kcb_registry *reg, kb_sasl_server *sasl,
                   kb_tls_ctx *tls, char *errstr, size_t errstr_size);
/* Runs the network threads until kb_server_stop(); then closes every
 * connection with reason "broker shutdown" and returns. */
int kb_server_run(kb_server *srv);
/* Asks the threads to stop; async-signal-safe. */
void kb_server_stop(kb_server *srv);
/* Frees what kb_server_init() allocated. */
void kb_server_free(kb_server *srv);

/* ---- used by the request handlers (kb_requests.c) ---- */

/* Queues one response: size prefix, response header, body. Returns 0, or -1
 * if memory ran out (the connection is then closed). */
int kb_conn_send(kb_conn *c, int32_t correlation_id, int16_t header_version,
                 const kcp_message_desc *desc, const void *body, int16_t version);
/* Queues raw bytes already framed (size prefix included). */
int kb_conn_send_raw(kb_conn *c, const void *data, size_t len);
/* Closes after the queued bytes are sent. */
void kb_conn_close_after_flush(kb_conn *c, int reason);
int64_t kb_now_ms(void);

/* Handles one whole frame (without its size prefix). Returns 0 to keep the
 * connection, or a kcb close reason to close it now. */
int kb_handle_frame(kb_conn *c, const uint8_t *frame, size_t len);

#endif
