/*
 * kc_config.c: --command-config and -X into kc_settings. One table maps
 * each property name (Kafka's and librdkafka's spelling of the same
 * setting share a row) to the function that checks and stores it; the
 * combination is checked once at the end. See kc_config.h.
 */
#include "kc_config.h"

#include "kc_jaas.h"
#include "kc_net.h"
#include "kc_text.h"
#include "kcp_properties.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_API_KEY 1000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_PARALLELISM 16
#define DEFAULT_CLIENT_ID "kafka-connections"


static const char *const protocol_names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};

const char *kc_security_protocol_name(int protocol)
{
    if (protocol < 0 || protocol >= (int)(sizeof protocol_names / sizeof protocol_names[0]))
        return NULL;
    return protocol_names[protocol];
}

static bool uses_sasl(int protocol)
{
    return protocol == KC_SASL_PLAINTEXT || protocol == KC_SASL_SSL;
}

static bool uses_tls(int protocol)
{
    return protocol == KC_SSL || protocol == KC_SASL_SSL;
}

/* Replaces a string field with a copy of value. */
static int store(char **field, const char *value, bool secret, char *errstr, size_t errstr_size)
{
    char *copy = strdup(value);
    if (!copy)
        return kc_errf(errstr, errstr_size, "out of memory");
    if (secret)
        kc_free_secret(*field);
    else
        free(*field);
    *field = copy;
    return 0;
}

/* ---- one parser per kind of property -------------------------------------- */

typedef struct prop prop;
typedef int (*prop_fn)(kc_config *c, const prop *p, const char *key, const char *value,
                       char *errstr, size_t errstr_size);

struct prop {
    const char *names[2]; /* the setting's names (Kafka's, librdkafka's), or one and NULL */
    prop_fn set;
    size_t field; /* offset of the char * field for set_string */
    bool secret;  /* never quote the value */
    unsigned origins; /* ORIGIN() of each enum kc_setting it gives: where is remembered */
};

#define ORIGIN(setting) (1u << (setting))

static int set_string(kc_config *c, const prop *p, const char *key, const char *value,
                      char *errstr, size_t errstr_size)
{
    (void)key;
    return store((char **)((char *)c + p->field), value, p->secret, errstr, errstr_size);
}

static int set_protocol(kc_config *c, const prop *p, const char *key, const char *value,
                        char *errstr, size_t errstr_size)
{
    (void)p;
    /* librdkafka takes these in any case; Kafka upper-cases before lookup. */
    for (int i = KC_PLAINTEXT; i <= KC_SASL_SSL; i++) {
        if (strcasecmp(value, protocol_names[i]) == 0) {
            c->security_protocol = i;
            return 0;
        }
    }
    return kc_errf(errstr, errstr_size,
                "%s: '%s' is not a security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)",
                key, value);
}

static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

static int set_mechanism(kc_config *c, const prop *p, const char *key, const char *value,
                         char *errstr, size_t errstr_size)
{
    (void)p;
    for (size_t i = 0; i < sizeof mechanisms / sizeof mechanisms[0]; i++)
        if (strcasecmp(value, mechanisms[i]) == 0)
            return store(&c->sasl_mechanism, mechanisms[i], false, errstr, errstr_size);
    return kc_errf(errstr, errstr_size,
                "%s: '%s' is not supported (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", key, value);
}

static int set_jaas(kc_config *c, const prop *p, const char *key, const char *value,
                    char *errstr, size_t errstr_size)
{
    (void)p;
    kc_jaas j;
    char why[256];
    if (kc_jaas_parse(value, &j, why, sizeof why)) {
        kc_jaas_free(&j);
        return kc_errf(errstr, errstr_size, "%s: %s", key, why);
    }
    free(c->sasl_username);
    kc_free_secret(c->sasl_password);
    c->sasl_username = j.username;
    c->sasl_password = j.password;
    c->jaas_module = j.module;
    return 0;
}

/* Kafka's stores default to JKS; only PEM files can be read here. */
static int set_pem_type(kc_config *c, const prop *p, const char *key, const char *value,
                        char *errstr, size_t errstr_size)
{
    (void)c;
    (void)p;
    if (strcasecmp(value, "PEM") == 0)
        return 0;
    return kc_errf(errstr, errstr_size,
                "%s: '%s' is not supported, only PEM (convert the store with keytool and openssl)",
                key, value);
}

/* A PEM keystore holds the certificate chain and the private key together. */
static int set_keystore(kc_config *c, const prop *p, const char *key, const char *value,
                        char *errstr, size_t errstr_size)
{
    (void)p;
    (void)key;
    if (store(&c->ssl_cert, value, false, errstr, errstr_size))
        return -1;
    return store(&c->ssl_key, value, false, errstr, errstr_size);
}

/* A Java client setting with no effect here: remembered once, by name. */
static int set_ignored(kc_config *c, const prop *p, const char *key, const char *value,
                       char *errstr, size_t errstr_size)
{
    (void)p, (void)value;
    for (size_t i = 0; i < c->n_ignored; i++)
        if (strcmp(c->ignored[i], key) == 0)
            return 0;
    char **grown = realloc(c->ignored, (c->n_ignored + 1) * sizeof *grown);
    if (!grown)
        return kc_errf(errstr, errstr_size, "out of memory");
    c->ignored = grown;
    if (!(grown[c->n_ignored] = strdup(key)))
        return kc_errf(errstr, errstr_size, "out of memory");
    c->n_ignored++;
    return 0;
}

static int set_identification(kc_config *c, const prop *p, const char *key, const char *value,
                              char *errstr, size_t errstr_size)
{
    (void)p;
    if (strcasecmp(value, "https") == 0)
        c->verify_hostname = 1;
    else if (!*value || strcasecmp(value, "none") == 0)
        c->verify_hostname = 0;
    else
        return kc_errf(errstr, errstr_size, "%s: '%s' is not supported (https, or empty to disable)",
                    key, value);
    return 0;
}

/* The answer is only worth what the brokers' identities are: librdkafka's
 * switch to skip certificate checks is refused rather than obeyed for the
 * bootstrap alone or for every broker. */
static int set_verification(kc_config *c, const prop *p, const char *key, const char *value,
                            char *errstr, size_t errstr_size)
{
    (void)c;
    (void)p;
    if (strcasecmp(value, "true") == 0)
        return 0;
    if (strcasecmp(value, "false") == 0)
        return kc_errf(errstr, errstr_size,
                       "%s=false is not supported: kafka-connections always verifies broker "
                       "certificates (give their CA with ssl.ca.location or "
                       "ssl.truststore.location)",
                       key);
    return kc_errf(errstr, errstr_size, "%s: '%s' is not true or false", key, value);
}

/* librdkafka security settings that its bootstrap connection would obey
 * and the tool's own connection to each broker would not: refused, or the
 * two would check brokers differently. */
static int set_bootstrap_only(kc_config *c, const prop *p, const char *key, const char *value,
                              char *errstr, size_t errstr_size)
{
    (void)c;
    (void)p;
    (void)value; /* may be a key */
    /* ssl.X.pem has a file counterpart, ssl.X.location. */
    size_t n = strlen(key);
    bool pem = n > 4 && strcmp(key + n - 4, ".pem") == 0;
    return kc_errf(errstr, errstr_size,
                   "%s is not supported: librdkafka would apply it to the bootstrap connection "
                   "only, not to this tool's own connection to each broker%s%.*s%s",
                   key, pem ? " (give a file: " : "", pem ? (int)(n - 4) : 0, key,
                   pem ? ".location)" : "");
}

#define FIELD(f) offsetof(kc_config, f)

static const prop props[] = {
    {{"security.protocol", NULL}, set_protocol, 0, false, 0},
    {{"sasl.mechanism", "sasl.mechanisms"}, set_mechanism, 0, false, ORIGIN(KC_SET_MECHANISM)},
    {{"sasl.jaas.config", NULL}, set_jaas, 0, true, ORIGIN(KC_SET_JAAS)},
    {{"sasl.username", NULL}, set_string, FIELD(sasl_username), false, 0},
    {{"sasl.password", NULL}, set_string, FIELD(sasl_password), true, 0},
    {{"ssl.truststore.location", "ssl.ca.location"}, set_string, FIELD(ssl_ca), false,
     ORIGIN(KC_SET_CA)},
    {{"ssl.keystore.location", NULL}, set_keystore, 0, false,
     ORIGIN(KC_SET_CERT) | ORIGIN(KC_SET_KEY)},
    {{"ssl.certificate.location", NULL}, set_string, FIELD(ssl_cert), false, ORIGIN(KC_SET_CERT)},
    {{"ssl.key.location", NULL}, set_string, FIELD(ssl_key), false, ORIGIN(KC_SET_KEY)},
    {{"ssl.key.password", NULL}, set_string, FIELD(ssl_key_password), true, 0},
    {{"ssl.truststore.type", "ssl.keystore.type"}, set_pem_type, 0, false, 0},
    /* Java client settings without effect here (PEM files need no store
     * password; OpenSSL picks protocols and ciphers; there is no login to
     * refresh; --bootstrap-server is required and wins). */
    {{"ssl.truststore.password", "ssl.keystore.password"}, set_ignored, 0, true, 0},
    {{"ssl.protocol", "ssl.enabled.protocols"}, set_ignored, 0, false, 0},
    {{"ssl.cipher.suites", "ssl.secure.random.implementation"}, set_ignored, 0, false, 0},
    {{"ssl.keymanager.algorithm", "ssl.trustmanager.algorithm"}, set_ignored, 0, false, 0},
    {{"sasl.login.refresh.window.factor", "sasl.login.refresh.window.jitter"}, set_ignored, 0,
     false, 0},
    {{"sasl.login.refresh.min.period.seconds", "sasl.login.refresh.buffer.seconds"}, set_ignored, 0,
     false, 0},
    {{"bootstrap.servers", "default.api.timeout.ms"}, set_ignored, 0, false, 0},
    /* librdkafka's older name for the bootstrap list: never allowed to send
     * the credentials to another cluster than --bootstrap-server names. */
    {{"metadata.broker.list", NULL}, set_ignored, 0, false, 0},
    {{"ssl.endpoint.identification.algorithm", NULL}, set_identification, 0, false, 0},
    {{"enable.ssl.certificate.verification", NULL}, set_verification, 0, false, 0},
    {{"ssl.ca.pem", "ssl.certificate.pem"}, set_bootstrap_only, 0, true, 0},
    {{"ssl.key.pem", "ssl.crl.location"}, set_bootstrap_only, 0, true, 0},
    {{"ssl.curves.list", "ssl.sigalgs.list"}, set_bootstrap_only, 0, false, 0},
    {{"ssl.engine.location", "ssl.engine.id"}, set_bootstrap_only, 0, false, 0},
    {{"ssl.providers", "ssl.ca.certificate.stores"}, set_bootstrap_only, 0, false, 0},
    {{"client.id", NULL}, set_string, FIELD(client_id), false, 0},
};

static const prop *find_prop(const char *key)
{
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        for (int k = 0; k < 2; k++)
            if (props[i].names[k] && strcmp(props[i].names[k], key) == 0)
                return &props[i];
    return NULL;
}

/* Property names that hold credentials, whatever library defines them. */
static bool secret_name(const char *key)
{
    return strstr(key, "password") || strstr(key, "secret") || strstr(key, "jaas") ||
           strstr(key, "token") || strstr(key, ".pem");
}

/* A name this file does not know goes to the bootstrap client if
 * librdkafka accepts it (name and value), and is an error otherwise. */
static int set_rdkafka(kc_config *c, const char *key, const char *value, char *errstr,
                       size_t errstr_size)
{
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf)
        return kc_errf(errstr, errstr_size, "out of memory");
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, value, why, sizeof why);
    rd_kafka_conf_destroy(conf);
    if (res == RD_KAFKA_CONF_UNKNOWN)
        return kc_errf(errstr, errstr_size,
                    "%s: unknown property (neither a Kafka client setting used here nor a "
                    "librdkafka property)",
                    key);
    if (res != RD_KAFKA_CONF_OK) {
        if (secret_name(key))
            return kc_errf(errstr, errstr_size, "%s: invalid value", key);
        return kc_errf(errstr, errstr_size, "%s: %s", key, why);
    }
    for (size_t i = 0; i < c->n_rdkafka; i += 2) {
        if (strcmp(c->rdkafka[i], key) == 0)
            return store(&c->rdkafka[i + 1], value, true, errstr, errstr_size);
    }
    char **grown = realloc(c->rdkafka, (c->n_rdkafka + 3) * sizeof *grown);
    if (!grown)
        return kc_errf(errstr, errstr_size, "out of memory");
    c->rdkafka = grown;
    grown[c->n_rdkafka] = strdup(key);
    grown[c->n_rdkafka + 1] = strdup(value);
    grown[c->n_rdkafka + 2] = NULL;
    if (!grown[c->n_rdkafka] || !grown[c->n_rdkafka + 1]) {
        free(grown[c->n_rdkafka]);
        kc_free_secret(grown[c->n_rdkafka + 1]);
        grown[c->n_rdkafka] = NULL;
        return kc_errf(errstr, errstr_size, "out of memory");
    }
    c->n_rdkafka += 2;
    return 0;
}

/* ---- public ------------------------------------------------------------------ */

void kc_config_init(kc_config *c)
{
    memset(c, 0, sizeof *c);
    c->security_protocol = -1;
    c->verify_hostname = -1;
}

/* Remembers where key, just set, was given. */
static void note_origin(kc_config *c, int setting, const char *key)
{
    kc_origin *o = &c->origin[setting];
    kc_fmt(o->name, sizeof o->name, "%s", key);
    if (c->loading)
        kc_fmt(o->where, sizeof o->where, "%s:%u", c->loading, c->line);
    else
        kc_fmt(o->where, sizeof o->where, "-X");
}

static void note_origins(kc_config *c, const prop *p, const char *key)
{
    for (int setting = 0; setting < KC_SET_N; setting++)
        if (p->origins & ORIGIN(setting))
            note_origin(c, setting, key);
}

int kc_config_set(kc_config *c, const char *key, const char *value, char *errstr,
                  size_t errstr_size)
{
    if (!*key)
        return kc_errf(errstr, errstr_size, "empty property name");
    const prop *p = find_prop(key);
    if (!p)
        return set_rdkafka(c, key, value, errstr, errstr_size);
    int rc = p->set(c, p, key, value, errstr, errstr_size);
    if (rc == 0)
        note_origins(c, p, key);
    return rc;
}

/* Kafka trims every value it reads from a file (ConfigDef), so do we. */
static int set_from_file(void *opaque, unsigned line, const char *key, const char *value,
                         char *errstr, size_t errstr_size)
{
    ((kc_config *)opaque)->line = line;
    size_t n = strlen(value);
    while (n && (unsigned char)value[n - 1] <= ' ')
        n--;
    while (n && (unsigned char)*value <= ' ')
        value++, n--;
    char *trimmed = strndup(value, n);
    if (!trimmed)
        return kc_errf(errstr, errstr_size, "out of memory");
    int rc = kc_config_set(opaque, key, trimmed, errstr, errstr_size);
    kc_free_secret(trimmed);
    return rc;
}

int kc_config_load(kc_config *c, const char *path, char *errstr, size_t errstr_size)
{
    c->loading = path;
    int rc = kcp_properties_load(path, set_from_file, c, errstr, errstr_size);
    c->loading = NULL;
    return rc;
}

int kc_config_set_arg(kc_config *c, const char *arg, char *errstr, size_t errstr_size)
{
    const char *eq = strchr(arg, '=');
    /* Without '=' the whole argument may be a password: quote nothing. */
    if (!eq)
        return kc_errf(errstr, errstr_size, "-X: expected KEY=VALUE (the argument has no '=')");
    char *key = strndup(arg, (size_t)(eq - arg));
    char why[512];
    if (!key)
        return kc_errf(errstr, errstr_size, "out of memory");
    int rc = kc_config_set(c, key, eq + 1, why, sizeof why);
    if (rc)
        kc_errf(errstr, errstr_size, "-X %s", why);
    free(key);
    return rc;
}

/* "FILE:LINE: NAME" or "-X NAME" for a setting given, name otherwise. */
static const char *given_as(const kc_config *c, int setting, const char *name, char *buf,
                            size_t size)
{
    const kc_origin *o = &c->origin[setting];
    if (!o->where[0])
        kc_fmt(buf, size, "%s", name);
    else if (strcmp(o->where, "-X") == 0)
        kc_fmt(buf, size, "-X %s", o->name);
    else
        kc_fmt(buf, size, "%s: %s", o->where, o->name);
    return buf;
}

/* How much of a file is searched for PEM markers: a certificate bundle
 * names its first one at once, a key file in its first lines. */
#define PEM_SNIFF_BYTES (64 * 1024)

/* A file the TLS side will load, checked now so that the error names the
 * setting as the operator wrote it: readable, PEM (a Java keystore is
 * not, and OpenSSL's complaint about it would name librdkafka's property),
 * and for the key, its password given if it is encrypted. */
static int check_pem_file(const kc_config *c, int setting, const char *name, const char *path,
                          char *errstr, size_t errstr_size)
{
    char who[400];
    if (!path)
        return 0;
    given_as(c, setting, name, who, sizeof who);
    FILE *f = fopen(path, "rb");
    if (!f)
        return kc_errf(errstr, errstr_size, "%s: %s: %s", who, path, strerror(errno));
    char *text = malloc(PEM_SNIFF_BYTES);
    if (!text) {
        fclose(f);
        return kc_errf(errstr, errstr_size, "out of memory");
    }
    size_t n = fread(text, 1, PEM_SNIFF_BYTES, f);
    bool dir = n == 0 && ferror(f) && errno == EISDIR;
    fclose(f);
    bool pem = memmem(text, n, "-----BEGIN ", 11) != NULL;
    bool encrypted = memmem(text, n, "ENCRYPTED", 9) != NULL;
    free(text);
    if (dir && setting == KC_SET_CA)
        return 0; /* a directory of hashed CA certificates (c_rehash) */
    if (!pem)
        return kc_errf(errstr, errstr_size,
                       "%s: %s: not a PEM file (a JKS or PKCS12 store? Only PEM is read: "
                       "convert it with keytool and openssl)",
                       who, path);
    if (setting == KC_SET_KEY && encrypted && !c->ssl_key_password)
        return kc_errf(errstr, errstr_size,
                       "%s: %s: the private key is encrypted: set ssl.key.password", who, path);
    return 0;
}

int kc_config_finish(kc_config *c, char *errstr, size_t errstr_size)
{
    kc_settings *s = &c->s;
    int proto = c->security_protocol < 0 ? KC_PLAINTEXT : c->security_protocol;
    memset(s, 0, sizeof *s);
    if (uses_sasl(proto)) {
        if (!c->sasl_mechanism)
            return kc_errf(errstr, errstr_size,
                        "sasl.mechanism is not set (Kafka's default, GSSAPI, is not supported): "
                        "use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
        if (!c->sasl_username || !c->sasl_password)
            return kc_errf(errstr, errstr_size,
                        "security.protocol=%s needs credentials: sasl.jaas.config, or "
                        "sasl.username and sasl.password",
                        protocol_names[proto]);
        if (!*c->sasl_username || !*c->sasl_password) {
            const char *what = *c->sasl_username ? "password" : "username";
            return kc_errf(errstr, errstr_size,
                           "the SASL %s is empty (sasl.%s, or %s= in sasl.jaas.config)", what, what,
                           what);
        }
        bool scram = strncmp(c->sasl_mechanism, "SCRAM-", 6) == 0;
        if (c->jaas_module && (c->jaas_module == KC_JAAS_SCRAM) != scram) {
            char jaas[400];
            const kc_origin *m = &c->origin[KC_SET_MECHANISM];
            return kc_errf(errstr, errstr_size, "%s: %s does not match %s=%s%s%s%s (use %s)",
                           given_as(c, KC_SET_JAAS, "sasl.jaas.config", jaas, sizeof jaas),
                           scram ? "PlainLoginModule" : "ScramLoginModule",
                           m->name[0] ? m->name : "sasl.mechanism", c->sasl_mechanism,
                           m->where[0] ? " (" : "", m->where, m->where[0] ? ")" : "",
                           scram ? "ScramLoginModule" : "PlainLoginModule");
        }
    } else if (c->sasl_mechanism || c->sasl_username || c->sasl_password) {
        /* Credentials that would silently go unused usually mean a missing
         * security.protocol: connecting anonymously instead would answer
         * a different question. */
        return kc_errf(errstr, errstr_size,
                    "SASL settings are given but security.protocol is %s: use SASL_PLAINTEXT or "
                    "SASL_SSL",
                    protocol_names[proto]);
    }
    if (uses_tls(proto)) {
        if (!c->ssl_cert != !c->ssl_key)
            return kc_errf(errstr, errstr_size, "%s",
                        c->ssl_cert ? "ssl.certificate.location needs ssl.key.location"
                                    : "ssl.key.location needs ssl.certificate.location");
        if (check_pem_file(c, KC_SET_CA, "ssl.truststore.location", c->ssl_ca, errstr,
                           errstr_size) ||
            check_pem_file(c, KC_SET_CERT, "ssl.certificate.location", c->ssl_cert, errstr,
                           errstr_size) ||
            check_pem_file(c, KC_SET_KEY, "ssl.key.location", c->ssl_key, errstr, errstr_size))
            return -1;
    }
    /* Not an error, unlike unused SASL credentials: Kafka clients share
     * files that carry ssl.* settings for every listener. But a forgotten
     * security.protocol=SSL would connect in the clear, so it is said. */
    c->tls_unused = !uses_tls(proto) && (c->ssl_ca || c->ssl_cert || c->ssl_key || c->ssl_key_password);
    s->security_protocol = proto;
    if (uses_sasl(proto)) {
        s->sasl_mechanism = c->sasl_mechanism;
        s->sasl_username = c->sasl_username;
        s->sasl_password = c->sasl_password;
    }
    if (uses_tls(proto)) {
        s->ssl_ca_location = c->ssl_ca;
        s->ssl_certificate_location = c->ssl_cert;
        s->ssl_key_location = c->ssl_key;
        s->ssl_key_password = c->ssl_key_password;
    }
    s->verify_hostname = c->verify_hostname != 0;
    s->api_key = DEFAULT_API_KEY;
    s->timeout_ms = DEFAULT_TIMEOUT_MS;
    s->parallelism = DEFAULT_PARALLELISM;
    s->client_id = c->client_id ? c->client_id : DEFAULT_CLIENT_ID;
    s->librdkafka_props = (const char **)c->rdkafka;
    return 0;
}

void kc_config_free(kc_config *c)
{
    free(c->sasl_mechanism);
    free(c->sasl_username);
    kc_free_secret(c->sasl_password);
    free(c->ssl_ca);
    free(c->ssl_cert);
    free(c->ssl_key);
    kc_free_secret(c->ssl_key_password);
    free(c->client_id);
    for (size_t i = 0; i < c->n_rdkafka; i += 2) {
        free(c->rdkafka[i]);
        kc_free_secret(c->rdkafka[i + 1]);
    }
    free(c->rdkafka);
    for (size_t i = 0; i < c->n_ignored; i++)
        free(c->ignored[i]);
    free(c->ignored);
    kc_config_init(c);
}
