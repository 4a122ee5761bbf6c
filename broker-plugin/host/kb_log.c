/* key=value event log on stderr. */
#include "kb_log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info"};

/* Appends value, quoted when it holds a space, '=' or '"'; control bytes
 * become '?', so a client-supplied string cannot forge a log line. */
static size_t put_value(char *buf, size_t n, size_t cap, const char *v)
{
    bool quote = v[0] == '\0' || strpbrk(v, " =\"") != NULL;
    if (quote && n < cap)
        buf[n++] = '"';
    for (; *v && n + 2 < cap; v++) {
        unsigned char ch = (unsigned char)*v;
        if (ch == '"' || ch == '\\')
            buf[n++] = '\\';
        buf[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    if (quote && n < cap)
        buf[n++] = '"';
    return n;
}

void kb_log(int level, const char *event, ...)
{
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n0 = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      ts.tv_nsec / 1000000, level_names[level < 0 ? 0 : level > 2 ? 2 : level], event);
    size_t n = n0 < 0 ? 0 : (size_t)n0 < sizeof line ? (size_t)n0 : sizeof line - 1;
    va_list ap;
    va_start(ap, event);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key)
            break;
        const char *value = va_arg(ap, const char *);
        if (n + strlen(key) + 3 >= sizeof line - 1)
            break;
        line[n++] = ' ';
        memcpy(line + n, key, strlen(key));
        n += strlen(key);
        line[n++] = '=';
        n = put_value(line, n, sizeof line - 1, value ? value : "-");
    }
    va_end(ap);
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
