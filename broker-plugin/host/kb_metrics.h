/* kb_metrics.h: an optional HTTP listener (metrics.listener) serving the
 * registry's counts as Prometheus text on GET /metrics. */
#ifndef KB_METRICS_H
#define KB_METRICS_H

#include "kcb.h"

#include <stddef.h>

typedef struct kb_metrics kb_metrics;

/* Binds host:port (or [v6]:port) and serves from a thread of its own.
 * NULL with errstr naming the address and the cause. */
kb_metrics *kb_metrics_start(const char *hostport, kcb_registry *reg, char *errstr, size_t errstr_size);
/* Stops the thread and frees everything. */
void kb_metrics_stop(kb_metrics *m);
/* Renders the metrics text into a malloc'd string (caller frees), or NULL. */
char *kb_metrics_render(kcb_registry *reg);

#endif
