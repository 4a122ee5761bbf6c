/* Bootstrap through librdkafka: a Metadata request over the bootstrap
 * servers with the operator's security settings gives every broker's node
 * id, host and port on that listener. */
#include "kc_net.h"
#include "kc_sasl.h"
#include "kc_version.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* librdkafka's names for enum kcb_security_protocol 0..3. */
static const char *const protocol_names[] = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"};

typedef struct boot {
    const char *secrets[2];  /* never to appear in anything we pass on */
    bool debug;              /* the operator asked for librdkafka's debug log */
    bool fatal;              /* an error that retrying will not fix */
    bool all_down;           /* every bootstrap server failed at least once */
    const kc_settings *s;    /* for kc_stopping() */
    char last_error[512];
} boot;

/* Secrets shorter than this are replaced only where they stand alone:
 * replacing every "a" or "127" would mangle the message and, by the
 * pattern of the gaps, tell the secret. */
#define REDACT_ANYWHERE_LEN 8

static bool separates(char c)
{
    return c == '\0' || strchr(" \t\r\n\"'=,;:()[]{}<>", c) != NULL;
}

/* Length of the secret starting at src, or 0. */
static size_t secret_at(const char *line, const char *src, const char *secret)
{
    size_t len = secret ? strlen(secret) : 0;
    if (len == 0 || strncmp(src, secret, len) != 0)
        return 0;
    if (len >= REDACT_ANYWHERE_LEN)
        return len;
    return (src == line || separates(src[-1])) && separates(src[len]) ? len : 0;
}

/* Copies src to dst with every secret replaced, so that neither a debug
 * line nor an error message can carry a password. */
static void redact(const boot *b, const char *src, char *dst, size_t size)
{
    const char *line = src;
    size_t o = 0;
    while (*src && o + 1 < size) {
        size_t hit = 0;
        for (size_t i = 0; i < 2 && !hit; i++)
            hit = secret_at(line, src, b->secrets[i]);
        if (hit) {
            kc_fmt(dst + o, size - o, "[redacted]");
            o += strlen(dst + o);
            src += hit;
        } else {
            dst[o++] = *src++;
        }
    }
    dst[o < size ? o : size - 1] = '\0';
}

/* Called from librdkafka's threads: prints only what the operator asked
 * for with -X debug=..., and never a secret. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)level;
    const boot *b = rd_kafka_opaque(rk);
    if (!b || !b->debug)
        return;
    char line[2048];
    redact(b, buf, line, sizeof line);
    fprintf(stderr, KC_PROG "librdkafka %s: %s\n", fac, line);
}

/* Served by rd_kafka_poll() in the calling thread. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    boot *b = opaque;
    /* "all brokers down" says less than the error before it. */
    if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || !b->last_error[0])
        redact(b, reason, b->last_error, sizeof b->last_error);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        b->all_down = true;
    /* Wrong credentials or a certificate that does not verify stay wrong:
     * give up at once instead of retrying until the timeout. */
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL)
        b->fatal = true;
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr, size_t errstr_size)
{
    char why[256];
    if (!value || rd_kafka_conf_set(conf, key, value, why, sizeof why) == RD_KAFKA_CONF_OK)
        return 0;
    /* The value is not repeated: it may be a password. */
    kc_fmt(errstr, errstr_size, "librdkafka property %s: %s", key, why);
    return -1;
}

static rd_kafka_conf_t *make_conf(const kc_settings *s, const char *servers, boot *b, char *errstr,
                                  size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, b);
    int p = s->security_protocol;
    bool sasl = kc_uses_sasl(s);
    int rc =
        set(conf, "bootstrap.servers", servers, errstr, errstr_size) ||
        set(conf, "client.id", s->client_id ? s->client_id : KC_SOFTWARE_NAME, errstr, errstr_size) ||
        set(conf, "client.software.name", KC_SOFTWARE_NAME, errstr, errstr_size) ||
        set(conf, "client.software.version", KC_VERSION, errstr, errstr_size) ||
        set(conf, "security.protocol", p >= 0 && p <= 3 ? protocol_names[p] : "?", errstr, errstr_size) ||
        set(conf, "sasl.mechanisms", sasl ? s->sasl_mechanism : NULL, errstr, errstr_size) ||
        set(conf, "sasl.username", sasl ? s->sasl_username : NULL, errstr, errstr_size) ||
        set(conf, "sasl.password", sasl ? s->sasl_password : NULL, errstr, errstr_size) ||
        set(conf, "ssl.ca.location", s->ssl_ca_location, errstr, errstr_size) ||
        set(conf, "ssl.certificate.location", s->ssl_certificate_location, errstr, errstr_size) ||
        set(conf, "ssl.key.location", s->ssl_key_location, errstr, errstr_size) ||
        set(conf, "ssl.key.password", s->ssl_key_password, errstr, errstr_size) ||
        set(conf, "ssl.endpoint.identification.algorithm", s->verify_hostname ? "https" : "none", errstr,
            errstr_size);
    /* -X pass-through last, so that it can override the above. */
    for (const char **kv = s->librdkafka_props; !rc && kv && kv[0] && kv[1]; kv += 2) {
        rc = set(conf, kv[0], kv[1], errstr, errstr_size);
        if (strcmp(kv[0], "debug") == 0)
            b->debug = kv[1][0] != '\0';
    }
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

static int by_node_id(const void *a, const void *b)
{
    const kc_broker *x = a, *y = b;
    return (x->node_id > y->node_id) - (x->node_id < y->node_id);
}

static int copy_brokers(const struct rd_kafka_metadata *md, kc_broker **brokers, size_t *n)
{
    size_t count = md->broker_cnt > 0 ? (size_t)md->broker_cnt : 0;
    kc_broker *v = calloc(count ? count : 1, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < count; i++) {
        v[i].node_id = md->brokers[i].id;
        v[i].port = (uint16_t)md->brokers[i].port;
        if (!(v[i].host = strdup(md->brokers[i].host ? md->brokers[i].host : ""))) {
            kc_brokers_free(v, i);
            return -1;
        }
    }
    qsort(v, count, sizeof *v, by_node_id);
    *brokers = v;
    *n = count;
    return 0;
}

/* A wait shorter than this passes without a note. */
#define QUIET_WAIT_MS 3000

/* Asks for Metadata in growing slices of the timeout, serving error_cb in
 * between so that a fatal error ends the wait early. A server that is down
 * may be restarting, so the wait goes on; but like Kafka's own tools, the
 * operator hears why at once rather than when the timeout ends. */
static rd_kafka_resp_err_t fetch(rd_kafka_t *rk, boot *b, int timeout_ms, FILE *notes,
                                 const struct rd_kafka_metadata **md)
{
    int64_t deadline = kc_now_ms() + timeout_ms;
    int64_t slice = 100, left;
    bool noted = false;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    while (!b->fatal && !kc_stopping(b->s) && (left = deadline - kc_now_ms()) > 0) {
        /* A stop request is seen between slices: keep them short then. */
        int64_t wait = b->s->stop && slice > KC_STOP_POLL_MS ? KC_STOP_POLL_MS : slice;
        err = rd_kafka_metadata(rk, 0, NULL, md, (int)(left < wait ? left : wait));
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return err;
        rd_kafka_poll(rk, 0);
        left = deadline - kc_now_ms();
        if (notes && !noted && b->all_down && !b->fatal && left > QUIET_WAIT_MS) {
            fprintf(notes,
                    KC_PROG "note: no bootstrap server reachable yet (%s); trying again "
                    "for up to %lld s (--timeout)\n",
                    b->last_error[0] ? b->last_error : "no answer", (long long)(left + 999) / 1000);
            noted = true;
        }
        if (slice < 4000)
            slice *= 2;
    }
    return err;
}

int kc_bootstrap(const kc_settings *s, const char *bootstrap_servers, kc_broker **brokers, size_t *n,
                 FILE *notes, void (*started)(void *opaque), void *opaque, char *errstr,
                 size_t errstr_size)
{
    *brokers = NULL;
    *n = 0;
    kc_sasl_global_init(); /* before librdkafka's: see kc_sasl.h */
    boot b = {.secrets = {s->sasl_password, s->ssl_key_password}, .s = s};
    char why[512];
    rd_kafka_conf_t *conf = make_conf(s, bootstrap_servers, &b, why, sizeof why);
    if (!conf) {
        kc_fmt(errstr, errstr_size, "%s", why);
        return KC_BAD_SETTINGS;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        char clean[512];
        redact(&b, why, clean, sizeof clean);
        kc_fmt(errstr, errstr_size, "the connection settings were refused: %s", clean);
        return KC_BAD_SETTINGS;
    }
    if (started)
        started(opaque);
    int timeout = kc_timeout_ms(s);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = fetch(rk, &b, timeout, notes, &md);
    int rc = -1;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->broker_cnt <= 0)
            kc_fmt(errstr, errstr_size, "cannot bootstrap from %s: Metadata lists no brokers",
                   bootstrap_servers);
        else if (copy_brokers(md, brokers, n))
            kc_fmt(errstr, errstr_size, "cannot bootstrap from %s: out of memory", bootstrap_servers);
        else
            rc = 0;
        rd_kafka_metadata_destroy(md);
    } else if (kc_stopping(s)) {
        kc_fmt(errstr, errstr_size, "cannot bootstrap from %s: interrupted", bootstrap_servers);
    } else if (b.fatal) {
        kc_fmt(errstr, errstr_size, "cannot bootstrap from %s: %s", bootstrap_servers, b.last_error);
    } else {
        kc_fmt(errstr, errstr_size, "cannot bootstrap from %s: no Metadata within %d ms: %s",
               bootstrap_servers, timeout, b.last_error[0] ? b.last_error : rd_kafka_err2str(err));
    }
    rd_kafka_destroy(rk);
    return rc;
}
