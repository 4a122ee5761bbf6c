/*
 * kc_run.c: bootstrap and fan-out for one round. See kc_run.h.
 */
#include "kc_run.h"

#include "kc_progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int node_cmp(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

static int result_cmp(const void *x, const void *y)
{
    return node_cmp(&((const kc_result *)x)->broker.node_id, &((const kc_result *)y)->broker.node_id);
}

static const kc_broker *find_broker(const kc_broker *b, size_t n, int32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].node_id == id)
            return &b[i];
    return NULL;
}

/* A failed answer for a --broker id the cluster's metadata does not list:
 * it was asked about and could not be asked, so the answer is incomplete. */
static void missing_broker(kc_result *r, int32_t id, const kc_broker *all, size_t n)
{
    char known[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof known; i++)
        len += (size_t)snprintf(known + len, sizeof known - len, "%s%d", i ? ", " : "",
                                (int)all[i].node_id);
    memset(r, 0, sizeof *r);
    r->broker.node_id = id;
    r->status = KC_UNREACHABLE;
    r->broker_time_ms = -1;
    r->describe_version = -1;
    r->error = malloc(320);
    if (r->error)
        snprintf(r->error, 320, "broker %d: not in the cluster's metadata (brokers: %s)", (int)id,
                 known);
}

int kc_run_ask(const kc_run *run, kc_result **results, size_t *n, char *errstr,
               size_t errstr_size)
{
    const kc_options *o = run->opts;
    kc_broker *all = NULL, *chosen = NULL;
    size_t n_all = 0, n_chosen = 0, n_missing = 0;
    *results = NULL;
    *n = 0;
    kc_scout_launch sc = {.s = run->settings, .bootstrap_servers = o->bootstrap};
    int rc = kc_bootstrap(run->settings, o->bootstrap, &all, &n_all, stderr, kc_scout_launch_cb, &sc,
                          errstr, errstr_size);
    kc_fanout_prep prep;
    kc_scout_finish(sc.scout, &prep);
    char why[1024];
    if (rc && rc != KC_BAD_SETTINGS && strstr(errstr, "certificate verify failed") &&
        kc_scout_explain_tls(run->settings, o->bootstrap, why, sizeof why) == 0)
        snprintf(errstr, errstr_size, "cannot bootstrap from %s: %s", o->bootstrap, why);
    if (rc) {
        kc_fanout_prep_free(&prep);
        return rc == KC_BAD_SETTINGS ? KC_EXIT_USAGE : KC_EXIT_NO_ACCESS;
    }
    if (n_all == 0) {
        snprintf(errstr, errstr_size, "bootstrap: the cluster's metadata lists no brokers");
        kc_fanout_prep_free(&prep);
        kc_brokers_free(all, n_all);
        return KC_EXIT_NO_ACCESS;
    }
    int32_t *wanted = NULL;
    size_t n_wanted = 0;
    if (o->n_brokers) {
        wanted = malloc(o->n_brokers * sizeof *wanted);
        chosen = malloc(o->n_brokers * sizeof *chosen);
        if (!wanted || !chosen)
            goto oom;
        memcpy(wanted, o->brokers, o->n_brokers * sizeof *wanted);
        qsort(wanted, o->n_brokers, sizeof *wanted, node_cmp);
        for (size_t i = 0; i < o->n_brokers; i++)
            if (i == 0 || wanted[i] != wanted[i - 1])
                wanted[n_wanted++] = wanted[i];
        for (size_t i = 0; i < n_wanted; i++) {
            const kc_broker *b = find_broker(all, n_all, wanted[i]);
            if (b)
                chosen[n_chosen++] = *b; /* host stays owned by all[] */
            else
                n_missing++;
        }
    } else {
        chosen = all;
        n_chosen = n_all;
    }
    *results = calloc(n_chosen + n_missing ? n_chosen + n_missing : 1, sizeof **results);
    if (!*results)
        goto oom;
    kc_progress progress;
    kc_progress_start(&progress, stderr, n_chosen);
    /* A broker lists and counts our own connection like any other, so one
     * row more than --limit is asked for: once ours is dropped, a broker
     * with exactly --limit matches is neither cut short nor reported as
     * truncated. */
    int64_t max_rows = o->limit ? (int64_t)o->limit + 1 : 0;
    kc_fanout(run->settings, chosen, n_chosen, run->req, max_rows, &prep, *results,
              kc_progress_report, &progress);
    kc_fanout_prep_free(&prep);
    kc_progress_finish(&progress);
    /* The tool's own connections answer no question an operator asks. */
    for (size_t i = 0; i < n_chosen; i++) {
        kc_result *r = &(*results)[i];
        kc_result_drop_own(r, run->settings->client_id, run->generated_client_id);
        if (o->limit && r->n_rows > (size_t)o->limit)
            r->n_rows = (size_t)o->limit;
    }
    *n = n_chosen;
    for (size_t i = 0; i < n_wanted; i++)
        if (!find_broker(all, n_all, wanted[i]))
            missing_broker(&(*results)[(*n)++], wanted[i], all, n_all);
    qsort(*results, *n, sizeof **results, result_cmp);
    if (chosen != all)
        free(chosen);
    free(wanted);
    kc_brokers_free(all, n_all);
    return 0;
oom:
    kc_fanout_prep_free(&prep);
    snprintf(errstr, errstr_size, "out of memory");
    if (chosen != all)
        free(chosen);
    free(wanted);
    kc_brokers_free(all, n_all);
    return KC_EXIT_NO_ACCESS;
}

void kc_run_free(kc_result *results, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kc_result_free(&results[i]);
    free(results);
}

int kc_run_view(const kc_run *run, const kc_result *results, size_t n, kc_view *v, char *errstr,
                size_t errstr_size)
{
    kc_view_opts vo = {run->opts->group_by, run->opts->summary, run->opts->sort};
    return kc_view_build(v, results, n, &vo, errstr, errstr_size);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kc_run_print(const kc_run *run, const kc_view *v, int format, kc_buf *out,
                 const kc_changes *changes)
{
    const kc_options *o = run->opts;
    bool complete = true;
    for (size_t i = 0; i < v->n_results; i++)
        complete &= !kc_result_incomplete(&v->results[i], &run->question);
    kc_output_opts oo = {
        .format = format,
        .columns = o->columns,
        .n_columns = o->n_columns,
        .terminal = isatty(STDOUT_FILENO),
        .complete = complete,
        .generated_at = wall_ms(),
        .changes = changes,
    };
    kc_output_write(out, v, &oo);
    return kc_exit_code(v->results, v->n_results, &run->question);
}
