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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PROG KC_SOFTWARE_NAME

static int usage_error(const char *msg)
{
    fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", msg);
    return KC_EXIT_USAGE;
}

/* --command-config first, then every -X in order, so -X wins. */
static int load_settings(const kc_options *o, kc_config *cfg, char *err, size_t size)
{
    if (o->command_config && kc_config_load(cfg, o->command_config, err, size)) {
        /* Which option the file came from, before what is wrong with it. */
        static const char flag[] = "--command-config ";
        size_t len = strlen(err), pre = sizeof flag - 1;
        if (len + pre < size) {
            memmove(err + pre, err, len + 1);
            memcpy(err, flag, pre);
        }
        return -1;
    }
    for (size_t i = 0; i < o->props.n; i++)
        if (kc_config_set_arg(cfg, o->props.v[i], err, size))
            return -1;
    if (kc_config_finish(cfg, err, size))
        return -1;
    for (size_t i = 0; i < cfg->n_ignored; i++)
        fprintf(stderr, PROG ": note: %s has no effect here and is ignored\n", cfg->ignored[i]);
    if (cfg->tls_unused)
        fprintf(stderr, PROG ": note: the ssl.* files are not used: security.protocol is %s, "
                        "without TLS (SSL or SASL_SSL use it)\n",
                kc_security_protocol_name(cfg->s.security_protocol));
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

/* Room for this many open files is made before any thread starts. */
#define FD_TABLE_SLOTS 1024

/* Linux grows a process's table of open files by doubling it, and once the
 * process has threads, every growth waits for an RCU grace period: 10-30 ms
 * here. librdkafka's bootstrap opens a pipe for each broker from its
 * threads, so a table left at its initial 64 slots grew twice during every
 * run. A shell hides it (its own descriptor 255 makes its children's table
 * large); a script's subprocess does not. Growing the table now, while
 * this is the only thread, costs nothing of the kind; it never shrinks. */
static void presize_fd_table(void)
{
    int slot = FD_TABLE_SLOTS - 1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur <= (rlim_t)slot)
        slot = (int)rl.rlim_cur - 1;
    for (int fd = 0; fd <= 2 && slot > 2; fd++) {
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, slot);
        if (dup >= 0) {
            close(dup);
            return;
        }
    }
}

/* One round: ask, explain what is missing on stderr, print, judge. */
static int run_once(const kc_run *run)
{
    kc_result *results;
    size_t n;
    char err[1024];
    int failed = kc_run_ask(run, &results, &n, err, sizeof err);
    if (failed) {
        fprintf(stderr, PROG ": %s\n", err);
        return failed;
    }
    kc_report_incomplete(stderr, results, n, &run->question);
    kc_view v;
    int code;
    if (kc_run_view(run, results, n, &v, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        code = KC_EXIT_INCOMPLETE;
    } else {
        kc_buf out = {.sink = stdout};
        /* A table's last line and the JSON say when --limit cut a list
         * short; CSV has no place for it. */
        if (run->opts->output == KC_OUTPUT_CSV && !run->opts->summary)
            kc_report_truncated(stderr, results, n);
        code = kc_run_print(run, &v, run->opts->output, &out, NULL);
        if (kc_buf_flush(&out) && kc_output_failed(stderr, out.sink_errno) && code == KC_EXIT_OK)
            code = KC_EXIT_INCOMPLETE;
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
    presize_fd_table();
    kc_config_init(&cfg);
    kcp_describe_connections_request_init(&req);
    if (kc_options_parse(&o, argc, argv, err, sizeof err)) {
        code = usage_error(err);
    } else if (o.help || o.version) {
        if (o.help)
            kc_usage(stdout);
        else
            printf(PROG " %s\n", KC_VERSION);
        /* A full disk or a closed pipe is reported, as for a listing. */
        errno = 0;
        code = fflush(stdout) == 0 && !ferror(stdout) ? KC_EXIT_OK : kc_output_failed(stderr, errno);
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
            /* Unique to the run: the brokers leave every connection of it
             * out of the rows, counts and summaries. */
            req.exclude_client_id = kcp_str_c(client_id);
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
        if (run.question.expect_none && run.question.summary && !generated &&
            kc_question_may_count_self(&run.question))
            code = usage_error("--summary counts this tool's own connections (one per broker) when "
                               "client.id is set, so --expect-none with --summary would always "
                               "fail for your own principal: name other principals with "
                               "--principal, leave out --summary, or leave client.id unset");
        else
            code = o.watch_s ? kc_watch(&run) : run_once(&run);
    }
    kcp_describe_connections_request_free(&req);
    kc_config_free(&cfg);
    kc_options_free(&o);
    return code;
}
