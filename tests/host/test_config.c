/* kafka-connections-broker's configuration: Properties syntax, every
 * property and its default, overrides, and each error an operator can see.
 * Files are written to a temporary directory under BUILD_DIR. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kb_config.h"
#include "kcb.h"

typedef struct fixture {
    char dir[PATH_MAX / 2]; /* leaves room for a file name in path */
    char path[PATH_MAX];
} fixture;

static int group_setup(void **state)
{
    const char *build = getenv("BUILD_DIR");
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    int n = snprintf(f->dir, sizeof f->dir, "%s/config-test-XXXXXX", build ? build : ".");
    if (n < 0 || (size_t)n >= sizeof f->dir || !mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/server.properties", f->dir);
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

static void write_file(const fixture *f, const char *text)
{
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

/* Loads text (as the properties file) plus NULL-terminated overrides. */
static int load(void **state, kb_config *cfg, char *err, size_t err_size, const char *text, ...)
{
    const fixture *f = *state;
    write_file(f, text);
    char *ov[16];
    size_t n = 0;
    va_list ap;
    va_start(ap, text);
    for (char *o; (o = va_arg(ap, char *)) != NULL;) {
        assert_true(n < sizeof ov / sizeof ov[0]);
        ov[n++] = o;
    }
    va_end(ap);
    return kb_config_load(cfg, f->path, ov, n, err, err_size);
}

static void assert_endpoint(const kb_endpoint *e, const char *listener, int protocol,
                            const char *host, unsigned port)
{
    assert_string_equal(e->listener, listener);
    assert_int_equal(e->security_protocol, protocol);
    assert_string_equal(e->host, host);
    assert_int_equal(e->port, port);
}

#define MINIMAL "node.id=1\nlisteners=PLAINTEXT://127.0.0.1:9092\n"

static void full_file_sets_every_property(void **state)
{
    static const char text[] =
        "# every property the broker reads\n"
        "node.id=1\n"
        "broker.id=1\n"
        "cluster.id=test-cluster\n"
        "listeners=CLIENT://127.0.0.1:9092,SECURE://[::1]:9192,INTERNAL://:9093\n"
        "advertised.listeners=CLIENT://broker1.example:9092,SECURE://[::1]:9192\n"
        "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,SECURE:sasl_ssl,"
        "INTERNAL:PLAINTEXT\n"
        "cluster.nodes=1@CLIENT://broker1.example:9092,1@SECURE://[::1]:9192,"
        "2@CLIENT://broker2.example:9094\n"
        "sasl.enabled.mechanisms=SCRAM-SHA-512, PLAIN\n"
        "sasl.sasldb.path=/etc/kb/sasldb2\n"
        "sasl.realm=EXAMPLE\n"
        "super.users=User:admin;User:ops\n"
        "connections.max.idle.ms=300000\n"
        "connections.max.reauth.ms=3600000\n"
        "connections.auth.timeout.ms=5000\n"
        "socket.request.max.bytes=1048576\n"
        "max.connections=500\n"
        "num.network.threads=8\n"
        "ssl.keystore.type=PEM\n"
        "ssl.keystore.location=/etc/kb/server.pem\n"
        "ssl.key.password=secret\n"
        "ssl.truststore.type=PEM\n"
        "ssl.truststore.location=/etc/kb/ca.pem\n"
        "ssl.client.auth=requested\n"
        "describe.connections.api.key=1001\n"
        "connections.history.size=50\n"
        "connections.history.max.age.ms=120000\n"
        "metrics.listener=[::1]:9404\n"
        "test.synthetic.connections=1000\n";
    kb_config c;
    char err[256];
    assert_int_equal(load(state, &c, err, sizeof err, text, NULL), 0);
    assert_int_equal(c.node_id, 1);
    assert_string_equal(c.cluster_id, "test-cluster");

    assert_int_equal(c.n_listeners, 3);
    assert_endpoint(&c.listeners[0], "CLIENT", KCB_SASL_PLAINTEXT, "127.0.0.1", 9092);
    assert_endpoint(&c.listeners[1], "SECURE", KCB_SASL_SSL, "::1", 9192);
    assert_endpoint(&c.listeners[2], "INTERNAL", KCB_PLAINTEXT, "", 9093);
    assert_int_equal(c.n_advertised, 2);
    assert_endpoint(&c.advertised[0], "CLIENT", KCB_SASL_PLAINTEXT, "broker1.example", 9092);
    assert_endpoint(&c.advertised[1], "SECURE", KCB_SASL_SSL, "::1", 9192);

    assert_int_equal(c.n_nodes, 2);
    assert_int_equal(c.nodes[0].id, 1);
    assert_int_equal(c.nodes[0].n_endpoints, 2);
    assert_endpoint(&c.nodes[0].endpoints[1], "SECURE", KCB_SASL_SSL, "::1", 9192);
    assert_int_equal(c.nodes[1].id, 2);
    assert_int_equal(c.nodes[1].n_endpoints, 1);
    assert_endpoint(&c.nodes[1].endpoints[0], "CLIENT", KCB_SASL_PLAINTEXT, "broker2.example",
                    9094);

    assert_int_equal(c.n_sasl_mechanisms, 2);
    assert_string_equal(c.sasl_mechanisms[0], "SCRAM-SHA-512");
    assert_string_equal(c.sasl_mechanisms[1], "PLAIN");
    assert_string_equal(c.sasldb_path, "/etc/kb/sasldb2");
    assert_string_equal(c.sasl_realm, "EXAMPLE");
    assert_string_equal(c.super_users, "User:admin;User:ops");
    assert_int_equal(c.connections_max_idle_ms, 300000);
    assert_int_equal(c.connections_max_reauth_ms, 3600000);
    assert_int_equal(c.auth_timeout_ms, 5000);
    assert_int_equal(c.socket_request_max_bytes, 1048576);
    assert_int_equal(c.max_connections, 500);
    assert_int_equal(c.num_network_threads, 8);
    assert_string_equal(c.ssl_keystore_location, "/etc/kb/server.pem");
    assert_string_equal(c.ssl_key_password, "secret");
    assert_string_equal(c.ssl_truststore_location, "/etc/kb/ca.pem");
    assert_int_equal(c.ssl_client_auth, KB_CLIENT_AUTH_REQUESTED);
    assert_int_equal(c.describe_connections_api_key, 1001);
    assert_int_equal(c.history_size, 50);
    assert_int_equal(c.history_max_age_ms, 120000);
    assert_string_equal(c.metrics_listener, "[::1]:9404");
    assert_string_equal(c.metrics_host, "::1");
    assert_int_equal(c.metrics_port, 9404);
    assert_int_equal(c.test_synthetic_connections, 1000);
    assert_int_equal(c.n_ignored, 0);

    assert_ptr_equal(kb_config_advertised(&c, "secure"), &c.advertised[1]);
    assert_null(kb_config_advertised(&c, "INTERNAL"));
    kb_config_free(&c);
    assert_null(c.listeners);
    kb_config_free(&c);
}

static void defaults_fill_unset_properties(void **state)
{
    kb_config c;
    char err[256];
    assert_int_equal(load(state, &c, err, sizeof err, MINIMAL, NULL), 0);
    assert_int_equal(c.node_id, 1);
    assert_string_equal(c.cluster_id, "kafka-connections");
    assert_int_equal(c.n_listeners, 1);
    assert_endpoint(&c.listeners[0], "PLAINTEXT", KCB_PLAINTEXT, "127.0.0.1", 9092);
    assert_int_equal(c.n_advertised, 1);
    assert_endpoint(&c.advertised[0], "PLAINTEXT", KCB_PLAINTEXT, "127.0.0.1", 9092);
    assert_ptr_not_equal(c.advertised[0].host, c.listeners[0].host);
    assert_int_equal(c.n_nodes, 1);
    assert_int_equal(c.nodes[0].id, 1);
    assert_int_equal(c.nodes[0].n_endpoints, 1);
    assert_endpoint(&c.nodes[0].endpoints[0], "PLAINTEXT", KCB_PLAINTEXT, "127.0.0.1", 9092);
    assert_int_equal(c.n_sasl_mechanisms, 3);
    assert_string_equal(c.sasl_mechanisms[0], "PLAIN");
    assert_string_equal(c.sasl_mechanisms[1], "SCRAM-SHA-256");
    assert_string_equal(c.sasl_mechanisms[2], "SCRAM-SHA-512");
    assert_null(c.sasldb_path);
    assert_string_equal(c.sasl_realm, "kafka");
    assert_null(c.super_users);
    assert_int_equal(c.connections_max_idle_ms, 600000);
    assert_int_equal(c.connections_max_reauth_ms, 0);
    assert_int_equal(c.auth_timeout_ms, 10000);
    assert_int_equal(c.socket_request_max_bytes, 104857600);
    assert_int_equal(c.max_connections, 2147483647);
    assert_int_equal(c.num_network_threads, 3);
    assert_null(c.ssl_keystore_location);
    assert_null(c.ssl_key_password);
    assert_null(c.ssl_truststore_location);
    assert_int_equal(c.ssl_client_auth, KB_CLIENT_AUTH_NONE);
    assert_int_equal(c.describe_connections_api_key, KCB_DESCRIBE_CONNECTIONS_KEY);
    assert_int_equal(c.history_size, 1000);
    assert_int_equal(c.history_max_age_ms, 600000);
    assert_null(c.metrics_listener);
    assert_null(c.metrics_host);
    assert_int_equal(c.metrics_port, 0);
    assert_int_equal(c.test_synthetic_connections, 0);
    kb_config_free(&c);
}

static void overrides_win_over_the_file(void **state)
{
    kb_config c;
    char err[256];
    assert_int_equal(load(state, &c, err, sizeof err,
                          MINIMAL "num.network.threads=4\nmax.connections=7\n",
                          "num.network.threads=5", " max.connections = 10 ",
                          "num.network.threads=6", "cluster.id=a=b", NULL),
                     0);
    assert_int_equal(c.num_network_threads, 6);
    assert_int_equal(c.max_connections, 10);
    assert_string_equal(c.cluster_id, "a=b");
    kb_config_free(&c);
}

static void overrides_alone_need_no_file(void **state)
{
    char *ov[] = {"node.id=3", "listeners=PLAINTEXT://localhost:9092"};
    kb_config c;
    char err[256];
    assert_int_equal(kb_config_load(&c, NULL, ov, 2, err, sizeof err), 0);
    assert_int_equal(c.node_id, 3);
    assert_endpoint(&c.advertised[0], "PLAINTEXT", KCB_PLAINTEXT, "localhost", 9092);
    kb_config_free(&c);

    /* An empty file is valid Properties syntax. */
    assert_int_equal(load(state, &c, err, sizeof err, "", ov[0], ov[1], NULL), 0);
    assert_int_equal(c.node_id, 3);
    kb_config_free(&c);
}

static void broker_id_is_an_alias_of_node_id(void **state)
{
    kb_config c;
    char err[256];
    assert_int_equal(load(state, &c, err, sizeof err,
                          "broker.id=42\nlisteners=PLAINTEXT://127.0.0.1:9092\n", NULL),
                     0);
    assert_int_equal(c.node_id, 42);
    assert_int_equal(c.nodes[0].id, 42);
    kb_config_free(&c);
}

static void ipv6_listeners_and_listener_names(void **state)
{
    kb_config c;
    char err[256];
    assert_int_equal(load(state, &c, err, sizeof err,
                          "node.id=0\n"
                          "listeners=plaintext://[::1]:9092,Internal://[::]:9093,"
                          "OTHER://[2001:db8::7]:9094\n"
                          "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,"
                          "internal:plaintext,OTHER:PLAINTEXT\n"
                          "advertised.listeners=PLAINTEXT://[::1]:9092,INTERNAL://[fe80::1]:9093\n"
                          "metrics.listener=127.0.0.1:9404\n",
                          NULL),
                     0);
    assert_endpoint(&c.listeners[0], "PLAINTEXT", KCB_PLAINTEXT, "::1", 9092);
    assert_endpoint(&c.listeners[1], "INTERNAL", KCB_PLAINTEXT, "::", 9093);
    assert_endpoint(&c.listeners[2], "OTHER", KCB_PLAINTEXT, "2001:db8::7", 9094);
    assert_endpoint(kb_config_advertised(&c, "Internal"), "INTERNAL", KCB_PLAINTEXT, "fe80::1",
                    9093);
    assert_string_equal(c.metrics_host, "127.0.0.1");
    assert_int_equal(c.metrics_port, 9404);
    kb_config_free(&c);
}

/* The syntax itself is tested in tests/unit/test_properties.c; here what
 * the broker makes of what the file says: values trimmed as Kafka does, an
 * empty value the same as none. */
static void file_values_are_trimmed_and_empty_ones_unset(void **state)
{
    static const char text[] = MINIMAL "cluster.id=caf\\u00e9\n"
                                       "ssl.truststore.location\n"
                                       "ssl.key.password:  p w \n";
    kb_config c;
    char err[256];
    int rc = load(state, &c, err, sizeof err, text, NULL);
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_string_equal(c.cluster_id, "caf\xc3\xa9");
    assert_null(c.ssl_truststore_location);
    assert_string_equal(c.ssl_key_password, "p w");
    kb_config_free(&c);
}

static void kafka_server_properties_keys_have_no_effect(void **state)
{
    kb_config c;
    char err[256];
    assert_int_equal(load(state, &c, err, sizeof err,
                          MINIMAL "log.dirs=/var/lib/kafka\nprocess.roles=broker,controller\n"
                                  "controller.quorum.voters=1@localhost:9093\n",
                          "num.partitions=3", NULL),
                     0);
    assert_int_equal(c.n_ignored, 4);
    assert_string_equal(c.ignored[0], "log.dirs");
    assert_string_equal(c.ignored[1], "process.roles");
    assert_string_equal(c.ignored[2], "controller.quorum.voters");
    assert_string_equal(c.ignored[3], "num.partitions");
    kb_config_free(&c);
}

typedef struct error_case {
    const char *file;     /* appended to MINIMAL; later lines win */
    const char *override; /* may be NULL */
    const char *message;
} error_case;

static const error_case error_cases[] = {
    /* identity */
    {"broker.id=2\n", NULL, "broker.id: '2' differs from node.id '1'"},
    {"", "node.id=-1", "node.id: '-1' is out of range (0..2147483647)"},
    {"", "node.id=", "node.id: '' is not an integer"},
    {"cluster.id=\n", NULL, "cluster.id: must not be empty"},
    {"", "sasl.realm=a@b", "sasl.realm: must be a non-empty name without '@' or white space"},
    {"", "sasl.realm=two words", "sasl.realm: must be a non-empty name without '@' or white space"},
    /* overrides and unknown names */
    {"", "node.id", "override 'node.id' is not key=value"},
    {"", "=5", "an override has no key before '='"},
    /* What follows the key may be a secret: never echoed. */
    {"", "ssl.key.password:hunter2", "override 'ssl.key.password...' is not key=value"},
    {"listener=PLAINTEXT://:9092\n", NULL,
     "unknown property 'listener' (did you mean 'listeners'?)"},
    {"", "Node.ID=1", "unknown property 'Node.ID' (did you mean 'node.id'?)"},
    {"", "sasl.enabled.mechanism=PLAIN",
     "unknown property 'sasl.enabled.mechanism' (did you mean 'sasl.enabled.mechanisms'?)"},
    {"", "ssl.keystore.path=/x", "unknown property 'ssl.keystore.path'"},
    {"", "authorizer.class.name=x", "unknown property 'authorizer.class.name'"},
    /* listeners */
    {"", "listeners=", "listeners: no listener given"},
    {"", "listeners=PLAINTEXT://a:1,,SSL://b:2",
     "listeners: empty entry in 'PLAINTEXT://a:1,,SSL://b:2'"},
    {"", "listeners=PLAINTEXT://127.0.0.1:9092,plaintext://127.0.0.2:9093",
     "listeners: listener 'PLAINTEXT' appears twice"},
    {"", "listeners=PLAINTEXT://127.0.0.1:0",
     "listeners: 'PLAINTEXT://127.0.0.1:0' has a port '0' out of range (1..65535)"},
    {"", "listeners=PLAINTEXT://127.0.0.1:65536",
     "listeners: 'PLAINTEXT://127.0.0.1:65536' has a port '65536' out of range (1..65535)"},
    {"", "listeners=PLAINTEXT://127.0.0.1:90x",
     "listeners: 'PLAINTEXT://127.0.0.1:90x' has a port '90x' that is not an integer"},
    {"", "listeners=PLAINTEXT//127.0.0.1:9092",
     "listeners: 'PLAINTEXT//127.0.0.1:9092' is not NAME://HOST:PORT"},
    {"", "listeners=PLAINTEXT://127.0.0.1", "listeners: 'PLAINTEXT://127.0.0.1' has no port"},
    {"", "listeners=PLAINTEXT://::1:9092",
     "listeners: 'PLAINTEXT://::1:9092' needs brackets around its IPv6 address"},
    {"", "listeners=PLAINTEXT://[::g]:9092",
     "listeners: 'PLAINTEXT://[::g]:9092' has an invalid IPv6 address '::g'"},
    {"", "listeners=PLAINTEXT://[::1]",
     "listeners: 'PLAINTEXT://[::1]' has no port after the IPv6 address"},
    {"", "listeners=PLAINTEXT://a b:9092",
     "listeners: 'PLAINTEXT://a b:9092' has an invalid host 'a b'"},
    {"", "listeners=PLAIN.TEXT://a:9092",
     "listeners: 'PLAIN.TEXT://a:9092' has an invalid listener name 'PLAIN.TEXT'"},
    {"", "listeners=CLIENT://127.0.0.1:9092",
     "listeners: listener 'CLIENT' is not in listener.security.protocol.map"},
    {"", "listeners=PLAINTEXT://:9092,SSL://127.0.0.1:9092",
     "listeners: listeners 'PLAINTEXT' and 'SSL' both use port 9092"},
    {"", "listener.security.protocol.map=CLIENT:TLS",
     "listener.security.protocol.map: 'TLS' is not a security protocol (PLAINTEXT, SSL, "
     "SASL_PLAINTEXT, SASL_SSL)"},
    {"", "listener.security.protocol.map=CLIENT",
     "listener.security.protocol.map: 'CLIENT' is not NAME:PROTOCOL"},
    {"", "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,plaintext:SSL",
     "listener.security.protocol.map: listener 'PLAINTEXT' appears twice"},
    /* advertised.listeners */
    {"", "listeners=PLAINTEXT://:9092",
     "listeners: listener 'PLAINTEXT' binds all interfaces; set advertised.listeners to an "
     "address clients can reach"},
    {"", "listeners=PLAINTEXT://0.0.0.0:9092",
     "listeners: listener 'PLAINTEXT' binds all interfaces; set advertised.listeners to an "
     "address clients can reach"},
    {"", "advertised.listeners=SSL://127.0.0.1:9093",
     "advertised.listeners: listener 'SSL' is not in listeners"},
    {"", "advertised.listeners=PLAINTEXT://:9092",
     "advertised.listeners: listener 'PLAINTEXT' has host '', which clients cannot connect to"},
    {"", "advertised.listeners=PLAINTEXT://[::]:9092",
     "advertised.listeners: listener 'PLAINTEXT' has host '::', which clients cannot connect "
     "to"},
    /* cluster.nodes */
    {"", "cluster.nodes=2@PLAINTEXT://127.0.0.2:9092",
     "cluster.nodes: does not include this node (node.id 1)"},
    {"", "cluster.nodes=1@PLAINTEXT://127.0.0.1:9092,2@SSL://127.0.0.2:9093",
     "cluster.nodes: listener 'SSL' of node 2 is not in listeners"},
    {"", "cluster.nodes=1@PLAINTEXT://127.0.0.1:9092,2@FOO://127.0.0.2:9093",
     "cluster.nodes: listener 'FOO' is not in listener.security.protocol.map"},
    {"", "cluster.nodes=1@PLAINTEXT://127.0.0.1:9999",
     "cluster.nodes: node 1 must list PLAINTEXT://127.0.0.1:9092 as advertised.listeners does"},
    {"", "cluster.nodes=1@PLAINTEXT://127.0.0.1:9092,1@PLAINTEXT://127.0.0.1:9092",
     "cluster.nodes: node 1 has listener 'PLAINTEXT' twice"},
    {"", "cluster.nodes=x@PLAINTEXT://127.0.0.1:9092",
     "cluster.nodes: 'x@PLAINTEXT://127.0.0.1:9092' is not NODE_ID@NAME://HOST:PORT"},
    {"", "cluster.nodes=1@PLAINTEXT://127.0.0.1:9092,2@PLAINTEXT://:9092",
     "cluster.nodes: listener 'PLAINTEXT' has host '', which clients cannot connect to"},
    /* SASL */
    {"", "sasl.enabled.mechanisms=PLAIN,GSSAPI",
     "sasl.enabled.mechanisms: 'GSSAPI' is not supported (supported: PLAIN, SCRAM-SHA-256, "
     "SCRAM-SHA-512)"},
    {"", "sasl.enabled.mechanisms=OAUTHBEARER",
     "sasl.enabled.mechanisms: 'OAUTHBEARER' is not supported (supported: PLAIN, "
     "SCRAM-SHA-256, SCRAM-SHA-512)"},
    {"", "sasl.enabled.mechanisms=PLAIN,PLAIN", "sasl.enabled.mechanisms: 'PLAIN' is listed twice"},
    {"", "listeners=SASL_PLAINTEXT://127.0.0.1:9092",
     "sasl.sasldb.path is required by SASL_PLAINTEXT listener 'SASL_PLAINTEXT'"},
    {"listeners=SASL_PLAINTEXT://127.0.0.1:9092\nsasl.sasldb.path=/x\n",
     "sasl.enabled.mechanisms=",
     "sasl.enabled.mechanisms is empty but SASL_PLAINTEXT listener 'SASL_PLAINTEXT' needs one"},
    {"", "super.users=User:admin;bob",
     "super.users: 'bob' is not a principal (expected User:NAME)"},
    /* numbers */
    {"", "num.network.threads=abc", "num.network.threads: 'abc' is not an integer"},
    {"", "num.network.threads=3x", "num.network.threads: '3x' is not an integer"},
    {"", "num.network.threads=0x3", "num.network.threads: '0x3' is not an integer"},
    {"", "num.network.threads=0", "num.network.threads: '0' is out of range (1..64)"},
    {"", "num.network.threads=65", "num.network.threads: '65' is out of range (1..64)"},
    {"", "num.network.threads=99999999999999999999",
     "num.network.threads: '99999999999999999999' is out of range (1..64)"},
    {"", "socket.request.max.bytes=0",
     "socket.request.max.bytes: '0' is out of range (1..2147483647)"},
    {"", "max.connections=2147483648",
     "max.connections: '2147483648' is out of range (0..2147483647)"},
    {"", "connections.max.idle.ms=1.5", "connections.max.idle.ms: '1.5' is not an integer"},
    {"", "connections.history.size=0",
     "connections.history.size: '0' is out of range (1..1000000)"},
    {"", "describe.connections.api.key=18",
     "describe.connections.api.key: '18' is the key of ApiVersions, which this broker also "
     "serves"},
    {"", "describe.connections.api.key=60",
     "describe.connections.api.key: '60' is the key of DescribeCluster, which this broker also "
     "serves"},
    {"", "describe.connections.api.key=32768",
     "describe.connections.api.key: '32768' is out of range (0..32767)"},
    /* TLS */
    {"", "ssl.keystore.type=JKS", "ssl.keystore.type: 'JKS' is not supported (only PEM)"},
    {"", "ssl.truststore.type=PKCS12", "ssl.truststore.type: 'PKCS12' is not supported (only PEM)"},
    {"", "ssl.client.auth=want",
     "ssl.client.auth: 'want' is not one of none, requested, required"},
    {"", "listeners=SSL://127.0.0.1:9093",
     "ssl.keystore.location is required by SSL listener 'SSL'"},
    {"", "ssl.client.auth=required",
     "ssl.truststore.location is required by ssl.client.auth=required"},
    {"", "ssl.client.auth=requested",
     "ssl.truststore.location is required by ssl.client.auth=requested"},
    {"", "metrics.listener=localhost", "metrics.listener: 'localhost' has no port"},
    /* testing */
    {"", "test.synthetic.connections=-1",
     "test.synthetic.connections: '-1' is out of range (0..10000000)"},
    {"", "test.synthetic.connections=10000001",
     "test.synthetic.connections: '10000001' is out of range (0..10000000)"},
};

static void every_error_names_the_property_and_value(void **state)
{
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const error_case *t = &error_cases[i];
        char text[512];
        snprintf(text, sizeof text, MINIMAL "%s", t->file);
        kb_config c;
        char err[256] = "";
        int rc = load(state, &c, err, sizeof err, text, t->override, NULL);
        if (rc != -1 || strcmp(err, t->message) != 0)
            fail_msg("case %zu (%s / %s): rc %d, got \"%s\", want \"%s\"", i, t->file,
                     t->override ? t->override : "-", rc, err, t->message);
        kb_config_free(&c);
    }
}

static void missing_node_id_and_listeners_are_errors(void **state)
{
    kb_config c;
    char err[256];
    assert_int_equal(load(state, &c, err, sizeof err, "listeners=PLAINTEXT://127.0.0.1:9092\n",
                          NULL),
                     -1);
    assert_string_equal(err, "node.id is required (broker.id is accepted as its alias)");
    kb_config_free(&c);
    assert_int_equal(load(state, &c, err, sizeof err, "node.id=1\n", NULL), -1);
    assert_string_equal(err, "listeners is required");
    kb_config_free(&c);
}

/* Errors of the file come from the properties reader with the path. */
static void file_errors_name_the_file_and_line(void **state)
{
    const fixture *f = *state;
    kb_config c;
    char err[512], want[PATH_MAX + 64];
    assert_int_equal(load(state, &c, err, sizeof err, MINIMAL "\n# x\ncluster.id=a\\u12G4\n",
                          NULL),
                     -1);
    snprintf(want, sizeof want, "%s:5: malformed \\uXXXX escape", f->path);
    assert_string_equal(err, want);
    kb_config_free(&c);

    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/absent.properties", f->dir);
    assert_int_equal(kb_config_load(&c, missing, NULL, 0, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: No such file or directory", missing);
    assert_string_equal(err, want);
    kb_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_file_sets_every_property),
        cmocka_unit_test(defaults_fill_unset_properties),
        cmocka_unit_test(overrides_win_over_the_file),
        cmocka_unit_test(overrides_alone_need_no_file),
        cmocka_unit_test(broker_id_is_an_alias_of_node_id),
        cmocka_unit_test(ipv6_listeners_and_listener_names),
        cmocka_unit_test(file_values_are_trimmed_and_empty_ones_unset),
        cmocka_unit_test(kafka_server_properties_keys_have_no_effect),
        cmocka_unit_test(every_error_names_the_property_and_value),
        cmocka_unit_test(missing_node_id_and_listeners_are_errors),
        cmocka_unit_test(file_errors_name_the_file_and_line),
    };
    return cmocka_run_group_tests_name("host config", tests, group_setup, group_teardown);
}
