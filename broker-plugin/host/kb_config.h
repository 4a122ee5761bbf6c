/*
 * kb_config.h: the reference broker's configuration, read from a Kafka
 * properties file plus --override key=value pairs. Kafka's property names
 * wherever Kafka has one; our own additions are documented in
 * man/kafka-connections-broker.1.
 */
#ifndef KB_CONFIG_H
#define KB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* One endpoint: listener name, its security protocol, host and port. */
typedef struct kb_endpoint {
    char *listener;        /* e.g. "SASL_SSL" or "CLIENT" */
    int security_protocol; /* enum kcb_security_protocol */
    char *host;            /* numeric or name; "" = all interfaces (listeners only) */
    uint16_t port;
} kb_endpoint;

/* A node of the cluster as clients reach it (cluster.nodes). */
typedef struct kb_node {
    int32_t id;
    kb_endpoint *endpoints;
    size_t n_endpoints;
} kb_node;

enum kb_client_auth { KB_CLIENT_AUTH_NONE = 0, KB_CLIENT_AUTH_REQUESTED = 1, KB_CLIENT_AUTH_REQUIRED = 2 };

typedef struct kb_config {
    int32_t node_id;                   /* node.id (alias broker.id); required */
    char *cluster_id;                  /* cluster.id; default "kafka-connections" */
    kb_endpoint *listeners;            /* listeners; required */
    size_t n_listeners;
    kb_endpoint *advertised;           /* advertised.listeners; default = listeners */
    size_t n_advertised;
    kb_node *nodes;                    /* cluster.nodes; default = this node's advertised */
    size_t n_nodes;
    char **sasl_mechanisms;            /* sasl.enabled.mechanisms; default PLAIN,SCRAM-SHA-256,SCRAM-SHA-512 */
    size_t n_sasl_mechanisms;
    char *sasldb_path;                 /* sasl.sasldb.path; required with a SASL listener */
    char *sasl_scram_salt_secret;      /* sasl.scram.salt.secret; NULL: salts per process */
    char *sasl_realm;                  /* sasl.realm; default "kafka" */
    char *super_users;                 /* super.users, "User:a;User:b"; may be NULL */
    int64_t connections_max_idle_ms;   /* default 600000 */
    int64_t connections_max_reauth_ms; /* default 0 (off) */
    int64_t auth_timeout_ms;           /* connections.auth.timeout.ms; default 10000 */
    int32_t socket_request_max_bytes;  /* default 104857600 */
    int32_t max_connections;           /* default 2147483647 */
    int32_t num_network_threads;       /* default 3 */
    char *ssl_keystore_location;       /* PEM: private key + certificate chain */
    char *ssl_key_password;            /* ssl.key.password; may be NULL */
    char *ssl_truststore_location;     /* PEM CA bundle */
    int ssl_client_auth;               /* ssl.client.auth: enum kb_client_auth; default none */
    int16_t describe_connections_api_key; /* describe.connections.api.key; default 1000 */
    uint32_t history_size;             /* connections.history.size; default 1000 */
    int64_t history_max_age_ms;        /* connections.history.max.age.ms; default 600000 */
    char *metrics_listener;            /* metrics.listener, "127.0.0.1:PORT"; may be NULL */
    char *metrics_host;                /* its host without brackets ("" = all interfaces) */
    uint16_t metrics_port;             /* its port; 0 when metrics_listener is NULL */
    int32_t test_synthetic_connections; /* test.synthetic.connections: fake records for
                                         * benchmarks, see TESTING in the man page; default 0 */
    char **ignored;                    /* Kafka keys present that have no effect here, to log */
    size_t n_ignored;
} kb_config;

/* Reads path (a properties file in java.util.Properties syntax, read as
 * UTF-8; NULL = no file) then applies overrides ("key=value" each, later
 * ones win), fills defaults and checks every value and their combination.
 * Listener names are upper-cased as Kafka does. Returns 0, or -1 with errstr
 * naming the property (and for an unknown one the closest known name).
 * cfg need not be initialised; kb_config_free() afterwards either way. */
int kb_config_load(kb_config *cfg, const char *path, char *const *overrides, size_t n_overrides,
                   char *errstr, size_t errstr_size);
/* Frees everything kb_config_load() allocated and zeroes cfg; safe twice. */
void kb_config_free(kb_config *cfg);
/* Finds this node's advertised endpoint for a listener name (any case), or
 * NULL. The result points into cfg. */
const kb_endpoint *kb_config_advertised(const kb_config *cfg, const char *listener);

#endif
