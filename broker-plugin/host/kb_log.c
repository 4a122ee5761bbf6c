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

/* Writes value as exactly width decimal digits. */
static char *put_digits(char *p, unsigned value, int width)
{
    for (int i = width - 1; i >= 0; i--, value /= 10)
        p[i] = (char)('0' + value % 10);
    return p + width;
}

/* "ts=2024-05-01T12:51:30.123Z" written by hand: every accepted and closed
 * connection logs a line, and snprintf's format parsing was a visible
 * share of a broker's time per connection. */
static size_t put_timestamp(char *line)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char *p = line;
    memcpy(p, "ts=", 3);
    p = put_digits(p + 3, (unsigned)(tm.tm_year + 1900) % 10000, 4);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm.tm_mday, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned)tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_sec, 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)(ts.tv_nsec / 1000000), 3);
    *p++ = 'Z';
    return (size_t)(p - line);
}

/* Appends s if it fits, keeping room for the newline. */
static size_t put_text(char *line, size_t n, size_t cap, const char *s)
{
    size_t len = strlen(s);
    if (n + len >= cap)
        len = n < cap ? cap - 1 - n : 0;
    memcpy(line + n, s, len);
    return n + len;
}

void kb_log(int level, const char *event, ...)
{
    char line[2048];
    size_t n = put_timestamp(line);
    n = put_text(line, n, sizeof line, " level=");
    n = put_text(line, n, sizeof line, level_names[level < 0 ? 0 : level > 2 ? 2 : level]);
    n = put_text(line, n, sizeof line, " event=");
    n = put_text(line, n, sizeof line, event);
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
