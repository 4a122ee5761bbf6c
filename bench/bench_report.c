/* Medians, ratios and the two output forms of a benchmark run. */
#include "bench_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_ratio(const bench_figure *f)
{
    return f->baseline > 0 ? f->value / f->baseline : 0;
}

bool bench_pass(const bench_figure *f)
{
    return f->target < 0 || (f->baseline > 0 && bench_ratio(f) <= f->target);
}

static const char *verdict(const bench_figure *f)
{
    return f->target < 0 ? "REPORT" : bench_pass(f) ? "PASS" : "FAIL";
}

void bench_print_text(const bench_figure *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char target[32] = "-";
        if (f[i].target >= 0)
            snprintf(target, sizeof target, "<= %.2f", f[i].target);
        printf("%-44s %12.3f %-5s | %-28s %12.3f %-5s | ratio %8.3f | target %-8s %s\n", f[i].name,
               f[i].value, f[i].unit, f[i].baseline_name, f[i].baseline, f[i].unit, bench_ratio(&f[i]),
               target, verdict(&f[i]));
    }
}

void bench_print_json(const bench_figure *f, size_t n)
{
    printf("[");
    for (size_t i = 0; i < n; i++)
        printf("%s\n  {\"name\": \"%s\", \"value\": %.6g, \"unit\": \"%s\", \"baseline_name\": \"%s\", "
               "\"baseline\": %.6g, \"ratio\": %.6g, \"target\": %.6g, \"verdict\": \"%s\"}",
               i ? "," : "", f[i].name, f[i].value, f[i].unit, f[i].baseline_name, f[i].baseline,
               bench_ratio(&f[i]), f[i].target, verdict(&f[i]));
    printf("\n]\n");
}
