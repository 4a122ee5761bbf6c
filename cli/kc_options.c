/*
 * kc_options.c: getopt_long over kafka-connections' flags, then the checks
 * that need several flags at once. Flags are spelled as Apache Kafka's
 * tools spell them (--bootstrap-server, --command-config) and -X as kcat's.
 * See kc_options.h.
 */
#include "kc_options.h"

#include "kc_columns.h"
#include "kc_text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void kc_usage(FILE *f)
{
    fputs(
        "usage: kafka-connections --bootstrap-server HOST:PORT[,HOST:PORT...] [options]\n"
        "\n"
        "Lists who is connected to every broker of a Kafka cluster (DescribeConnections).\n"
        "\n"
        "Connection:\n"
        "  --bootstrap-server LIST   brokers to bootstrap from (required)\n"
        "  --command-config FILE     Kafka client properties (security.protocol,\n"
        "                            sasl.mechanism, sasl.jaas.config, ssl.*)\n"
        "  -X KEY=VALUE              a property by Kafka's or librdkafka's name (repeatable;\n"
        "                            overrides the file)\n"
        "  --broker ID               ask only this broker (repeatable)\n"
        "  --parallelism N           brokers asked at once (default 16)\n"
        "  --timeout MS              time allowed per broker (default 30000)\n"
        "  --api-key N               DescribeConnections' API key (default 1000)\n"
        "Filters, applied by the brokers (repeated values of one filter: any of them):\n"
        "  --principal P             User:alice, or alice for User:alice\n"
        "  --listener NAME           listener that accepted the connection\n"
        "  --client-address IP|CIDR  client address\n"
        "  --client-software NAME[/VERSION]\n"
        "  --client-id ID            latest client.id of the connection\n"
        "  --idle-longer-than DUR    idle at least DUR (500ms, 30s, 5m, 1h, 2d)\n"
        "  --state open|closed|all   current connections (default), recently closed, or both\n"
        "  --limit N                 at most N connections from each broker\n"
        "Output:\n"
        "  --group-by KEY            principal (default), broker, client-software,\n"
        "                            client-address, listener, or none: one line per\n"
        "                            connection (the default for CSV)\n"
        "  --summary                 counts only (the brokers' summary mode)\n"
        "  --sort FIELD[:asc|:desc]  order of the lines\n"
        "  --columns A,B,...         columns of table and CSV output\n"
        "  --output table|json|csv   format (default table)\n"
        "  --expect-none             exit 1 if any connection matches the filters\n"
        "  --watch SECONDS           refresh every SECONDS until Ctrl-C\n"
        "  --version, --help (-h)\n"
        "\n"
        "Exit status: 0 success (and with --expect-none, nothing matched); 1 --expect-none\n"
        "and something matched; 2 usage or configuration error; 3 incomplete: some broker\n"
        "failed or denied the request, or showed only the caller's own connections when\n"
        "others were asked about (the rest is still printed, stderr says why); 4 bootstrap\n"
        "failed or no broker accepted the credentials.\n"
        "See kafka-connections(1).\n",
        f);
}

enum {
    OPT_BOOTSTRAP = 256,
    OPT_COMMAND_CONFIG,
    OPT_PRINCIPAL,
    OPT_LISTENER,
    OPT_CLIENT_ADDRESS,
    OPT_CLIENT_SOFTWARE,
    OPT_CLIENT_ID,
    OPT_IDLE,
    OPT_STATE,
    OPT_LIMIT,
    OPT_GROUP_BY,
    OPT_SUMMARY,
    OPT_SORT,
    OPT_COLUMNS,
    OPT_OUTPUT,
    OPT_EXPECT_NONE,
    OPT_WATCH,
    OPT_PARALLELISM,
    OPT_TIMEOUT,
    OPT_BROKER,
    OPT_API_KEY,
    OPT_VERSION,
    OPT_HELP
};

static const struct option long_options[] = {
    {"bootstrap-server", required_argument, NULL, OPT_BOOTSTRAP},
    {"command-config", required_argument, NULL, OPT_COMMAND_CONFIG},
    {"principal", required_argument, NULL, OPT_PRINCIPAL},
    {"listener", required_argument, NULL, OPT_LISTENER},
    {"client-address", required_argument, NULL, OPT_CLIENT_ADDRESS},
    {"client-software", required_argument, NULL, OPT_CLIENT_SOFTWARE},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"idle-longer-than", required_argument, NULL, OPT_IDLE},
    {"state", required_argument, NULL, OPT_STATE},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"group-by", required_argument, NULL, OPT_GROUP_BY},
    {"summary", no_argument, NULL, OPT_SUMMARY},
    {"sort", required_argument, NULL, OPT_SORT},
    {"columns", required_argument, NULL, OPT_COLUMNS},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"expect-none", no_argument, NULL, OPT_EXPECT_NONE},
    {"watch", required_argument, NULL, OPT_WATCH},
    {"parallelism", required_argument, NULL, OPT_PARALLELISM},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"broker", required_argument, NULL, OPT_BROKER},
    {"api-key", required_argument, NULL, OPT_API_KEY},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};


int kc_parse_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
    const char *p = text;
    bool neg = *p == '-';
    int64_t v = 0;
    if (neg || *p == '+')
        p++;
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int add(kc_strlist *l, char *owned, char *errstr, size_t errstr_size)
{
    char **v = owned ? realloc(l->v, (l->n + 1) * sizeof *v) : NULL;
    if (!v) {
        free(owned);
        return kc_errf(errstr, errstr_size, "out of memory");
    }
    l->v = v;
    l->v[l->n++] = owned;
    return 0;
}

static void strlist_free(kc_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- values of one option ------------------------------------------------------- */

/* HOST:PORT[,HOST:PORT...], IPv6 hosts in brackets. */
static int check_bootstrap(const char *list, char *errstr, size_t errstr_size)
{
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = NULL;
        for (size_t i = len; i > 0 && !colon; i--)
            if (p[i - 1] == ':')
                colon = p + i - 1;
        int64_t port;
        char portbuf[8];
        size_t plen = colon ? len - (size_t)(colon + 1 - p) : 0;
        bool ok = colon && colon > p && plen > 0 && plen < sizeof portbuf;
        if (ok) {
            memcpy(portbuf, colon + 1, plen);
            portbuf[plen] = '\0';
            ok = kc_parse_int(portbuf, 1, 65535, &port) == 0;
        }
        /* An IPv6 literal needs brackets, or its last group reads as the port. */
        if (ok && memchr(p, ':', (size_t)(colon - p)))
            ok = p[0] == '[' && colon[-1] == ']';
        if (!ok)
            return kc_errf(errstr, errstr_size,
                        "--bootstrap-server: '%.*s' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)",
                        (int)len, p);
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* Kafka writes principals as Type:name; a bare name is a user. */
static int add_principal(kc_options *o, const char *arg, char *errstr, size_t errstr_size)
{
    const char *colon = strchr(arg, ':');
    if (!*arg)
        return kc_errf(errstr, errstr_size, "--principal: empty principal");
    if (colon == arg)
        return kc_errf(errstr, errstr_size, "--principal: '%s' has no type before ':' (User:NAME)",
                    arg);
    if (colon && !colon[1])
        return kc_errf(errstr, errstr_size, "--principal: '%s' has no name after ':'", arg);
    char *p;
    if (colon) {
        p = strdup(arg);
    } else {
        p = malloc(strlen(arg) + 6);
        if (p)
            sprintf(p, "User:%s", arg);
    }
    return add(&o->principals, p, errstr, errstr_size);
}

/* An IPv4 or IPv6 address, optionally /PREFIX: the brokers take no names. */
static int add_address(kc_options *o, const char *arg, char *errstr, size_t errstr_size)
{
    char host[64];
    unsigned char bin[16];
    const char *slash = strchr(arg, '/');
    size_t hlen = slash ? (size_t)(slash - arg) : strlen(arg);
    bool ok = hlen > 0 && hlen < sizeof host;
    int family = AF_INET;
    if (ok) {
        memcpy(host, arg, hlen);
        host[hlen] = '\0';
        family = strchr(host, ':') ? AF_INET6 : AF_INET;
        ok = inet_pton(family, host, bin) == 1;
    }
    int64_t prefix;
    if (ok && slash)
        ok = kc_parse_int(slash + 1, 0, family == AF_INET ? 32 : 128, &prefix) == 0 &&
             isdigit((unsigned char)slash[1]);
    if (!ok)
        return kc_errf(errstr, errstr_size,
                    "--client-address: '%s' is not an IP address or CIDR block (10.1.2.3, "
                    "10.1.0.0/16, 2001:db8::/32)",
                    arg);
    return add(&o->client_addresses, strdup(arg), errstr, errstr_size);
}

/* KIP-511's pattern for client software names and versions:
 * [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? */
static bool kip511(const char *s, size_t n)
{
    if (!n || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

static int add_software(kc_options *o, const char *arg, char *errstr, size_t errstr_size)
{
    const char *slash = strchr(arg, '/');
    size_t n = slash ? (size_t)(slash - arg) : strlen(arg);
    if (!kip511(arg, n) || (slash && !kip511(slash + 1, strlen(slash + 1))))
        return kc_errf(errstr, errstr_size,
                    "--client-software: '%s' is not NAME or NAME/VERSION (letters, digits, '-' "
                    "and '.', starting and ending with a letter or digit)",
                    arg);
    return add(&o->client_software, strdup(arg), errstr, errstr_size);
}

/* Kafka upper-cases listener names when it reads its configuration. */
static int add_listener(kc_options *o, const char *arg, char *errstr, size_t errstr_size)
{
    if (!*arg)
        return kc_errf(errstr, errstr_size, "--listener: empty listener name");
    char *name = strdup(arg);
    for (char *p = name; p && *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return add(&o->listeners, name, errstr, errstr_size);
}

static int number(const char *opt, const char *arg, int64_t min, int64_t max, int64_t *out,
                  char *errstr, size_t errstr_size)
{
    if (kc_parse_int(arg, min, max, out) == 0)
        return 0;
    return kc_errf(errstr, errstr_size, "%s: '%s' is not a whole number from %lld to %lld", opt, arg,
                (long long)min, (long long)max);
}

static int choice(const char *opt, const char *arg, const char *const *names, size_t n, int *out,
                  const char *valid, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(arg, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return kc_errf(errstr, errstr_size, "%s: '%s' is not %s", opt, arg, valid);
}

static const char *const output_names[] = {"table", "json", "csv"};
static const char *const state_names[] = {"open", "closed", "all"};

/* An argument getopt refused. Print it only up to any '=', since
 * "--pasword=..." must not echo what follows. */
static int bad_option(char **argv, int next, int opt, char *errstr, size_t errstr_size)
{
    const char *arg = next > 0 ? argv[next - 1] : "?";
    int n = (int)strcspn(arg, "=");
    if (opt > 0 && opt < 256)
        return kc_errf(errstr, errstr_size, "unknown option '-%c'", opt);
    if (opt >= 256)
        return kc_errf(errstr, errstr_size, "option '%.*s' takes no value", n, arg);
    size_t matches = 0;
    for (const struct option *l = long_options; l->name && strncmp(arg, "--", 2) == 0; l++)
        matches += strncmp(l->name, arg + 2, (size_t)n - 2) == 0;
    if (matches > 1)
        return kc_errf(errstr, errstr_size, "option '%.*s' is ambiguous", n, arg);
    return kc_errf(errstr, errstr_size, "unknown option '%.*s'", n, arg);
}

/* ---- the whole command line ------------------------------------------------------ */

/* Options that take one value: given twice, which one was meant is a
 * guess (a second --command-config would hide the first's errors), so it
 * is an error, as with Kafka's own tools. */
static const struct option *long_option(int c)
{
    for (const struct option *o = long_options; o->name; o++)
        if (o->val == c)
            return o;
    return NULL;
}

/* Every long option with a value but the filters and --broker, which add
 * one value each time they are given. */
static bool single_valued(int c)
{
    const struct option *o = long_option(c);
    return o && o->has_arg == required_argument && c != OPT_PRINCIPAL && c != OPT_LISTENER &&
           c != OPT_CLIENT_ADDRESS && c != OPT_CLIENT_SOFTWARE && c != OPT_CLIENT_ID &&
           c != OPT_BROKER;
}

static uint64_t option_bit(int c)
{
    return (uint64_t)1 << (c - OPT_BOOTSTRAP);
}

static int parse_one(kc_options *o, int c, const char *arg, const char **sort,
                     const char **columns, bool *group_set, char *errstr, size_t errstr_size)
{
    int64_t v;
    switch (c) {
    case OPT_BOOTSTRAP:
        if (check_bootstrap(arg, errstr, errstr_size))
            return -1;
        o->bootstrap = arg;
        return 0;
    case OPT_COMMAND_CONFIG: o->command_config = arg; return 0;
    case 'X':
        /* Without '=' the whole argument may be a password: quote nothing. */
        if (!strchr(arg, '='))
            return kc_errf(errstr, errstr_size, "-X: expected KEY=VALUE (the argument has no '=')");
        if (arg[0] == '=')
            return kc_errf(errstr, errstr_size, "-X: expected KEY=VALUE (the key is empty)");
        return add(&o->props, strdup(arg), errstr, errstr_size);
    case OPT_PRINCIPAL: return add_principal(o, arg, errstr, errstr_size);
    case OPT_LISTENER: return add_listener(o, arg, errstr, errstr_size);
    case OPT_CLIENT_ADDRESS: return add_address(o, arg, errstr, errstr_size);
    case OPT_CLIENT_SOFTWARE: return add_software(o, arg, errstr, errstr_size);
    case OPT_CLIENT_ID: return add(&o->client_ids, strdup(arg), errstr, errstr_size);
    case OPT_IDLE:
        if (kc_parse_duration(arg, &o->min_idle_ms))
            return kc_errf(errstr, errstr_size,
                        "--idle-longer-than: '%s' is not a duration (500ms, 30s, 5m, 1h, 2d, 1h30m)",
                        arg);
        return 0;
    case OPT_STATE:
        return choice("--state", arg, state_names, 3, &o->state, "open, closed or all", errstr,
                      errstr_size);
    case OPT_LIMIT:
        if (number("--limit", arg, 1, INT32_MAX, &v, errstr, errstr_size))
            return -1;
        o->limit = (int32_t)v;
        return 0;
    case OPT_GROUP_BY:
        o->group_by = kc_group_by_parse(arg);
        *group_set = true;
        if (o->group_by < 0)
            return kc_errf(errstr, errstr_size,
                        "--group-by: '%s' is not principal, broker, client-software, "
                        "client-address, listener or none",
                        arg);
        return 0;
    case OPT_SUMMARY: o->summary = true; return 0;
    case OPT_SORT: *sort = arg; return 0;
    case OPT_COLUMNS: *columns = arg; return 0;
    case OPT_OUTPUT:
        return choice("--output", arg, output_names, 3, &o->output, "table, json or csv", errstr,
                      errstr_size);
    case OPT_EXPECT_NONE: o->expect_none = true; return 0;
    case OPT_WATCH:
        if (number("--watch", arg, 1, 86400, &v, errstr, errstr_size))
            return -1;
        o->watch_s = (int)v;
        return 0;
    case OPT_PARALLELISM:
        if (number("--parallelism", arg, 1, 1024, &v, errstr, errstr_size))
            return -1;
        o->parallelism = (int)v;
        return 0;
    case OPT_TIMEOUT:
        if (number("--timeout", arg, 1, INT32_MAX, &v, errstr, errstr_size))
            return -1;
        o->timeout_ms = (int)v;
        return 0;
    case OPT_BROKER: {
        if (number("--broker", arg, 0, INT32_MAX, &v, errstr, errstr_size))
            return -1;
        int32_t *b = realloc(o->brokers, (o->n_brokers + 1) * sizeof *b);
        if (!b)
            return kc_errf(errstr, errstr_size, "out of memory");
        o->brokers = b;
        o->brokers[o->n_brokers++] = (int32_t)v;
        return 0;
    }
    case OPT_API_KEY:
        if (number("--api-key", arg, 0, INT16_MAX, &v, errstr, errstr_size))
            return -1;
        o->api_key = (int)v;
        return 0;
    case OPT_VERSION: o->version = true; return 0;
    case OPT_HELP:
    case 'h': o->help = true; return 0;
    default: return kc_errf(errstr, errstr_size, "unexpected option");
    }
}

/* Checks between options, once all are known. */
static int check_combination(kc_options *o, bool group_set, const char *sort, const char *columns,
                             char *errstr, size_t errstr_size)
{
    if (!o->bootstrap)
        return kc_errf(errstr, errstr_size, "--bootstrap-server is required");
    /* A CSV file is for programs: one row per connection unless asked to
     * group; a table is for people: one line per principal. */
    if (!group_set)
        o->group_by = o->output == KC_OUTPUT_CSV && !o->summary ? KC_GROUP_NONE : KC_GROUP_PRINCIPAL;
    if (o->summary && (o->group_by == KC_GROUP_NONE || o->group_by == KC_GROUP_CLIENT_ADDRESS))
        return kc_errf(errstr, errstr_size,
                    "--summary cannot be combined with --group-by %s (summaries carry counts "
                    "by principal, broker, listener and client software)",
                    kc_group_by_name(o->group_by));
    if (o->summary && o->limit)
        return kc_errf(errstr, errstr_size, "--limit has no effect with --summary (summaries are "
                                         "never cut short)");
    if (o->watch_s && o->expect_none)
        return kc_errf(errstr, errstr_size, "--expect-none cannot be combined with --watch");
    if (o->watch_s && o->output == KC_OUTPUT_CSV)
        return kc_errf(errstr, errstr_size,
                    "--watch writes a table to a terminal and JSON lines otherwise, not CSV");
    if (columns && o->output == KC_OUTPUT_JSON)
        return kc_errf(errstr, errstr_size,
                    "--columns applies to table and CSV output; the JSON object is fixed");
    if (sort && kc_sort_parse(o->group_by, o->summary, sort, &o->sort, errstr, errstr_size))
        return -1;
    if (columns && kc_columns_parse(o->group_by, o->summary, columns, &o->columns, &o->n_columns,
                                    errstr, errstr_size))
        return -1;
    return 0;
}

int kc_options_parse(kc_options *o, int argc, char **argv, char *errstr, size_t errstr_size)
{
    memset(o, 0, sizeof *o);
    o->min_idle_ms = -1;
    o->api_key = -1;
    o->sort.column = -1;
    const char *sort = NULL, *columns = NULL;
    bool group_set = false;
    uint64_t given = 0;
    int c;
    /* optind = 0 makes glibc start over, so the parser can run more than once. */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":X:h", long_options, NULL)) != -1) {
        if (c == '?')
            return bad_option(argv, optind, optopt, errstr, errstr_size);
        if (c == ':') {
            const char *arg = argv[optind - 1];
            if (optopt && optopt < 256)
                return kc_errf(errstr, errstr_size, "option '-%c' needs a value", optopt);
            return kc_errf(errstr, errstr_size, "option '%.*s' needs a value",
                        (int)strcspn(arg, "="), arg);
        }
        if (single_valued(c)) {
            if (given & option_bit(c))
                return kc_errf(errstr, errstr_size, "option '--%s' is given more than once",
                               long_option(c)->name);
            given |= option_bit(c);
        }
        if (parse_one(o, c, optarg, &sort, &columns, &group_set, errstr, errstr_size))
            return -1;
    }
    if (optind < argc) {
        /* "-X sasl.password= secret": the stray word may be the secret. */
        const char *prev = optind > 1 ? argv[optind - 1] : "";
        size_t n = strlen(prev);
        if (n && prev[n - 1] == '=')
            return kc_errf(errstr, errstr_size,
                           "unexpected argument after '%.*s' (a space after '='? The argument "
                           "is not shown: it may be a secret)",
                           (int)strcspn(prev, "="), prev);
        return kc_errf(errstr, errstr_size, "unexpected argument '%s'", argv[optind]);
    }
    if (o->help || o->version)
        return 0;
    return check_combination(o, group_set, sort, columns, errstr, errstr_size);
}

void kc_options_free(kc_options *o)
{
    for (size_t i = 0; i < o->props.n; i++)
        kc_free_secret(o->props.v[i]);
    free(o->props.v);
    strlist_free(&o->principals);
    strlist_free(&o->listeners);
    strlist_free(&o->client_addresses);
    strlist_free(&o->client_software);
    strlist_free(&o->client_ids);
    free(o->columns);
    free(o->brokers);
    memset(o, 0, sizeof *o);
}
