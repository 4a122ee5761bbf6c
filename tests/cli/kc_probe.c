/*
 * kc_probe: drives the CLI's network side (kc_bootstrap, kc_fanout) for the
 * integration tests and prints what came back as one JSON object, so that a
 * test can check statuses, messages, rows and timings.
 *
 * kc_probe [--bootstrap SERVERS | --broker ID@HOST:PORT ...] [--protocol P]
 *          [--mechanism M --user U --password P] [--ca F] [--cert F] [--key F]
 *          [--key-password P] [--no-hostname-verification] [--api-key N]
 *          [--timeout MS] [--parallelism N] [--limit N] [--max-rows N]
 *          [--summary] [--principal P] [-X key=value]...
 *          [--pipeline-version N | --scout]
 * Exit status: 0 after a fan-out (whatever the brokers answered), 4 when
 * bootstrap failed, 2 for bad arguments.
 */
#include "kc_fanout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BROKERS 64
#define MAX_PROPS 32

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void json_str(const char *s, int len)
{
    if (!s || len < 0) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (int i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void json_cstr(const char *s)
{
    json_str(s, s ? (int)strlen(s) : -1);
}

static void json_kstr(kcp_str s)
{
    json_str(s.ptr, s.len);
}

static int protocol_of(const char *name)
{
    static const char *const names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* "ID@HOST:PORT"; HOST may be an IPv6 literal in brackets. */
static int parse_broker(char *arg, kc_broker *b)
{
    char *at = strchr(arg, '@'), *colon = strrchr(arg, ':');
    if (!at || !colon || colon < at)
        return -1;
    *at = *colon = '\0';
    char *host = at + 1;
    if (host[0] == '[' && colon[-1] == ']') {
        host++;
        colon[-1] = '\0';
    }
    b->node_id = atoi(arg);
    b->host = strdup(host);
    b->port = (uint16_t)atoi(colon + 1);
    return b->host ? 0 : -1;
}

typedef struct progress_log {
    int calls;
    size_t last;
    int regressions;
} progress_log;

static void on_progress(void *opaque, size_t done, size_t total)
{
    progress_log *p = opaque;
    (void)total;
    p->calls++;
    p->regressions += done < p->last;
    p->last = done;
}

static void print_row(const kc_connection *c)
{
    printf("{\"connection_id\":");
    json_kstr(c->w->connection_id);
    printf(",\"state\":%d,\"listener\":", (int)c->w->state);
    json_kstr(kc_connection_listener(c));
    printf(",\"principal\":");
    json_kstr(kc_connection_principal(c));
    printf(",\"sasl_mechanism\":");
    json_kstr(kc_connection_sasl_mechanism(c));
    printf(",\"client_software_name\":");
    json_kstr(kc_connection_client_software_name(c));
    printf(",\"client_software_version\":");
    json_kstr(kc_connection_client_software_version(c));
    printf(",\"client_id\":");
    json_kstr(kc_connection_client_id(c));
    printf(",\"tls_protocol\":");
    json_kstr(kc_connection_tls_protocol(c));
    printf(",\"peer_certificate_subject\":");
    json_kstr(kc_connection_peer_certificate_subject(c));
    printf("}");
}

static void print_result(const kc_result *r)
{
    printf("{\"node_id\":%d,\"host\":", (int)r->broker.node_id);
    json_cstr(r->broker.host);
    printf(",\"port\":%u,\"status\":\"%s\",\"error\":", (unsigned)r->broker.port, kc_status_name(r->status));
    json_cstr(r->error);
    printf(",\"restricted\":%s,\"total_count\":%d,\"pages\":%zu,\"elapsed_ms\":%lld,"
           "\"describe_version\":%d,\"connections\":[",
           r->restricted ? "true" : "false", (int)r->total_count, r->n_pages, (long long)r->elapsed_ms,
           (int)r->describe_version);
    for (size_t i = 0; i < r->n_rows; i++) {
        if (i)
            putchar(',');
        print_row(&r->rows[i]);
    }
    printf("],\"summaries\":[");
    for (size_t i = 0; i < r->n_summaries; i++) {
        printf("%s{\"principal\":", i ? "," : "");
        json_kstr(r->summaries[i]->principal);
        printf(",\"connections\":%d}", (int)r->summaries[i]->connections);
    }
    printf("]}");
}

static int usage(const char *why)
{
    fprintf(stderr, "kc_probe: %s\n", why);
    return 2;
}

int main(int argc, char **argv)
{
    kc_settings s = {.security_protocol = 0, .verify_hostname = true, .api_key = 1000, .timeout_ms = 30000,
                     .parallelism = 16, .client_id = "kafka-connections"};
    const char *props[2 * MAX_PROPS + 1] = {NULL};
    size_t n_props = 0;
    kc_broker given[MAX_BROKERS];
    size_t n_given = 0;
    const char *bootstrap = NULL;
    int64_t max_rows = 0;
    int16_t pipeline_version = -1;
    kc_fanout_prep prep = {.pipeline_version = -1};
    bool scout = false;
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    kcp_str principal;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--no-hostname-verification") == 0) {
            s.verify_hostname = false;
            takes = false;
        } else if (strcmp(a, "--scout") == 0) {
            scout = true;
            takes = false;
        } else if (strcmp(a, "--pipeline-version") == 0) {
            pipeline_version = (int16_t)atoi(v);
        } else if (strcmp(a, "--summary") == 0) {
            req.summary_only = true;
            takes = false;
        } else if (!v) {
            return usage("option needs a value");
        } else if (strcmp(a, "--bootstrap") == 0) {
            bootstrap = v;
        } else if (strcmp(a, "--broker") == 0) {
            if (n_given == MAX_BROKERS || parse_broker(argv[i + 1], &given[n_given++]))
                return usage("bad --broker");
        } else if (strcmp(a, "--protocol") == 0) {
            if ((s.security_protocol = protocol_of(v)) < 0)
                return usage("bad --protocol");
        } else if (strcmp(a, "--mechanism") == 0) {
            s.sasl_mechanism = v;
        } else if (strcmp(a, "--user") == 0) {
            s.sasl_username = v;
        } else if (strcmp(a, "--password") == 0) {
            s.sasl_password = v;
        } else if (strcmp(a, "--ca") == 0) {
            s.ssl_ca_location = v;
        } else if (strcmp(a, "--cert") == 0) {
            s.ssl_certificate_location = v;
        } else if (strcmp(a, "--key") == 0) {
            s.ssl_key_location = v;
        } else if (strcmp(a, "--key-password") == 0) {
            s.ssl_key_password = v;
        } else if (strcmp(a, "--api-key") == 0) {
            s.api_key = (int16_t)atoi(v);
        } else if (strcmp(a, "--timeout") == 0) {
            s.timeout_ms = atoi(v);
        } else if (strcmp(a, "--parallelism") == 0) {
            s.parallelism = atoi(v);
        } else if (strcmp(a, "--limit") == 0) {
            req.limit = atoi(v);
        } else if (strcmp(a, "--max-rows") == 0) {
            max_rows = atoll(v);
        } else if (strcmp(a, "--principal") == 0) {
            principal = kcp_str_c(v);
            req.principals.n = 1;
            req.principals.v = &principal;
        } else if (strcmp(a, "-X") == 0) {
            char *eq = strchr(argv[i + 1], '=');
            if (!eq || n_props == MAX_PROPS)
                return usage("bad -X");
            *eq = '\0';
            props[2 * n_props] = argv[i + 1];
            props[2 * n_props + 1] = eq + 1;
            n_props++;
        } else {
            return usage("unknown option");
        }
        i += takes;
    }
    s.librdkafka_props = props;

    kc_broker *brokers = given;
    size_t n = n_given;
    int64_t t0 = now_ms(), boot_ms = 0;
    if (bootstrap) {
        char err[1024];
        kc_scout_launch sc = {.s = &s, .bootstrap_servers = bootstrap};
        int rc = kc_bootstrap(&s, bootstrap, &brokers, &n, stderr, scout ? kc_scout_launch_cb : NULL, &sc,
                              err, sizeof err);
        if (scout) {
            kc_scout_finish(sc.scout, &prep);
            pipeline_version = prep.pipeline_version;
        }
        if (rc) {
            printf("{\"bootstrap_error\":");
            json_cstr(err);
            printf(",\"bootstrap_ms\":%lld}\n", (long long)(now_ms() - t0));
            return 4;
        }
        boot_ms = now_ms() - t0;
    }
    kc_result *results = calloc(n ? n : 1, sizeof *results);
    progress_log plog = {0};
    int64_t t1 = now_ms();
    prep.pipeline_version = pipeline_version;
    bool scout_tls = prep.tls != NULL;
    size_t failed = kc_fanout(&s, brokers, n, &req, max_rows, &prep, results, on_progress,
                              &plog);
    int64_t fan_ms = now_ms() - t1;
    kc_fanout_prep_free(&prep);
    printf("{\"bootstrap_ms\":%lld,\"fanout_ms\":%lld,\"failed\":%zu,\"progress_calls\":%d,"
           "\"progress_last\":%zu,\"progress_regressions\":%d,\"pipeline_version\":%d,\"scout_tls\":%s,"
           "\"brokers\":[",
           (long long)boot_ms, (long long)fan_ms, failed, plog.calls, plog.last, plog.regressions,
           (int)pipeline_version, scout_tls ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        if (i)
            putchar(',');
        print_result(&results[i]);
        kc_result_free(&results[i]);
    }
    printf("]}\n");
    free(results);
    if (bootstrap)
        kc_brokers_free(brokers, n);
    else
        for (size_t i = 0; i < n_given; i++)
            free(given[i].host);
    return 0;
}
