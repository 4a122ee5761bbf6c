/*
 * kc_text.h: text primitives of kafka-connections' output. A growable
 * buffer that can stream to a FILE (so a million-row listing never sits in
 * memory twice), the three escapings the output formats need (JSON strings,
 * RFC 4180 CSV fields, terminal-safe text), and RFC 3339 / human duration
 * formatting.
 *
 * Principals, client ids and client software names are chosen by clients
 * (docs/describe-connections.md, "Privacy"), so every writer here treats
 * their bytes as hostile: nothing reaches a terminal raw.
 */
#ifndef KC_TEXT_H
#define KC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* printf-style argument checking, where the compiler offers it. */
#if defined(__GNUC__)
#define KC_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define KC_PRINTF(fmt_index, first_arg)
#endif

/* A byte buffer. With sink set it flushes to it past 64 KiB and on
 * kc_buf_flush(); without, it only grows. A failed allocation or write
 * sets err and later writes are dropped. Zeroed = empty and valid. */
typedef struct kc_buf {
    char *p;
    size_t len, cap;
    FILE *sink;
    bool err;
    int sink_errno; /* errno of the first failed write to sink, or 0 */
} kc_buf;

void kc_buf_put(kc_buf *b, const char *s, size_t n);
void kc_buf_puts(kc_buf *b, const char *s);
void kc_buf_putc(kc_buf *b, char c);
void kc_buf_printf(kc_buf *b, const char *fmt, ...) KC_PRINTF(2, 3);
/* A decimal integer, without printf (the hot path of large listings). */
void kc_buf_int(kc_buf *b, int64_t v);
/* Returns a NUL-terminated view of the unflushed bytes (valid until the
 * next write); "" when empty. */
const char *kc_buf_str(kc_buf *b);
/* Writes the pending bytes to the sink; returns -1 if any write failed. */
int kc_buf_flush(kc_buf *b);
void kc_buf_reset(kc_buf *b);
void kc_buf_free(kc_buf *b);

/* A JSON string, quotes included. Valid UTF-8 passes through except
 * control characters (C0, DEL, C1) and U+2028/U+2029, which become \uXXXX;
 * bytes that are not UTF-8 become U+FFFD, so the output is always valid
 * JSON text (RFC 8259). */
void kc_json_str(kc_buf *b, const char *s, size_t n);

/* One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF
 * or starts or ends with a space, quotes doubled. With escape_controls,
 * control characters are first written as in kc_term_str() (for a CSV
 * that goes to a terminal). */
void kc_csv_field(kc_buf *b, const char *s, size_t n, bool escape_controls);

/* Text for a terminal: control characters become \n, \t, \r, \\, \xNN or
 * \u0085 (C1), invalid UTF-8 bytes \xNN, and a backslash doubles so the
 * escaping cannot be forged. */
void kc_term_str(kc_buf *b, const char *s, size_t n);

/* Columns s[0..n) takes on a terminal (UTF-8 code points; no wide-char
 * table, good enough for aligning mostly-ASCII names). */
size_t kc_display_width(const char *s, size_t n);

/* ms since the epoch as RFC 3339 UTC: 2024-05-01T12:34:56.789Z, or without
 * the fraction when with_ms is false. kc_time_text writes it to out and
 * returns its length (at most 31). Years outside 0-9999 print as the
 * number of ms. */
void kc_fmt_time(kc_buf *b, int64_t ms, bool with_ms);
size_t kc_time_text(char out[32], int64_t ms, bool with_ms);

/* A duration for people: 850ms, 42s, 5m03s, 2h05m, 3d04h. */
void kc_fmt_duration(kc_buf *b, int64_t ms);

/* Parses a duration: one or more NUMBER UNIT groups with unit ms, s, m, h
 * or d ("500ms", "30s", "1h30m", "2d"). Returns 0 and *ms, or -1 when the
 * text is not a duration or exceeds int64 milliseconds. */
int kc_parse_duration(const char *text, int64_t *ms);

/* Formats a message into errstr and returns -1, so a failing check can
 * "return kc_errf(...)". */
int kc_errf(char *errstr, size_t errstr_size, const char *fmt, ...) KC_PRINTF(3, 4);

/* Overwrites a secret (a password) and frees it; NULL is fine. */
void kc_free_secret(char *s);

#endif
