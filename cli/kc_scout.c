/* The scout (kc_fanout.h): on its own thread while librdkafka bootstraps,
 * the fan-out's TLS context, then the same kc_conn state machine the
 * fan-out drives, stopped after ApiVersions, against the first bootstrap
 * server. Both cost no wall time on the way to the fan-out, which is why it
 * exists: learning the version from the fan-out's own first answers would
 * hold every other broker back by a round trip, and a CA bundle of a few
 * hundred certificates takes OpenSSL tens of milliseconds to load. */
#include "kc_conn.h"
#include "kc_net.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* kc_scout_explain_tls() waits no longer than this for its handshake. */
#define EXPLAIN_TIMEOUT_MS 3000

struct kc_scout {
    kc_conn_env env;
    kcp_describe_connections_request req; /* never sent; the env needs one */
    kc_broker server;                     /* the first bootstrap server; host owned */
    kc_result result;
    bool exchange;                        /* ApiVersions too (not with SASL) */
    char tls_error[512];                  /* why env.tls could not be built */
    int wake;                             /* eventfd: kc_scout_finish() says stop */
    pthread_t thread;
};

/* The first HOST:PORT of a list kc_options already checked; IPv6
 * brackets removed. */
static int first_server(const char *list, kc_broker *b)
{
    size_t len = strcspn(list, ",");
    size_t colon = len;
    while (colon > 0 && list[colon - 1] != ':')
        colon--;
    if (colon < 2)
        return -1;
    const char *host = list;
    size_t host_len = colon - 1;
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    long port = strtol(list + colon, NULL, 10);
    if (host_len == 0 || port <= 0 || port > 65535)
        return -1;
    b->node_id = -1;
    b->port = (uint16_t)port;
    b->host = strndup(host, host_len);
    return b->host ? 0 : -1;
}

static bool stop_asked(const kc_scout *sc)
{
    struct pollfd wake = {.fd = sc->wake, .events = POLLIN};
    return poll(&wake, 1, 0) == 1;
}

static void *scout_main(void *arg)
{
    kc_scout *sc = arg;
    if (kc_uses_tls(sc->env.s)) {
        sc->env.tls = kc_tls_ctx_new(sc->env.s, sc->tls_error, sizeof sc->tls_error);
        sc->env.tls_error = sc->tls_error;
    }
    if (!sc->exchange)
        return NULL;
    if (stop_asked(sc)) {
        /* The result is still zeroed, which would read as ok. */
        kc_result_fail(&sc->result, KC_ERROR, "stopped before ApiVersions was asked");
        return NULL;
    }
    kc_conn *c = kc_conn_start(&sc->env, &sc->server, &sc->result);
    while (c && !kc_conn_done(c)) {
        struct pollfd fds[2] = {{.fd = kc_conn_fd(c), .events = kc_conn_events(c)},
                                {.fd = sc->wake, .events = POLLIN}};
        int64_t left = kc_conn_deadline(c) - kc_now_ms();
        int rc = poll(fds, 2, left < 0 ? 0 : left > 60000 ? 60000 : (int)left);
        if (rc > 0 && fds[1].revents) {
            kc_result_fail(&sc->result, KC_ERROR, "stopped before ApiVersions was answered");
            break;
        }
        kc_conn_step(c, rc > 0 ? fds[0].revents : 0);
    }
    kc_conn_free(c);
    return NULL;
}

static void scout_free(kc_scout *sc)
{
    if (sc->wake >= 0)
        close(sc->wake);
    kc_tls_ctx_free(sc->env.tls);
    kc_result_free(&sc->result);
    free(sc->server.host);
    free(sc);
}

/* A scout on its way (NULL when it could not start). */
static kc_scout *scout_run(const kc_settings *s, const char *bootstrap_servers, bool exchange)
{
    kc_scout *sc = calloc(1, sizeof *sc);
    if (!sc)
        return NULL;
    sc->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    kcp_describe_connections_request_init(&sc->req);
    sc->env = (kc_conn_env){.s = s, .req = &sc->req, .pipeline_version = -1, .scout = true};
    sc->exchange = exchange;
    if (sc->wake < 0 || first_server(bootstrap_servers, &sc->server) ||
        kc_thread_start(&sc->thread, scout_main, sc) != 0) {
        scout_free(sc);
        return NULL;
    }
    return sc;
}

kc_scout *kc_scout_start(const kc_settings *s, const char *bootstrap_servers)
{
    bool exchange = !kc_uses_sasl(s);
    return exchange || kc_uses_tls(s) ? scout_run(s, bootstrap_servers, exchange) : NULL;
}

void kc_scout_launch_cb(void *opaque)
{
    kc_scout_launch *l = opaque;
    l->scout = kc_scout_start(l->s, l->bootstrap_servers);
}

int kc_scout_explain_tls(const kc_settings *s, const char *bootstrap_servers, char *why,
                         size_t why_size)
{
    /* Only to word an error already certain: not worth the whole timeout
     * when the first server is not the one librdkafka reached. */
    kc_settings quick = *s;
    if (kc_timeout_ms(s) > EXPLAIN_TIMEOUT_MS)
        quick.timeout_ms = EXPLAIN_TIMEOUT_MS;
    kc_scout *sc = kc_uses_tls(s) ? scout_run(&quick, bootstrap_servers, true) : NULL;
    if (!sc)
        return -1;
    pthread_join(sc->thread, NULL);
    const char *err = sc->result.status != KC_OK ? sc->result.error : NULL;
    int rc = err && strstr(err, ": TLS certificate verification failed: ") ? 0 : -1;
    if (rc == 0)
        kc_fmt(why, why_size, "%s", err);
    scout_free(sc);
    return rc;
}

void kc_scout_finish(kc_scout *sc, kc_fanout_prep *prep)
{
    memset(prep, 0, sizeof *prep);
    prep->pipeline_version = -1;
    if (!sc)
        return;
    uint64_t one = 1;
    ssize_t w = write(sc->wake, &one, sizeof one);
    (void)w; /* a full counter already says stop */
    pthread_join(sc->thread, NULL);
    if (sc->exchange && sc->result.status == KC_OK)
        prep->pipeline_version = sc->result.describe_version;
    prep->tls = sc->env.tls;
    sc->env.tls = NULL;
    kc_fmt(prep->tls_error, sizeof prep->tls_error, "%s", sc->tls_error);
    scout_free(sc);
}

void kc_fanout_prep_free(kc_fanout_prep *prep)
{
    kc_tls_ctx_free(prep->tls);
    prep->tls = NULL;
}
