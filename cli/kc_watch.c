/*
 * kc_watch.c: the --watch loop. See kc_watch.h.
 */
#include "kc_watch.h"

#include "kc_changes.h"
#include "kc_text.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A terminal shows this many changes of each kind, then a count. */
#define CHANGES_SHOWN 20

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Ctrl-C ends the loop: a round under way gives up within
 * KC_STOP_POLL_MS (kc_settings.stop) and is not shown; a second Ctrl-C,
 * with the default action restored, ends the process at once. No
 * SA_RESTART, so the sleep between rounds wakes up. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void sleep_s(int seconds)
{
    struct timespec left = {seconds, 0};
    while (!interrupted && nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

static void term_line(kc_buf *b, const char *s)
{
    kc_term_str(b, s, strlen(s));
}

static void changes_list(kc_buf *b, char mark, const kc_seen *const *s, size_t n)
{
    size_t shown = n < CHANGES_SHOWN ? n : CHANGES_SHOWN;
    for (size_t i = 0; i < shown; i++) {
        kc_buf_printf(b, "  %c broker %d  ", mark, (int)s[i]->node_id);
        term_line(b, s[i]->principal);
        kc_buf_puts(b, strchr(s[i]->client_host, ':') ? "  [" : "  ");
        term_line(b, s[i]->client_host);
        kc_buf_printf(b, strchr(s[i]->client_host, ':') ? "]:%u  " : ":%u  ",
                      (unsigned)s[i]->client_port);
        term_line(b, s[i]->client_software);
        kc_buf_puts(b, "  ");
        term_line(b, s[i]->connection_id);
        kc_buf_putc(b, '\n');
    }
    if (shown < n)
        kc_buf_printf(b, "  %c ... and %zu more\n", mark, n - shown);
}

/* One screen: where and when, the view, the failures, the changes. */
static void draw_screen(const kc_run *run, const kc_view *v, const kc_changes *ch, kc_buf *out,
                        int *code)
{
    char when[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* Home and erase: the refresh replaces the previous screen in place. */
    kc_buf_printf(out, "\033[H\033[2Jkafka-connections: every %ds, %s (Ctrl-C to stop)\n\n",
                  run->opts->watch_s, when);
    *code = kc_run_print(run, v, KC_OUTPUT_TABLE, out, NULL);
    kc_buf_flush(out);
    kc_report_incomplete(stdout, v->results, v->n_results, &run->question);
    if (ch && !ch->untracked) {
        kc_buf_printf(out, "\nSince the previous refresh: %zu appeared, %zu closed\n",
                      ch->n_appeared, ch->n_closed);
        changes_list(out, '+', ch->appeared, ch->n_appeared);
        changes_list(out, '-', ch->closed, ch->n_closed);
    }
    kc_buf_flush(out);
}

int kc_watch(const kc_run *given)
{
    kc_settings s = *given->settings;
    s.stop = &interrupted;
    kc_run stoppable = *given;
    stoppable.settings = &s;
    const kc_run *run = &stoppable;
    /* A screen for people; JSON lines for programs, or when asked. */
    bool tty = isatty(STDOUT_FILENO) && run->opts->output != KC_OUTPUT_JSON;
    kc_snapshot prev = {0};
    bool have_prev = false;
    int code = KC_EXIT_OK;
    unsigned rounds = 0;
    kc_buf out = {.sink = stdout};
    catch_signals();
    while (!interrupted) {
        kc_result *results = NULL;
        size_t n = 0;
        char err[1024] = "";
        int failed = kc_run_ask(run, &results, &n, err, sizeof err);
        if (interrupted) {
            /* Half an answer would show brokers as failed that were not;
             * with no answer shown at all, there is no status to repeat. */
            kc_run_free(results, n);
            if (!rounds)
                code = KC_EXIT_INCOMPLETE;
            break;
        }
        rounds++;
        if (failed == KC_EXIT_USAGE) {
            /* Settings do not get better by asking again. */
            fprintf(stderr, KC_PROG "%s\n", err);
            code = failed;
            break;
        }
        if (failed) {
            code = failed;
            if (tty)
                kc_buf_puts(&out, "\033[H\033[2J");
            kc_buf_flush(&out);
            fprintf(tty ? stdout : stderr, KC_PROG "%s\n", err);
            fflush(tty ? stdout : stderr);
        } else {
            kc_view v;
            kc_snapshot cur = {0};
            kc_changes ch = {.untracked = run->opts->summary};
            int rc = kc_run_view(run, results, n, &v, err, sizeof err);
            if (!ch.untracked) {
                rc = rc ? rc : kc_snapshot_take(&cur, &v);
                rc = rc ? rc : kc_changes_diff(have_prev ? &prev : &cur, &cur, &ch);
            }
            if (rc) {
                fprintf(stderr, KC_PROG "%s\n", err[0] ? err : "out of memory");
                code = KC_EXIT_INCOMPLETE;
            } else if (tty) {
                draw_screen(run, &v, have_prev ? &ch : NULL, &out, &code);
            } else {
                kc_report_incomplete(stderr, results, n, &run->question);
                code = kc_run_print(run, &v, KC_OUTPUT_JSON, &out, &ch);
                kc_buf_flush(&out);
            }
            kc_changes_free(&ch);
            kc_view_free(&v);
            kc_snapshot_free(&prev);
            prev = cur;
            have_prev = rc == 0;
        }
        kc_run_free(results, n);
        if (out.err) {
            /* Nobody reads what is written: stop, as a one-off run would. */
            code = kc_output_failed(stderr, out.sink_errno);
            break;
        }
        sleep_s(run->opts->watch_s);
    }
    kc_snapshot_free(&prev);
    kc_buf_free(&out);
    return code;
}
