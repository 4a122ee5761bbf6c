/* kafka-connections-broker CONFIG [--override key=value]...
 *
 * A small Kafka-protocol broker that hosts the connection registry of
 * broker-plugin/ for real clients: they bootstrap, authenticate and stay
 * connected, and DescribeConnections tells who they are. It stores no
 * messages. Started like kafka-server-start.sh. */
#include "kb_config.h"
#include "kb_log.h"
#include "kb_metrics.h"
#include "kb_server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define PROG "kafka-connections-broker"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " CONFIG [--override key=value]...\n"
            "       " PROG " --version | --help\n"
            "\n"
            "Starts a Kafka-protocol broker that serves ApiVersions, Metadata, DescribeCluster,\n"
            "SASL authentication and DescribeConnections, configured by the Kafka properties\n"
            "file CONFIG. See kafka-connections-broker(1) for every property.\n"
            "\n"
            "  --override key=value  set a property, overriding CONFIG (repeatable)\n"
            "  --version             print the version and exit\n"
            "  --help                print this help and exit\n"
            "\n"
            "Exit status: 0 after a clean shutdown (SIGTERM/SIGINT), 1 if the broker could\n"
            "not start or failed, 2 for a usage or configuration error.\n");
}

static void registry_log(void *opaque, int level, const char *line)
{
    (void)opaque;
    kb_log(level <= KCB_LOG_ERROR ? KB_ERROR : level <= KCB_LOG_WARNING ? KB_WARN : KB_INFO, "registry",
           "message", line, NULL);
}

/* So that 10k idle clients fit, take the hard limit of open files. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* test.synthetic.connections: records that no socket stands behind, so
 * that benchmarks can list a million connections without a million
 * sockets. They go through the public ABI as a host's network threads would
 * report them, before those threads start, and are marked as fake wherever
 * they show: listener SYNTHETIC, principals User:synthetic-0..99, local
 * address 0.0.0.0:0, peers in 192.0.2.0/24 (TEST-NET-1, RFC 5737). They
 * stay until shutdown, untouched by idle timeouts. */
static int add_synthetic_connections(kcb_registry *reg, const kb_config *cfg, char *err,
                                     size_t err_size)
{
    int64_t now = kb_now_ms();
    for (int32_t i = 0; i < cfg->test_synthetic_connections; i++) {
        char peer[16], principal[32];
        snprintf(peer, sizeof peer, "192.0.2.%d", (int)(i % 254 + 1));
        snprintf(principal, sizeof principal, "User:synthetic-%d", (int)(i % 100));
        kcb_accept_info info = {.struct_size = sizeof info,
                                .shard = (uint32_t)(i % cfg->num_network_threads),
                                .listener_name = "SYNTHETIC",
                                .security_protocol = KCB_PLAINTEXT,
                                .local_host = "0.0.0.0",
                                .peer_host = peer,
                                .peer_port = (uint16_t)(1024 + i / 254 % 64512),
                                .now_ms = now};
        kcb_conn *c = kcb_conn_accepted(reg, &info, err, err_size);
        if (!c)
            return -1;
        kcb_conn_authenticated(c, principal, NULL, 0, now);
    }
    if (cfg->test_synthetic_connections > 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", (int)cfg->test_synthetic_connections);
        kb_log(KB_WARN, "synthetic_connections", "count", n, "why", "test.synthetic.connections",
               NULL);
    }
    return 0;
}

static void *signal_main(void *arg)
{
    kb_server *srv = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    if (!atomic_load(&srv->stopping))
        kb_log(KB_INFO, "shutdown", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    kb_server_stop(srv);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    size_t n_overrides = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf(PROG " %s\n", kcb_version_str());
            return 0;
        } else if (strcmp(argv[i], "--override") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, PROG ": --override needs key=value\n");
                return 2;
            }
            overrides[n_overrides++] = argv[++i];
        } else if (strncmp(argv[i], "--override=", 11) == 0) {
            overrides[n_overrides++] = argv[i] + 11;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        } else if (config_path) {
            fprintf(stderr, PROG ": more than one CONFIG given ('%s' and '%s')\n", config_path, argv[i]);
            return 2;
        } else {
            config_path = argv[i];
        }
    }
    if (!config_path) {
        usage(stderr);
        return 2;
    }

    char err[512] = "";
    kb_config cfg;
    if (kb_config_load(&cfg, config_path, overrides, n_overrides, err, sizeof err)) {
        fprintf(stderr, PROG ": %s: %s\n", config_path, err);
        kb_config_free(&cfg);
        free(overrides);
        return 2;
    }
    free(overrides);
    for (size_t i = 0; i < cfg.n_ignored; i++)
        kb_log(KB_INFO, "ignored_property", "key", cfg.ignored[i], "why", "has no effect on this broker", NULL);
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    int status = 1;
    bool need_sasl = false, need_tls = false;
    for (size_t i = 0; i < cfg.n_listeners; i++) {
        int p = cfg.listeners[i].security_protocol;
        need_sasl |= p == KCB_SASL_PLAINTEXT || p == KCB_SASL_SSL;
        need_tls |= p == KCB_SSL || p == KCB_SASL_SSL;
    }
    kcb_host host = {.abi_version = KCB_ABI_VERSION, .struct_size = sizeof host, .log = registry_log};
    kcb_config rcfg = {.struct_size = sizeof rcfg, .shards = (uint32_t)cfg.num_network_threads,
                       .super_users = cfg.super_users, .history_size = cfg.history_size,
                       .history_max_age_ms = cfg.history_max_age_ms};
    kcb_registry *reg = kcb_registry_new(&host, &rcfg, err, sizeof err);
    kb_sasl_server *sasl = NULL;
    kb_tls_ctx *tls = NULL;
    kb_metrics *metrics = NULL;
    kb_server srv;
    memset(&srv, 0, sizeof srv);
    bool server_ready = false;
    if (!reg) {
        kb_log(KB_ERROR, "start_failed", "why", err, NULL);
        goto out;
    }
    if (need_sasl && !(sasl = kb_sasl_server_new(cfg.sasldb_path, cfg.sasl_realm, cfg.sasl_mechanisms,
                                                 cfg.n_sasl_mechanisms, err, sizeof err))) {
        kb_log(KB_ERROR, "start_failed", "why", err, NULL);
        goto out;
    }
    if (sasl && cfg.sasl_scram_salt_secret &&
        kb_sasl_server_set_salt_secret(sasl, cfg.sasl_scram_salt_secret) != 0) {
        kb_log(KB_ERROR, "start_failed", "why", "out of memory", NULL);
        goto out;
    }
    if (need_tls && !(tls = kb_tls_ctx_new(cfg.ssl_keystore_location, cfg.ssl_key_password,
                                           cfg.ssl_truststore_location, cfg.ssl_client_auth, err, sizeof err))) {
        kb_log(KB_ERROR, "start_failed", "why", err, NULL);
        goto out;
    }
    if (kb_server_init(&srv, &cfg, reg, sasl, tls, err, sizeof err)) {
        kb_log(KB_ERROR, "start_failed", "why", err, NULL);
        server_ready = true;
        goto out;
    }
    server_ready = true;
    if (add_synthetic_connections(reg, &cfg, err, sizeof err)) {
        kb_log(KB_ERROR, "start_failed", "why", err, NULL);
        goto out;
    }
    if (cfg.metrics_listener && !(metrics = kb_metrics_start(cfg.metrics_listener, reg, err, sizeof err))) {
        kb_log(KB_ERROR, "start_failed", "why", err, NULL);
        goto out;
    }
    char node[16], threads[16];
    snprintf(node, sizeof node, "%d", (int)cfg.node_id);
    snprintf(threads, sizeof threads, "%d", (int)cfg.num_network_threads);
    for (size_t i = 0; i < cfg.n_listeners; i++) {
        char port[8];
        snprintf(port, sizeof port, "%u", (unsigned)cfg.listeners[i].port);
        kb_log(KB_INFO, "listening", "node", node, "listener", cfg.listeners[i].listener, "host",
               cfg.listeners[i].host, "port", port, NULL);
    }
    kb_log(KB_INFO, "started", "node", node, "version", kcb_version_str(), "network_threads", threads, NULL);

    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_main, &srv);
    status = kb_server_run(&srv) == 0 ? 0 : 1;
    pthread_kill(sig_thread, SIGTERM); /* wakes sigwait if no signal came */
    pthread_join(sig_thread, NULL);
    kb_log(KB_INFO, "stopped", "node", node, NULL);
out:
    kb_metrics_stop(metrics);
    if (server_ready)
        kb_server_free(&srv);
    kb_tls_ctx_free(tls);
    kb_sasl_server_free(sasl);
    kcb_registry_free(reg);
    kb_config_free(&cfg);
    return status;
}
