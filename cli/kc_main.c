/*
 * kafka-connections --bootstrap-server HOST:PORT[,...] [options]
 *
 * Asks every broker of a Kafka cluster which connections it holds
 * (DescribeConnections), merges the answers by principal and prints them
 * for people (a table) or scripts (JSON, CSV, an exit status). See
 * kafka-connections(1).
 */
#include "kc_config.h"
#include "kc_exit.h"
#include "kc_options.h"
#include "kc_request.h"
#include "kc_run.h"
#include "kc_version.h"
#include "kc_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define PROG "kafka-connections"

static int usage_error(const char *msg)
{
    fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", msg);
    return KC_EXIT_USAGE;
}

/* --command-config first, then every -X in order, so -X wins. */
static int load_settings(const kc_options *o, kc_config *cfg, char *err, size_t size)
{
    if (o->command_config && kc_config_load(cfg, o->command_config, err, size))
        return -1;
    for (size_t i = 0; i < o->props.n; i++)
        if (kc_config_set_arg(cfg, o->props.v[i], err, size))
            return -1;
    if (kc_config_finish(cfg, err, size))
        return -1;
    for (size_t i = 0; i < cfg->n_ignored; i++)
        fprintf(stderr, PROG ": note: %s has no effect here and is ignored\n", cfg->ignored[i]);
    if (o->timeout_ms)
        cfg->s.timeout_ms = o->timeout_ms;
    if (o->parallelism)
        cfg->s.parallelism = o->parallelism;
    if (o->api_key >= 0)
        cfg->s.api_key = (int16_t)o->api_key;
    return 0;
}

/* A client id unique to this run, so that its own connections can be told
 * apart from everyone else's (kc_result_drop_own). */
static void unique_client_id(char *buf, size_t size)
{
    uint32_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)time(NULL) ^ (uint32_t)clock();
    snprintf(buf, size, PROG "-%ld-%08x", (long)getpid(), (unsigned)r);
}

/* One round: ask, explain what is missing on stderr, print, judge. */
static int run_once(const kc_run *run)
{
    kc_result *results;
    size_t n;
    char err[1024];
    if (kc_run_ask(run, &results, &n, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        return KC_EXIT_NO_ACCESS;
    }
    kc_report_incomplete(stderr, results, n, &run->question);
    kc_view v;
    int code;
    if (kc_run_view(run, results, n, &v, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        code = KC_EXIT_INCOMPLETE;
    } else {
        kc_buf out = {.sink = stdout};
        code = kc_run_print(run, &v, run->opts->output, &out, NULL);
        if (kc_buf_flush(&out)) {
            fprintf(stderr, PROG ": writing the output failed\n");
            if (code == KC_EXIT_OK)
                code = KC_EXIT_INCOMPLETE;
        }
        kc_buf_free(&out);
    }
    kc_view_free(&v);
    kc_run_free(results, n);
    return code;
}

int main(int argc, char **argv)
{
    kc_options o;
    kc_config cfg;
    kcp_describe_connections_request req;
    char err[1024], self[1024], client_id[64];
    int code;
    kc_config_init(&cfg);
    kcp_describe_connections_request_init(&req);
    if (kc_options_parse(&o, argc, argv, err, sizeof err)) {
        code = usage_error(err);
    } else if (o.help) {
        kc_usage(stdout);
        code = KC_EXIT_OK;
    } else if (o.version) {
        printf(PROG " %s\n", KC_VERSION);
        code = KC_EXIT_OK;
    } else if (load_settings(&o, &cfg, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        code = KC_EXIT_USAGE;
    } else if (kc_request_build(&o, &req, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        code = KC_EXIT_USAGE;
    } else {
        bool generated = !cfg.client_id;
        if (generated) {
            unique_client_id(client_id, sizeof client_id);
            cfg.s.client_id = client_id;
        }
        kc_run run = {
            .opts = &o,
            .settings = &cfg.s,
            .req = &req,
            .question = {
                .expect_none = o.expect_none,
                .summary = o.summary,
                .principals = req.principals.v,
                .n_principals = req.principals.n,
                .own_principal = kc_own_principal(&cfg.s, self, sizeof self),
            },
            .generated_client_id = generated,
        };
        code = o.watch_s ? kc_watch(&run) : run_once(&run);
    }
    kcp_describe_connections_request_free(&req);
    kc_config_free(&cfg);
    kc_options_free(&o);
    return code;
}
