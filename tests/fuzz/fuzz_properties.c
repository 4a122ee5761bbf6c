/*
 * Fuzz target for the properties file reader (kcp_properties_parse).
 *
 * Input: the text of a properties file, as is.
 *
 * Checks: the answer is 0 or -1; an error names the file and a line that
 * exists ("fuzz.properties:LINE: cause"); a NUL byte is refused before any
 * property is handed on; no property is handed on after the callback
 * refused one (the key "reject" is refused, so that path is reached too);
 * no unescaped key and value are longer than the input. Then every
 * property is written back with each special character escaped, as
 * Properties.store does, and that text must parse to the same properties
 * in the same order. A byte order mark at the very start is skipped, so
 * the text written back starts with a comment line, as store's does.
 */
#include "fuzz_target.h"
#include "kcp_properties.h"

#include <stdbool.h>
#include <string.h>

#define NAME "fuzz.properties"

typedef struct prop {
    char *key, *value;
} prop;

typedef struct seen {
    prop *props;
    size_t n, cap;
    size_t input_len;
    bool refused; /* the callback has refused a property */
    size_t check; /* second pass: index of the next property expected */
    unsigned last_line; /* line of the previous property */
} seen;

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = fuzz_alloc(n);
    memcpy(d, s, n);
    return d;
}

static int record(void *opaque, unsigned line, const char *key, const char *value,
                  char *errstr, size_t errstr_size)
{
    seen *s = opaque;
    FUZZ_CHECK(line >= 1 && line >= s->last_line, "property '%s' on line %u after line %u", key,
               line, s->last_line);
    s->last_line = line;
    FUZZ_CHECK(!s->refused, "property '%s' handed on after a refusal", key);
    FUZZ_CHECK(strlen(key) + strlen(value) <= s->input_len,
               "key and value of %zu bytes out of %zu bytes of input",
               strlen(key) + strlen(value), s->input_len);
    if (strcmp(key, "reject") == 0) {
        s->refused = true;
        snprintf(errstr, errstr_size, "refused");
        return -1;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        prop *p = fuzz_alloc(cap * sizeof *p);
        if (s->n)
            memcpy(p, s->props, s->n * sizeof *p);
        free(s->props);
        s->props = p;
        s->cap = cap;
    }
    s->props[s->n++] = (prop){dup_str(key), dup_str(value)};
    return 0;
}

static int compare(void *opaque, unsigned line, const char *key, const char *value,
                   char *errstr, size_t errstr_size)
{
    (void)line;
    (void)errstr;
    (void)errstr_size;
    seen *s = opaque;
    FUZZ_CHECK(s->check < s->n, "written back, %zu properties parse to more", s->n);
    const prop *p = &s->props[s->check++];
    FUZZ_CHECK(strcmp(key, p->key) == 0, "key '%s' written back reads as '%s'", p->key, key);
    FUZZ_CHECK(strcmp(value, p->value) == 0, "value of '%s' written back differs", key);
    return 0;
}

/* Natural lines of text: line ends (\n, \r or \r\n) plus one. */
static unsigned count_lines(const uint8_t *t, size_t len)
{
    unsigned lines = 1;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\r' && i + 1 < len && t[i + 1] == '\n')
            i++;
        if (t[i] == '\n' || t[i] == '\r')
            lines++;
    }
    return lines;
}

static void check_error(const char *err, unsigned lines)
{
    if (strcmp(err, NAME ": out of memory") == 0)
        return;
    FUZZ_CHECK(strncmp(err, NAME ":", sizeof NAME) == 0, "error without the name: %s", err);
    char *end;
    unsigned long line = strtoul(err + sizeof NAME, &end, 10);
    FUZZ_CHECK(end != err + sizeof NAME && line >= 1 && line <= lines,
               "error names line %lu of %u: %s", line, lines, err);
    FUZZ_CHECK(end[0] == ':' && end[1] == ' ' && end[2] != '\0', "error without a cause: %s", err);
}

/* Escapes s into o as Properties.store would (bytes other than these pass
 * through as they are). Returns the end of what was written. */
static char *put_escaped(char *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        case ' ': case '=': case ':': case '#': case '!': case '\\':
            *o++ = '\\';
            *o++ = *s;
            break;
        default: *o++ = *s; break;
        }
    }
    return o;
}

static void check_written_back(seen *s)
{
    size_t cap = 0;
    for (size_t i = 0; i < s->n; i++)
        cap += 2 * (strlen(s->props[i].key) + strlen(s->props[i].value)) + 2;
    char *text = fuzz_alloc(cap + 2), *o = text;
    /* A comment line first, as Properties.store writes its date: a first
     * key that starts with a byte order mark must not start the file. */
    *o++ = '#';
    *o++ = '\n';
    for (size_t i = 0; i < s->n; i++) {
        o = put_escaped(o, s->props[i].key);
        *o++ = '=';
        o = put_escaped(o, s->props[i].value);
        *o++ = '\n';
    }
    char err[256] = "";
    s->check = 0;
    int rc = kcp_properties_parse(NAME, text, (size_t)(o - text), compare, s, err, sizeof err);
    FUZZ_CHECK(rc == 0, "written back, the properties do not parse: %s", err);
    FUZZ_CHECK(s->check == s->n, "written back, %zu properties parse to %zu", s->n, s->check);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen s = {.input_len = size};
    char err[512] = "";
    int rc = kcp_properties_parse(NAME, (const char *)data, size, record, &s, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1, "answer %d", rc);
    unsigned lines = count_lines(data, size);
    FUZZ_CHECK(s.n + s.refused <= lines, "%zu properties out of %u lines", s.n + s.refused, lines);
    if (size && memchr(data, '\0', size))
        FUZZ_CHECK(rc == -1 && s.n == 0 && !s.refused, "NUL byte accepted (answer %d, %zu calls)",
                   rc, s.n);
    if (rc == 0)
        FUZZ_CHECK(!s.refused, "refusal not reported");
    else
        check_error(err, lines);
    if (rc == 0)
        check_written_back(&s);
    for (size_t i = 0; i < s.n; i++) {
        free(s.props[i].key);
        free(s.props[i].value);
    }
    free(s.props);
    return 0;
}
