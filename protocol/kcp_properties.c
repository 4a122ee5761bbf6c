/*
 * kcp_properties.c: java.util.Properties.load syntax, the format of Kafka's
 * configuration files. See kcp_properties.h.
 */
#include "kcp_properties.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What fread asks for at a time while a file is read. */
#define READ_CHUNK 8192u

/* A growing byte string that always has room for a terminating NUL. Files
 * and lines may hold passwords, so no copy is left behind in freed memory. */
typedef struct buf {
    char *s;
    size_t len, cap;
} buf;

static void buf_free(buf *b)
{
    if (b->s) {
        explicit_bzero(b->s, b->cap);
        free(b->s);
    }
    *b = (buf){0};
}

/* Makes room for n more bytes plus a NUL. realloc could leave the old copy
 * unwiped, so the bytes are moved by hand. */
static int buf_reserve(buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *s = malloc(cap);
    if (!s)
        return -1;
    if (b->len)
        memcpy(s, b->s, b->len);
    size_t len = b->len;
    buf_free(b);
    *b = (buf){s, len, cap};
    return 0;
}

static int buf_add(buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n))
        return -1;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

/* ---- lines ------------------------------------------------------------- */

/* Whitespace as Properties defines it. */
static bool prop_space(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

static bool eol(char c)
{
    return c == '\n' || c == '\r';
}

/* Past one line end: \n, \r or \r\n. */
static size_t skip_eol(const char *t, size_t i, size_t len)
{
    if (i < len && t[i] == '\r')
        i++;
    if (i < len && t[i] == '\n')
        i++;
    return i;
}

/* The number of the natural line that holds text[off]. */
static unsigned line_of(const char *t, size_t off)
{
    unsigned line = 1;
    for (size_t i = 0; i < off;) {
        if (eol(t[i])) {
            i = skip_eol(t, i, off + 1);
            line++;
        } else {
            i++;
        }
    }
    return line;
}

typedef struct cursor {
    const char *t;
    size_t len, pos;
    unsigned lineno; /* natural lines read so far */
} cursor;

/* Reads the next logical line into out, still escaped, with each
 * continuation (an odd number of trailing backslashes) joined to the next
 * natural line minus its leading whitespace. Blank lines and comments (first
 * non-blank '#' or '!') are skipped; a comment never continues. Returns 1
 * with *first set to the line it starts on, 0 at the end, -1 out of memory. */
static int next_line(cursor *c, unsigned *first, buf *out)
{
    const char *t = c->t;
    size_t i = c->pos, len = c->len;
    out->len = 0;
    for (;;) {
        if (i >= len)
            return 0;
        c->lineno++;
        while (i < len && prop_space(t[i]))
            i++;
        if (i < len && (t[i] == '#' || t[i] == '!'))
            while (i < len && !eol(t[i]))
                i++;
        if (i < len && !eol(t[i]))
            break;
        i = skip_eol(t, i, len);
    }
    *first = c->lineno;
    for (;;) {
        size_t s = i;
        while (i < len && !eol(t[i]))
            i++;
        size_t backslashes = 0;
        while (s + backslashes < i && t[i - 1 - backslashes] == '\\')
            backslashes++;
        bool more = backslashes % 2 == 1;
        if (buf_add(out, t + s, i - s - more))
            return -1;
        i = skip_eol(t, i, len);
        if (!more || i >= len)
            break;
        c->lineno++;
        while (i < len && prop_space(t[i]))
            i++;
    }
    c->pos = i;
    return 1;
}

/* ---- escapes ----------------------------------------------------------- */

static int hex4(const char *s, size_t n, unsigned *out)
{
    if (n < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The \uXXXX escape at s[*i] (just past "\u"), with the \uXXXX that must
 * follow a high surrogate since Java strings are UTF-16. Returns the code
 * point, or 0 with *why set. */
static uint32_t unicode_escape(const char *s, size_t n, size_t *i, const char **why)
{
    unsigned hi, lo;
    if (hex4(s + *i, n - *i, &hi)) {
        *why = "malformed \\uXXXX escape";
        return 0;
    }
    *i += 4;
    if (hi >= 0xd800 && hi <= 0xdbff) {
        size_t j = *i;
        if (n - j < 6 || s[j] != '\\' || s[j + 1] != 'u' || hex4(s + j + 2, n - j - 2, &lo) ||
            lo < 0xdc00 || lo > 0xdfff) {
            *why = "unpaired UTF-16 surrogate in \\uXXXX escape";
            return 0;
        }
        *i += 6;
        return 0x10000 + ((uint32_t)(hi - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        *why = "unpaired UTF-16 surrogate in \\uXXXX escape";
        return 0;
    }
    if (hi == 0)
        *why = "\\u0000 is not allowed"; /* keys and values are C strings */
    return hi;
}

/* Unescapes s[0..n) in place and NUL-terminates it at s[result]; s[n] must
 * be writable. In place works because no escape grows: \c is 2 bytes for 1,
 * \uXXXX 6 for at most 3 of UTF-8 and a surrogate pair 12 for 4. Returns
 * the unescaped length, or -1 with *why set. */
static long unescape(char *s, size_t n, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i++];
        if (c != '\\') {
            s[o++] = c;
            continue;
        }
        if (i == n)
            break; /* a lone trailing backslash vanishes, as in Properties */
        c = s[i++];
        switch (c) {
        case 't': s[o++] = '\t'; break;
        case 'n': s[o++] = '\n'; break;
        case 'r': s[o++] = '\r'; break;
        case 'f': s[o++] = '\f'; break;
        case 'u': {
            uint32_t cp = unicode_escape(s, n, &i, why);
            if (cp == 0)
                return -1;
            o += put_utf8(s + o, cp);
            break;
        }
        default: s[o++] = c; break;
        }
    }
    s[o] = '\0';
    return (long)o;
}

/* Splits one logical line (escaped, NUL-terminated at line[len]) as
 * Properties does: the key ends at the first unescaped '=', ':' or
 * whitespace, then whitespace, at most one '=' or ':' and whitespace again
 * are skipped. Both are unescaped in place and handed to fn. */
static int split_and_emit(char *line, size_t len, unsigned first, kcp_properties_fn fn,
                          void *opaque, char *errstr, size_t errstr_size)
{
    size_t k = 0, v;
    bool escaped = false, sep = false;
    for (; k < len; k++) {
        char c = line[k];
        if (!escaped && (c == '=' || c == ':')) {
            sep = true;
            break;
        }
        if (!escaped && prop_space(c))
            break;
        escaped = c == '\\' && !escaped;
    }
    for (v = k + sep; v < len; v++) {
        if (prop_space(line[v]))
            continue;
        if (sep || (line[v] != '=' && line[v] != ':'))
            break;
        sep = true;
    }
    /* The key's NUL lands at most on line[k] and k <= v, so the value's
     * bytes are intact when it is unescaped. */
    const char *why = NULL;
    if (unescape(line, k, &why) < 0 || unescape(line + v, len - v, &why) < 0) {
        snprintf(errstr, errstr_size, "%s", why);
        return -1;
    }
    return fn(opaque, first, line, line + v, errstr, errstr_size);
}

/* ---- API --------------------------------------------------------------- */

int kcp_properties_parse(const char *name, const char *text, size_t len, kcp_properties_fn fn,
                         void *opaque, char *errstr, size_t errstr_size)
{
    const char *nul = len ? memchr(text, '\0', len) : NULL;
    if (nul) {
        snprintf(errstr, errstr_size, "%s:%u: contains a NUL byte; not a properties file", name,
                 line_of(text, (size_t)(nul - text)));
        return -1;
    }
    /* Editors on Windows start UTF-8 files with a byte order mark. Java
     * would make it part of the first key, which then silently matches
     * nothing; it can never belong to a key, so it is skipped. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, len -= 3;
    cursor c = {text, len, 0, 0};
    buf line = {0};
    unsigned first;
    int rc;
    while ((rc = next_line(&c, &first, &line)) == 1) {
        char why[1024] = "";
        if (split_and_emit(line.s, line.len, first, fn, opaque, why, sizeof why)) {
            snprintf(errstr, errstr_size, "%s:%u: %s", name, first, why);
            explicit_bzero(why, sizeof why);
            break;
        }
    }
    if (rc < 0)
        snprintf(errstr, errstr_size, "%s: out of memory", name);
    buf_free(&line);
    return rc == 0 ? 0 : -1;
}

/* Reads all of f into b, up to max + 1 bytes so that a larger file shows. */
static int read_all(FILE *f, buf *b, size_t max)
{
    while (b->len <= max) {
        if (buf_reserve(b, READ_CHUNK))
            return -1;
        size_t n = fread(b->s + b->len, 1, READ_CHUNK, f);
        b->len += n;
        if (n < READ_CHUNK)
            break;
    }
    return 0;
}

int kcp_properties_load(const char *path, kcp_properties_fn fn, void *opaque, char *errstr,
                        size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    buf text = {0};
    int rc = -1;
    if (read_all(f, &text, KCP_PROPERTIES_MAX_BYTES))
        snprintf(errstr, errstr_size, "%s: out of memory", path);
    else if (ferror(f))
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
    else if (text.len > KCP_PROPERTIES_MAX_BYTES)
        snprintf(errstr, errstr_size, "%s: larger than %u bytes; not a properties file", path,
                 KCP_PROPERTIES_MAX_BYTES);
    else
        rc = kcp_properties_parse(path, text.s, text.len, fn, opaque, errstr, errstr_size);
    fclose(f);
    buf_free(&text);
    return rc;
}
