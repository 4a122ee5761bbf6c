/* kb_log.h: one line per event on stderr, as key=value pairs, so that logs
 * can be grepped and parsed. Values with spaces or quotes are quoted. */
#ifndef KB_LOG_H
#define KB_LOG_H

#include <stdint.h>

enum kb_log_level { KB_ERROR = 0, KB_WARN = 1, KB_INFO = 2 };

/* Writes "ts=... level=... event=EVENT" followed by the pairs given as
 * alternating key and value strings, ending with NULL. One write(2) per
 * line, so lines from different threads never interleave. */
void kb_log(int level, const char *event, ...);

#endif
