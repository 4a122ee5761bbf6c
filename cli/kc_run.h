/*
 * kc_run.h: one round of kafka-connections: bootstrap, ask the chosen
 * brokers, and print what they said. The one-shot command and every
 * refresh of --watch go through here.
 */
#ifndef KC_RUN_H
#define KC_RUN_H

#include "kc_exit.h"
#include "kc_fanout.h"
#include "kc_options.h"
#include "kc_output.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct kc_run {
    const kc_options *opts;
    const kc_settings *settings;
    const kcp_describe_connections_request *req;
    kc_question question;
    bool generated_client_id; /* settings->client_id is unique to this run */
} kc_run;

/* Bootstraps and asks every broker (or those of --broker; an id the
 * cluster does not know becomes a failed answer), and leaves out the
 * connections this run opened itself (kc_result_drop_own). On success *results
 * (sorted by node id) holds *n answers: free with kc_run_free(). Returns
 * 0, or with errstr the exit status that fits: KC_EXIT_USAGE when the
 * connection settings were refused before anything was sent,
 * KC_EXIT_NO_ACCESS when the cluster could not be bootstrapped. */
int kc_run_ask(const kc_run *run, kc_result **results, size_t *n, char *errstr,
               size_t errstr_size);
void kc_run_free(kc_result *results, size_t n);

/* Builds the view of results[0..n) as the options ask. Returns 0, or -1
 * with errstr; kc_view_free() either way. */
int kc_run_view(const kc_run *run, const kc_result *results, size_t n, kc_view *v, char *errstr,
                size_t errstr_size);

/* Writes v to out in format (enum kc_output; changes: --watch's JSON
 * "changes", or NULL) and returns the exit status the answers call for. */
int kc_run_print(const kc_run *run, const kc_view *v, int format, kc_buf *out,
                 const kc_changes *changes);

#endif
