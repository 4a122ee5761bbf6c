/*
 * kc_jaas.c: sasl.jaas.config for PlainLoginModule and ScramLoginModule.
 * See kc_jaas.h.
 */
#include "kc_jaas.h"

#include "kc_text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tok_kind { TOK_END, TOK_WORD, TOK_QUOTED, TOK_CHAR, TOK_ERROR };

typedef struct lexer {
    const char *p;
    char *text; /* the last word or quoted string, malloc'd */
    char ch;    /* the last TOK_CHAR */
    const char *why;
} lexer;

/* Word characters of Kafka's JaasConfig tokenizer: letters, digits (and
 * '.', which the number syntax lets into words), '_', '-', '$', and
 * anything non-ASCII. */
static bool word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-' || c == '$' || c >= 0x80;
}

static void skip_blank(lexer *L)
{
    for (;;) {
        while (*L->p == ' ' || *L->p == '\t' || *L->p == '\n' || *L->p == '\r' || *L->p == '\f')
            L->p++;
        if (L->p[0] == '/' && L->p[1] == '/') {
            while (*L->p && *L->p != '\n' && *L->p != '\r')
                L->p++;
        } else if (L->p[0] == '/' && L->p[1] == '*') {
            const char *end = strstr(L->p + 2, "*/");
            L->p = end ? end + 2 : L->p + strlen(L->p);
        } else {
            return;
        }
    }
}

/* A quoted string as StreamTokenizer reads it: \a \b \f \n \r \t \v,
 * octal \0-\377, and \c = c for any other c; a line end terminates it
 * unclosed. */
static enum tok_kind read_quoted(lexer *L)
{
    char quote = *L->p++;
    size_t cap = strlen(L->p) + 1;
    char *o = malloc(cap), *out = o;
    if (!o) {
        L->why = "out of memory";
        return TOK_ERROR;
    }
    for (;;) {
        char c = *L->p;
        if (c == '\0' || c == '\n' || c == '\r') {
            memset(out, 0, cap);
            free(out);
            L->why = "unterminated quoted";
            return TOK_ERROR;
        }
        L->p++;
        if (c == quote)
            break;
        if (c == '\\' && *L->p && *L->p != '\n' && *L->p != '\r') {
            c = *L->p++;
            switch (c) {
            case 'a': c = '\a'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'v': c = '\v'; break;
            default:
                if (c >= '0' && c <= '7') {
                    /* Up to three digits, the first of them 0-3 when three. */
                    int v = c - '0', digits = 1, max = c <= '3' ? 3 : 2;
                    while (digits < max && *L->p >= '0' && *L->p <= '7') {
                        v = v * 8 + (*L->p++ - '0');
                        digits++;
                    }
                    c = (char)v;
                }
                break;
            }
        }
        *o++ = c;
    }
    *o = '\0';
    L->text = out;
    return TOK_QUOTED;
}

static enum tok_kind next(lexer *L)
{
    kc_free_secret(L->text);
    L->text = NULL;
    skip_blank(L);
    if (!*L->p)
        return TOK_END;
    if (*L->p == '"' || *L->p == '\'')
        return read_quoted(L);
    if (word_char((unsigned char)*L->p)) {
        const char *s = L->p;
        while (word_char((unsigned char)*L->p))
            L->p++;
        L->text = strndup(s, (size_t)(L->p - s));
        if (!L->text) {
            L->why = "out of memory";
            return TOK_ERROR;
        }
        return TOK_WORD;
    }
    L->ch = *L->p++;
    return TOK_CHAR;
}

static const struct {
    const char *class_name;
    int module;
} modules[] = {
    {"org.apache.kafka.common.security.plain.PlainLoginModule", KC_JAAS_PLAIN},
    {"org.apache.kafka.common.security.scram.ScramLoginModule", KC_JAAS_SCRAM},
};

static int fail(lexer *L, char *errstr, size_t errstr_size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int fail(lexer *L, char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    kc_free_secret(L->text);
    L->text = NULL;
    return -1;
}

/* Keeps username and password; refuses tokenauth=true (a delegation token
 * needs a SCRAM extension the SASL exchange here does not send); ignores
 * other options as Kafka's login modules do. Takes value either way. */
static int take_option(kc_jaas *out, const char *name, char *value, char *errstr,
                       size_t errstr_size)
{
    char **slot = NULL;
    if (strcmp(name, "username") == 0)
        slot = &out->username;
    else if (strcmp(name, "password") == 0)
        slot = &out->password;
    if (slot) {
        kc_free_secret(*slot);
        *slot = value;
        return 0;
    }
    bool on = strcasecmp(value, "true") == 0;
    kc_free_secret(value);
    if (strcmp(name, "tokenauth") == 0 && on) {
        snprintf(errstr, errstr_size, "option 'tokenauth' (delegation tokens) is not supported");
        return -1;
    }
    return 0; /* Kafka's login modules ignore options they do not know */
}

int kc_jaas_parse(const char *text, kc_jaas *out, char *errstr, size_t errstr_size)
{
    lexer L = {.p = text ? text : ""};
    memset(out, 0, sizeof *out);
    enum tok_kind t = next(&L);
    if (t != TOK_WORD)
        return fail(&L, errstr, errstr_size, "%s",
                    t == TOK_END ? "no login module" : "expected a login module class name");
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (strcmp(L.text, modules[i].class_name) == 0)
            out->module = modules[i].module;
    if (!out->module) {
        char name[128];
        snprintf(name, sizeof name, "%s", L.text);
        return fail(&L, errstr, errstr_size,
                    "login module '%s' is not supported (use PlainLoginModule or ScramLoginModule)",
                    name);
    }
    t = next(&L);
    if (t != TOK_WORD ||
        (strcasecmp(L.text, "required") && strcasecmp(L.text, "requisite") &&
         strcasecmp(L.text, "sufficient") && strcasecmp(L.text, "optional")))
        return fail(&L, errstr, errstr_size,
                    "expected a control flag (required, requisite, sufficient or optional) after "
                    "the login module");
    for (;;) {
        t = next(&L);
        if (t == TOK_CHAR && L.ch == ';')
            break;
        if (t == TOK_END)
            return fail(&L, errstr, errstr_size, "missing ';' at the end of the login module");
        if (t != TOK_WORD)
            return fail(&L, errstr, errstr_size, "%s",
                        t == TOK_ERROR ? L.why : "expected an option name or ';'");
        char name[64];
        snprintf(name, sizeof name, "%s", L.text);
        t = next(&L);
        if (t != TOK_CHAR || L.ch != '=')
            return fail(&L, errstr, errstr_size, "expected '=' after option '%s'", name);
        t = next(&L);
        if (t == TOK_ERROR)
            return fail(&L, errstr, errstr_size, "%s value of option '%s'", L.why, name);
        if (t != TOK_WORD && t != TOK_QUOTED)
            return fail(&L, errstr, errstr_size, "option '%s' has no value", name);
        char *value = L.text;
        L.text = NULL;
        if (take_option(out, name, value, errstr, errstr_size))
            return -1;
    }
    t = next(&L);
    if (t != TOK_END)
        return fail(&L, errstr, errstr_size,
                    "more than one login module (sasl.jaas.config takes exactly one)");
    if (!out->username)
        return fail(&L, errstr, errstr_size, "username is missing");
    if (!*out->username)
        return fail(&L, errstr, errstr_size, "username is empty");
    if (!out->password)
        return fail(&L, errstr, errstr_size, "password is missing");
    return 0;
}

void kc_jaas_free(kc_jaas *j)
{
    free(j->username);
    kc_free_secret(j->password);
    j->username = j->password = NULL;
}
