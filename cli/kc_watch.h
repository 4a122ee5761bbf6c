/*
 * kc_watch.h: --watch. Asks the cluster every N seconds until Ctrl-C (or
 * SIGTERM). On a terminal each refresh redraws the screen and lists the
 * connections that appeared or closed since the previous one; otherwise
 * each refresh is one JSON object on one line, with those changes under
 * "changes".
 */
#ifndef KC_WATCH_H
#define KC_WATCH_H

#include "kc_run.h"

/* Runs until interrupted; returns the exit status of the last refresh. */
int kc_watch(const kc_run *run);

#endif
