/*
 * kc_text.c: buffer, escaping and time formatting for kafka-connections'
 * output. See kc_text.h.
 */
#include "kc_text.h"

#include "kc_net.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Flushing in chunks of this size keeps a streamed listing's memory flat. */
#define FLUSH_AT (64u * 1024u)

static bool reserve(kc_buf *b, size_t n)
{
    if (b->err)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2) {
            b->err = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->err = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void kc_buf_put(kc_buf *b, const char *s, size_t n)
{
    if (!n || !reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    if (b->sink && b->len >= FLUSH_AT)
        kc_buf_flush(b);
}

void kc_buf_puts(kc_buf *b, const char *s)
{
    kc_buf_put(b, s, strlen(s));
}

void kc_buf_putc(kc_buf *b, char c)
{
    kc_buf_put(b, &c, 1);
}

void kc_buf_printf(kc_buf *b, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        kc_buf_put(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void kc_buf_int(kc_buf *b, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    /* Work on the negative side, where INT64_MIN fits. */
    int64_t n = v < 0 ? v : -v;
    do {
        *--p = (char)('0' - n % 10);
        n /= 10;
    } while (n);
    if (v < 0)
        *--p = '-';
    kc_buf_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

const char *kc_buf_str(kc_buf *b)
{
    if (!b->p || b->err)
        return "";
    b->p[b->len] = '\0';
    return b->p;
}

int kc_buf_flush(kc_buf *b)
{
    bool failed = false;
    if (b->sink && b->len && !b->err) {
        failed = fwrite(b->p, 1, b->len, b->sink) != b->len;
        b->len = 0;
    }
    if (b->sink && !failed)
        failed = fflush(b->sink) != 0;
    if (failed && !b->err)
        b->sink_errno = errno;
    b->err |= failed;
    return b->err ? -1 : 0;
}

void kc_buf_reset(kc_buf *b)
{
    b->len = 0;
}

void kc_buf_free(kc_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

/* Decodes one code point at s[0..n); returns its length, or 0 when the bytes
 * are not well-formed UTF-8 (overlong forms, surrogates and values above
 * U+10FFFF included, as RFC 3629 requires). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

size_t kc_display_width(const char *s, size_t n)
{
    if (!s)
        s = "";
    const unsigned char *u = (const unsigned char *)s;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_next(u + i, n - i, &cp);
        i += len ? len : 1;
        w++;
    }
    return w;
}

/* ---- JSON and terminal escaping ------------------------------------------ */

/* The two escapings differ only in which characters pass through and how
 * the others are spelled; the scan that copies runs of plain bytes at once
 * is shared. */
enum escaping { ESC_JSON, ESC_TERM };

static bool plain_char(enum escaping e, uint32_t cp)
{
    if (cp == '\\' || is_control(cp))
        return false;
    return e == ESC_TERM || (cp != '"' && cp != 0x2028 && cp != 0x2029);
}

/* Writes the escape of the character cp of length len, or (len 0) of the
 * byte, which is not UTF-8. */
static void put_escape(kc_buf *b, enum escaping e, uint32_t cp, size_t len, unsigned char byte)
{
    bool json = e == ESC_JSON;
    if (!len) {
        if (json)
            kc_buf_puts(b, "\\ufffd");
        else
            kc_buf_printf(b, "\\x%02x", byte);
        return;
    }
    switch (cp) {
    case '"': kc_buf_puts(b, "\\\""); return; /* only JSON escapes it */
    case '\\': kc_buf_puts(b, "\\\\"); return;
    case '\n': kc_buf_puts(b, "\\n"); return;
    case '\r': kc_buf_puts(b, "\\r"); return;
    case '\t': kc_buf_puts(b, "\\t"); return;
    case '\b': if (json) { kc_buf_puts(b, "\\b"); return; } break;
    case '\f': if (json) { kc_buf_puts(b, "\\f"); return; } break;
    default: break;
    }
    if (json || cp >= 0x80)
        kc_buf_printf(b, "\\u%04x", (unsigned)cp);
    else
        kc_buf_printf(b, "\\x%02x", (unsigned)cp);
}

static void put_escaped(kc_buf *b, const char *s, size_t n, enum escaping e)
{
    if (!s)
        s = "";
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0; /* start of bytes that need no escaping */
    for (size_t i = 0; i < n;) {
        /* Most names are printable ASCII: skip those bytes without decoding. */
        if (u[i] >= 0x20 && u[i] < 0x7f && u[i] != '\\' && (e == ESC_TERM || u[i] != '"')) {
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t len = utf8_next(u + i, n - i, &cp);
        if (len && plain_char(e, cp)) {
            i += len;
            continue;
        }
        kc_buf_put(b, s + run, i - run);
        put_escape(b, e, cp, len, u[i]);
        i += len ? len : 1;
        run = i;
    }
    kc_buf_put(b, s + run, n - run);
}

void kc_json_str(kc_buf *b, const char *s, size_t n)
{
    kc_buf_putc(b, '"');
    put_escaped(b, s, n, ESC_JSON);
    kc_buf_putc(b, '"');
}

void kc_term_str(kc_buf *b, const char *s, size_t n)
{
    put_escaped(b, s, n, ESC_TERM);
}

/* ---- CSV ------------------------------------------------------------------- */

void kc_csv_field(kc_buf *b, const char *s, size_t n, bool escape_controls)
{
    kc_buf esc = {0};
    if (!s)
        s = "";
    if (escape_controls) {
        kc_term_str(&esc, s, n);
        if (esc.err) {
            b->err = true;
            kc_buf_free(&esc);
            return;
        }
        s = esc.p ? esc.p : "";
        n = esc.len;
    }
    bool quote = n && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        kc_buf_put(b, s, n);
    } else {
        kc_buf_putc(b, '"');
        size_t run = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"') {
                kc_buf_put(b, s + run, i + 1 - run);
                kc_buf_putc(b, '"');
                run = i + 1;
            }
        }
        kc_buf_put(b, s + run, n - run);
        kc_buf_putc(b, '"');
    }
    kc_buf_free(&esc);
}

/* ---- time ------------------------------------------------------------------ */

static char *two(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

size_t kc_time_text(char out[32], int64_t ms, bool with_ms)
{
    /* Floor division, so times before 1970 still print their real fraction. */
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        sec--;
    }
    int64_t days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    /* Civil date from days since 1970-01-01 (proleptic Gregorian), by eras
     * of 400 years: no gmtime(), no locale, no lock. */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    if (year < 0 || year > 9999)
        return (size_t)snprintf(out, 32, "%lld", (long long)ms);
    char *o = out;
    o = two(o, (int)(year / 100));
    o = two(o, (int)(year % 100));
    *o++ = '-';
    o = two(o, (int)month);
    *o++ = '-';
    o = two(o, (int)day);
    *o++ = 'T';
    o = two(o, (int)(rem / 3600));
    *o++ = ':';
    o = two(o, (int)(rem / 60 % 60));
    *o++ = ':';
    o = two(o, (int)(rem % 60));
    if (with_ms) {
        *o++ = '.';
        *o++ = (char)('0' + frac / 100);
        o = two(o, (int)(frac % 100));
    }
    *o++ = 'Z';
    *o = '\0';
    return (size_t)(o - out);
}

void kc_fmt_time(kc_buf *b, int64_t ms, bool with_ms)
{
    char text[32];
    kc_buf_put(b, text, kc_time_text(text, ms, with_ms));
}

void kc_fmt_duration(kc_buf *b, int64_t ms)
{
    if (ms < 0) {
        kc_buf_putc(b, '-');
        ms = ms == INT64_MIN ? INT64_MAX : -ms;
    }
    int64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
    if (s == 0)
        kc_buf_printf(b, "%lldms", (long long)ms);
    else if (m == 0)
        kc_buf_printf(b, "%llds", (long long)s);
    else if (h == 0)
        kc_buf_printf(b, "%lldm%02llds", (long long)m, (long long)(s % 60));
    else if (d == 0)
        kc_buf_printf(b, "%lldh%02lldm", (long long)h, (long long)(m % 60));
    else
        kc_buf_printf(b, "%lldd%02lldh", (long long)d, (long long)(h % 24));
}

int kc_parse_duration(const char *text, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    const char *p = text;
    int64_t total = 0;
    if (!p || !*p)
        return -1;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n > (INT64_MAX - (*p - '0')) / 10)
                return -1;
            n = n * 10 + (*p++ - '0');
        }
        size_t i, ulen = 0;
        while (p[ulen] >= 'a' && p[ulen] <= 'z')
            ulen++;
        for (i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].unit) == ulen && memcmp(p, units[i].unit, ulen) == 0)
                break;
        if (i == sizeof units / sizeof units[0])
            return -1;
        if (n > (INT64_MAX - total) / units[i].ms)
            return -1;
        total += n * units[i].ms;
        p += ulen;
    }
    *ms = total;
    return 0;
}

void kc_free_secret(char *s)
{
    if (s) {
        /* Through a volatile pointer, so the wipe is not optimised away. */
        volatile char *v = s;
        while (*v)
            *v++ = 0;
        free(s);
    }
}

int kc_errf(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kc_vfmt(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}
