/*
 * bench_report.h: timing and reporting for benchmarks that compare a
 * measurement against a baseline taken in the same run.
 */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* Median of n values (sorts v in place); n > 0. */
double bench_median(double *v, size_t n);

/* One figure: value against baseline, passing when value / baseline <= target. */
typedef struct bench_figure {
    const char *name;          /* e.g. "encode" */
    const char *unit;          /* unit of value and baseline, e.g. "ms" */
    double value;
    const char *baseline_name; /* what the baseline is, e.g. "memcpy" */
    double baseline;
    double target;             /* the largest acceptable ratio; < 0: report only */
} bench_figure;

double bench_ratio(const bench_figure *f);
bool bench_pass(const bench_figure *f);

/* One line per figure: name, value, baseline, ratio, target, PASS/FAIL. */
void bench_print_text(const bench_figure *f, size_t n);
/* The same as a JSON array of objects. */
void bench_print_json(const bench_figure *f, size_t n);

#endif
