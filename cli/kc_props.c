/*
 * kc_props.c: java.util.Properties syntax, the format of the files that
 * Kafka's --command-config takes. See kc_props.h.
 */
#include "kc_props.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A command config is a few lines; anything bigger was passed by mistake. */
#define MAX_FILE_BYTES (1u << 20)

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

static int hex4(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (n < 4)
        return -1;
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

/* Unescapes s[0..n) into out (at least n + 1 bytes: no escape grows, since
 * \uXXXX is 6 bytes for at most 3 of UTF-8 and a surrogate pair 12 for 4).
 * Java strings are UTF-16, so a high surrogate escape must be followed by a
 * low one. Returns NULL with *why set when an escape is malformed or NUL. */
static char *unescape(const char *s, size_t n, char *out, const char **why)
{
    char *o = out;
    for (size_t i = 0; i < n;) {
        char c = s[i++];
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        if (i == n)
            break; /* a lone trailing backslash vanishes, as in Properties */
        c = s[i++];
        switch (c) {
        case 't': *o++ = '\t'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned hi, lo;
            uint32_t cp;
            if (hex4(s + i, n - i, &hi)) {
                *why = "malformed \\uXXXX escape";
                return NULL;
            }
            i += 4;
            if (hi >= 0xd800 && hi <= 0xdbff) {
                if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || hex4(s + i + 2, n - i - 2, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff) {
                    *why = "unpaired UTF-16 surrogate in \\uXXXX escape";
                    return NULL;
                }
                i += 6;
                cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
            } else if (hi >= 0xdc00 && hi <= 0xdfff) {
                *why = "unpaired UTF-16 surrogate in \\uXXXX escape";
                return NULL;
            } else {
                cp = hi;
            }
            if (cp == 0) {
                *why = "\\u0000 is not allowed";
                return NULL;
            }
            o += put_utf8(o, cp);
            break;
        }
        default: *o++ = c; break;
        }
    }
    *o = '\0';
    return out;
}

/* Splits one logical line (still escaped) as Properties does: the key ends
 * at the first unescaped '=', ':' or whitespace, then whitespace, at most
 * one '=' or ':' and whitespace again are skipped. */
static int split_and_emit(const char *line, size_t len, kc_prop_fn fn, void *opaque, char *errstr,
                          size_t errstr_size)
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
    char *buf = malloc(len + 2);
    if (!buf) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    const char *why = NULL;
    char *key = unescape(line, k, buf, &why);
    char *value = key ? unescape(line + v, len - v, buf + k + 1, &why) : NULL;
    int rc;
    if (!value) {
        snprintf(errstr, errstr_size, "%s", why);
        rc = -1;
    } else {
        rc = fn(opaque, key, value, errstr, errstr_size);
    }
    /* Values can be passwords: leave no copy behind in freed memory. */
    memset(buf, 0, len + 2);
    free(buf);
    return rc;
}

int kc_props_parse(const char *name, const char *text, size_t len, kc_prop_fn fn, void *opaque,
                   char *errstr, size_t errstr_size)
{
    char *line = NULL;
    size_t cap = 0, i = 0;
    unsigned lineno = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        lineno++;
        while (i < len && prop_space(text[i]))
            i++;
        if (i == len || eol(text[i]) || text[i] == '#' || text[i] == '!') {
            while (i < len && !eol(text[i]))
                i++; /* a comment never continues */
            i = skip_eol(text, i, len);
            continue;
        }
        unsigned first = lineno;
        size_t n = 0;
        for (;;) {
            size_t s = i;
            while (i < len && !eol(text[i]))
                i++;
            size_t backslashes = 0;
            while (s + backslashes < i && text[i - 1 - backslashes] == '\\')
                backslashes++;
            bool more = backslashes % 2 == 1;
            size_t piece = i - s - more;
            if (n + piece + 1 > cap) {
                size_t ncap = cap ? cap : 256;
                while (ncap < n + piece + 1)
                    ncap *= 2;
                char *p = realloc(line, ncap);
                if (!p) {
                    snprintf(errstr, errstr_size, "%s: out of memory", name);
                    free(line);
                    return -1;
                }
                line = p;
                cap = ncap;
            }
            memcpy(line + n, text + s, piece);
            n += piece;
            i = skip_eol(text, i, len);
            if (!more || i >= len)
                break;
            lineno++;
            while (i < len && prop_space(text[i]))
                i++;
        }
        char why[512];
        rc = split_and_emit(line, n, fn, opaque, why, sizeof why);
        if (rc)
            snprintf(errstr, errstr_size, "%s:%u: %s", name, first, why);
        memset(line, 0, n);
    }
    free(line);
    return rc;
}

int kc_props_load(const char *path, kc_prop_fn fn, void *opaque, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(MAX_FILE_BYTES + 1);
    size_t len = text ? fread(text, 1, MAX_FILE_BYTES + 1, f) : 0;
    int rc = -1;
    if (!text)
        snprintf(errstr, errstr_size, "%s: out of memory", path);
    else if (ferror(f))
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
    else if (len > MAX_FILE_BYTES)
        snprintf(errstr, errstr_size, "%s: larger than %u bytes; not a properties file", path,
                 MAX_FILE_BYTES);
    else if (memchr(text, '\0', len))
        snprintf(errstr, errstr_size, "%s: contains a NUL byte; not a properties file", path);
    else
        rc = kc_props_parse(path, text, len, fn, opaque, errstr, errstr_size);
    fclose(f);
    if (text) {
        memset(text, 0, len);
        free(text);
    }
    return rc;
}
