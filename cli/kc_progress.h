/*
 * kc_progress.h: "N of M brokers answered" on stderr while a fan-out runs,
 * only on a terminal and only once it has taken more than a second, so
 * quick runs and scripts see nothing. A small thread draws the line, so it
 * appears even while every remaining broker is still silent.
 */
#ifndef KC_PROGRESS_H
#define KC_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct kc_progress {
    FILE *f;
    bool running;  /* the drawing thread exists */
    bool stop;
    bool shown;    /* a line is on screen and must be cleared */
    size_t done, total;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
} kc_progress;

/* Starts watching a fan-out over total brokers; draws nothing unless f is
 * a terminal. */
void kc_progress_start(kc_progress *p, FILE *f, size_t total);
/* A kc_progress_fn (kc_fanout.h); opaque is the kc_progress. Callable
 * from any thread. */
void kc_progress_report(void *opaque, size_t done, size_t total);
/* Stops the thread and clears the line, if one was drawn. */
void kc_progress_finish(kc_progress *p);

#endif
