/* The fan-out: every broker asked at once, at most s->parallelism
 * exchanges in flight. A few worker threads (no more than the CPUs) each
 * run one poll() loop over their share of the exchanges, so TLS and SCRAM
 * arithmetic for many brokers is spread over the cores while waiting on
 * the network costs no thread per broker. The calling thread only waits
 * and reports progress. */
#include "kc_conn.h"
#include "kc_net.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KC_MAX_THREADS 16
/* How often the waiting thread passes the count of answers on. */
#define PROGRESS_POLL_NS 100000000L

typedef struct fanout {
    const kc_broker *brokers;
    kc_result *results;
    size_t n;
    kc_conn_env env;
    atomic_size_t next;     /* next broker index to start */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t done;            /* brokers finished, under lock */
} fanout;

typedef struct worker {
    fanout *f;
    size_t slots;           /* exchanges this loop runs at once */
    pthread_t thread;
} worker;

/* Wakes the waiting thread only for the last broker: a wake-up per
 * broker costs the workers and the brokers CPU they share on a small
 * machine, and progress is drawn on a timer anyway. */
static void finished(fanout *f)
{
    pthread_mutex_lock(&f->lock);
    if (++f->done == f->n)
        pthread_cond_signal(&f->changed);
    pthread_mutex_unlock(&f->lock);
}

/* Starts the next broker not yet taken into *slot (NULL when it ended at
 * once, e.g. an unknown host). False when none are left. */
static bool take(fanout *f, kc_conn **slot)
{
    *slot = NULL;
    size_t i = atomic_fetch_add(&f->next, 1);
    if (i >= f->n)
        return false;
    if (kc_stopping(f->env.s)) {
        /* Still counted as finished: the waiting thread counts to n. The
         * result names its broker (and fails by itself for want of memory). */
        if (kc_result_begin(&f->results[i], &f->brokers[i]) == 0)
            kc_result_fail(&f->results[i], KC_ERROR, "not asked: interrupted");
        finished(f);
        return true;
    }
    kc_conn *c = kc_conn_start(&f->env, &f->brokers[i], &f->results[i]);
    if (!c || kc_conn_done(c)) {
        kc_conn_free(c);
        finished(f);
    } else {
        *slot = c;
    }
    return true;
}

/* One poll() loop over up to `slots` exchanges at a time. */
static void run_loop(fanout *f, kc_conn **conns, struct pollfd *fds, size_t *polled, size_t slots)
{
    bool more = true;
    for (;;) {
        for (size_t k = 0; k < slots && more; k++)
            while (!conns[k] && (more = take(f, &conns[k])))
                ;
        nfds_t nfds = 0;
        int64_t now = kc_now_ms(), wait = -1;
        for (size_t k = 0; k < slots; k++) {
            if (!conns[k])
                continue;
            int64_t left = kc_conn_deadline(conns[k]) - now;
            if (wait < 0 || left < wait)
                wait = left < 0 ? 0 : left;
            fds[nfds] = (struct pollfd){.fd = kc_conn_fd(conns[k]), .events = kc_conn_events(conns[k])};
            polled[nfds++] = k;
        }
        if (nfds == 0)
            return;
        int64_t most = f->env.s->stop ? KC_STOP_POLL_MS : 60000;
        int rc = poll(fds, nfds, (int)(wait > most ? most : wait));
        bool stopping = kc_stopping(f->env.s);
        for (nfds_t j = 0; j < nfds; j++) {
            size_t k = polled[j];
            if (stopping)
                kc_conn_abort(conns[k], "interrupted");
            else
                kc_conn_step(conns[k], rc > 0 ? fds[j].revents : 0);
            if (kc_conn_done(conns[k])) {
                kc_conn_free(conns[k]);
                conns[k] = NULL;
                finished(f);
            }
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    kc_conn **conns = calloc(w->slots, sizeof *conns);
    struct pollfd *fds = calloc(w->slots, sizeof *fds);
    size_t *polled = calloc(w->slots, sizeof *polled);
    if (conns && fds && polled) {
        run_loop(w->f, conns, fds, polled, w->slots);
    } else {
        /* Out of memory: still answer, one exchange at a time. */
        kc_conn *conn = NULL;
        struct pollfd fd;
        size_t k;
        run_loop(w->f, &conn, &fd, &k, 1);
    }
    free(conns);
    free(fds);
    free(polled);
    return NULL;
}

/* Threads for n exchanges, at most parallelism at once. */
static size_t thread_count(size_t n, size_t parallelism)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t t = cpus > 0 ? (size_t)cpus : 1;
    if (t > KC_MAX_THREADS)
        t = KC_MAX_THREADS;
    if (t > parallelism)
        t = parallelism;
    if (t > n)
        t = n;
    return t ? t : 1;
}

/* Every signal blocked: SIGPIPE from a TLS write to a closed socket must
 * not kill the process, and the caller's thread keeps receiving SIGINT
 * and the like. */
int kc_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static size_t start_workers(worker *ws, size_t nthreads)
{
    size_t started = 0;
    while (started < nthreads && kc_thread_start(&ws[started].thread, worker_main, &ws[started]) == 0)
        started++;
    return started;
}

size_t kc_fanout(const kc_settings *s, const kc_broker *brokers, size_t n,
                 const kcp_describe_connections_request *req, int64_t max_rows,
                 const kc_fanout_prep *prep, kc_result *results, kc_progress_fn progress, void *opaque)
{
    if (n == 0)
        return 0;
    fanout f = {.brokers = brokers, .results = results, .n = n};
    f.env = (kc_conn_env){.s = s, .req = req, .max_rows = max_rows,
                          .pipeline_version = prep ? prep->pipeline_version : -1};
    atomic_init(&f.next, 0);
    pthread_mutex_init(&f.lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&f.changed, &attr);
    pthread_condattr_destroy(&attr);
    char tls_error[512] = "";
    kc_tls_ctx *own_tls = NULL;
    if (kc_uses_tls(s) && prep && (prep->tls || prep->tls_error[0])) {
        f.env.tls = prep->tls;
        f.env.tls_error = prep->tls_error;
    } else if (kc_uses_tls(s)) {
        f.env.tls = own_tls = kc_tls_ctx_new(s, tls_error, sizeof tls_error);
        f.env.tls_error = tls_error;
    }

    size_t parallelism = s->parallelism > 0 ? (size_t)s->parallelism : 16;
    size_t nthreads = thread_count(n, parallelism);
    worker ws[KC_MAX_THREADS];
    for (size_t t = 0; t < nthreads; t++)
        ws[t] = (worker){.f = &f, .slots = parallelism / nthreads + (t < parallelism % nthreads)};
    size_t started = start_workers(ws, nthreads);
    if (started == 0) {
        /* No thread at all: run the one loop here, with SIGPIPE blocked
         * as in a worker (a pending one is dropped with sigtimedwait). */
        sigset_t pipe_set, old;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        ws[0].slots = parallelism;
        worker_main(&ws[0]);
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
            ;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }

    size_t reported = 0;
    pthread_mutex_lock(&f.lock);
    while (f.done < n) {
        if (progress && f.done != reported) {
            reported = f.done;
            pthread_mutex_unlock(&f.lock);
            progress(opaque, reported, n);
            pthread_mutex_lock(&f.lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += PROGRESS_POLL_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&f.changed, &f.lock, &until);
    }
    pthread_mutex_unlock(&f.lock);
    for (size_t t = 0; t < started; t++)
        pthread_join(ws[t].thread, NULL);
    if (progress)
        progress(opaque, n, n);

    kc_tls_ctx_free(own_tls);
    pthread_cond_destroy(&f.changed);
    pthread_mutex_destroy(&f.lock);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += results[i].status != KC_OK;
    return failed;
}
