/*
 * kc_progress.c: the progress line of a slow fan-out. See kc_progress.h.
 */
#include "kc_progress.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

/* Below this, a progress line would only flicker. */
#define SHOW_AFTER_MS 1000
#define REDRAW_MS 200

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *draw(void *arg)
{
    kc_progress *p = arg;
    struct timespec until;
    pthread_mutex_lock(&p->mu);
    deadline_in(&until, SHOW_AFTER_MS);
    size_t drawn = 0;
    while (!p->stop) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
            continue;
        if (!p->shown || drawn != p->done) {
            /* \r and erase-line redraw the same line in place. */
            fprintf(p->f, "\r\033[Kkafka-connections: %zu of %zu brokers answered", p->done,
                    p->total);
            fflush(p->f);
            p->shown = true;
            drawn = p->done;
        }
        deadline_in(&until, REDRAW_MS);
    }
    if (p->shown) {
        fputs("\r\033[K", p->f);
        fflush(p->f);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void kc_progress_start(kc_progress *p, FILE *f, size_t total)
{
    pthread_condattr_t attr;
    p->f = f;
    p->running = p->stop = p->shown = false;
    p->done = 0;
    p->total = total;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (isatty(fileno(f)))
        p->running = pthread_create(&p->thread, NULL, draw, p) == 0;
}

void kc_progress_report(void *opaque, size_t done, size_t total)
{
    kc_progress *p = opaque;
    pthread_mutex_lock(&p->mu);
    p->done = done;
    p->total = total;
    pthread_mutex_unlock(&p->mu);
}

void kc_progress_finish(kc_progress *p)
{
    if (p->running) {
        pthread_mutex_lock(&p->mu);
        p->stop = true;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}
