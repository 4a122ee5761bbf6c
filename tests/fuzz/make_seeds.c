/*
 * make_seeds: writes the seed corpus of the fuzz targets.
 *
 * Usage: make_seeds DIR      (normally DIR = tests/fuzz/corpus)
 *
 * Writes DIR/fuzz_messages/<Message>-v<N>[-<variant>] for every message of
 * kcp_messages[] at every valid version (two selector bytes, then the body
 * from the generated encoder), DIR/fuzz_request_header/ with request and
 * response headers of every API, and DIR/fuzz_frame/ with framed requests
 * in several chunkings. Seeds are small and the output is deterministic, so
 * regenerating only changes files when the encoders or specs change. It
 * fails if a message of kcp_messages[] has no sample here, or if a seed does
 * not decode back whole.
 */
#include "kcp_header.h"
#include "kcp_messages.h"
#include "kcp_strtab.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------ output */

typedef struct seed {
    uint8_t b[2048];
    size_t len;
} seed;

static const char *out_dir;
static int seeds_written;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("make_seeds: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint8_t *seed_room(seed *s, size_t n)
{
    if (n > sizeof s->b - s->len)
        die("seed grew beyond %zu bytes", sizeof s->b);
    uint8_t *p = s->b + s->len;
    s->len += n;
    return p;
}

static void put_u8(seed *s, uint8_t v) { *seed_room(s, 1) = v; }

static void put_be32(seed *s, uint32_t v)
{
    uint8_t *p = seed_room(s, 4);
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* src may be NULL when n is 0 (no chunk sizes), which memcpy does not allow. */
static void put_bytes(seed *s, const void *src, size_t n)
{
    if (n)
        memcpy(seed_room(s, n), src, n);
}

static void write_seed(const char *target, const seed *s, const char *fmt, ...)
{
    char dir[1024], name[256], path[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    snprintf(dir, sizeof dir, "%s/%s", out_dir, target);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        die("cannot create %s: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->b, 1, s->len, f) != s->len || fclose(f) != 0)
        die("cannot write %s", path);
    seeds_written++;
}

/* ------------------------------------------------- sample messages */

/* Each filler sets m (already initialised) to a realistic message for
 * version v; variant picks one of the entry's distinct shapes. Samples point
 * at static data, so they need no freeing beyond the message's own. */
typedef void (*fill_fn)(void *m, int16_t v, int variant);

#define ARRAY(field, data)                                                               \
    do {                                                                                  \
        (field).n = (int32_t)(sizeof(data) / sizeof((data)[0]));                         \
        (field).v = (data);                                                               \
    } while (0)

static kcp_uuid uuid_of(uint8_t seed_byte)
{
    kcp_uuid u;
    for (int i = 0; i < 16; i++)
        u.b[i] = (uint8_t)(seed_byte * 17 + i);
    return u;
}

static kcp_raw_tag future_tag[] = {{9, {(const uint8_t *)"\x01\x02", 2}}};

static void fill_metadata_request(void *p, int16_t v, int variant)
{
    (void)variant;
    kcp_metadata_request *m = p;
    static kcp_metadata_request_metadata_request_topic topics[2];
    kcp_metadata_request_metadata_request_topic_init(&topics[0]);
    kcp_metadata_request_metadata_request_topic_init(&topics[1]);
    topics[0].name = kcp_str_c("orders");
    /* From v10 a topic may be asked for by id alone (KIP-516). */
    topics[1].name = v >= 10 ? KCP_STR_NULL : kcp_str_c("payments");
    if (v >= 10)
        topics[1].topic_id = uuid_of(2);
    if (v == 1 || v == 9) {
        m->topics.n = -1; /* null: all topics (v1+) */
    } else {
        ARRAY(m->topics, topics);
    }
    m->allow_auto_topic_creation = v % 2 == 0;
    m->include_cluster_authorized_operations = v >= 8 && v <= 10;
    m->include_topic_authorized_operations = v >= 8;
}

static void fill_metadata_response(void *p, int16_t v, int variant)
{
    (void)variant;
    kcp_metadata_response *m = p;
    static kcp_metadata_response_metadata_response_broker brokers[2];
    static kcp_metadata_response_metadata_response_partition parts[2];
    static kcp_metadata_response_metadata_response_topic topics[2];
    static int32_t replicas[] = {1, 2, 3}, isr[] = {1, 3}, offline[] = {2};

    for (int i = 0; i < 2; i++) {
        kcp_metadata_response_metadata_response_broker_init(&brokers[i]);
        brokers[i].node_id = i + 1;
        brokers[i].host = kcp_str_c(i ? "broker-2.example" : "127.0.0.1");
        brokers[i].port = 9092 + i;
        brokers[i].rack = v >= 1 && i == 0 ? kcp_str_c("rack-a") : KCP_STR_NULL;

        kcp_metadata_response_metadata_response_partition_init(&parts[i]);
        parts[i].partition_index = i;
        parts[i].leader_id = i + 1;
        parts[i].leader_epoch = v >= 7 ? 5 + i : -1;
        ARRAY(parts[i].replica_nodes, replicas);
        ARRAY(parts[i].isr_nodes, isr);
        if (v >= 5) {
            ARRAY(parts[i].offline_replicas, offline);
        }
    }
    kcp_metadata_response_metadata_response_topic_init(&topics[0]);
    topics[0].name = kcp_str_c("orders");
    topics[0].topic_id = v >= 10 ? uuid_of(1) : (kcp_uuid){{0}};
    topics[0].is_internal = false;
    ARRAY(topics[0].partitions, parts);
    topics[0].topic_authorized_operations = v >= 8 ? 0x0df8 : INT32_MIN;

    kcp_metadata_response_metadata_response_topic_init(&topics[1]);
    if (v >= 12) { /* asked for by an id that does not exist: null name */
        topics[1].error_code = 100; /* UNKNOWN_TOPIC_ID */
        topics[1].name = KCP_STR_NULL;
        topics[1].topic_id = uuid_of(7);
    } else {
        topics[1].error_code = 3; /* UNKNOWN_TOPIC_OR_PARTITION */
        topics[1].name = kcp_str_c("missing");
    }
    topics[1].is_internal = v >= 1 && v % 3 == 0;

    m->throttle_time_ms = v >= 3 ? 10 : 0;
    ARRAY(m->brokers, brokers);
    m->cluster_id = v >= 2 ? kcp_str_c("kc-cluster-0001") : KCP_STR_NULL;
    m->controller_id = v >= 1 ? 1 : -1;
    ARRAY(m->topics, topics);
    m->cluster_authorized_operations = v >= 8 && v <= 10 ? 0x0ff8 : INT32_MIN;
}

static void fill_sasl_handshake_request(void *p, int16_t v, int variant)
{
    (void)variant;
    kcp_sasl_handshake_request *m = p;
    m->mechanism = kcp_str_c(v ? "SCRAM-SHA-256" : "PLAIN");
}

static void fill_sasl_handshake_response(void *p, int16_t v, int variant)
{
    (void)v;
    (void)variant;
    kcp_sasl_handshake_response *m = p;
    static kcp_str mechs[3];
    mechs[0] = kcp_str_c("PLAIN");
    mechs[1] = kcp_str_c("SCRAM-SHA-256");
    mechs[2] = kcp_str_c("SCRAM-SHA-512");
    ARRAY(m->mechanisms, mechs);
}

static void fill_api_versions_request(void *p, int16_t v, int variant)
{
    (void)variant;
    kcp_api_versions_request *m = p;
    /* KIP-511 fields exist from v3; earlier versions keep the defaults. */
    if (v >= 3) {
        m->client_software_name = kcp_str_c("librdkafka");
        m->client_software_version = kcp_str_c("2.0.2");
    }
}

static void fill_api_versions_response(void *p, int16_t v, int variant)
{
    (void)variant;
    kcp_api_versions_response *m = p;
    static kcp_api_versions_response_api_version keys[KCP_API__COUNT];
    static kcp_api_versions_response_supported_feature_key supported[1];
    static kcp_api_versions_response_finalized_feature_key finalized[1];

    /* Advertise exactly what this build knows, as a broker would. */
    for (int i = 0; i < KCP_API__COUNT; i++) {
        const kcp_api_info *a = kcp_api_info_get((kcp_api_id)i);
        kcp_api_versions_response_api_version_init(&keys[i]);
        keys[i].api_key = a->api_key;
        keys[i].min_version = a->min_version;
        keys[i].max_version = a->max_version;
    }
    ARRAY(m->api_keys, keys);
    m->throttle_time_ms = v >= 1 ? 5 : 0;
    if (v >= 3) {
        kcp_api_versions_response_supported_feature_key_init(&supported[0]);
        supported[0].name = kcp_str_c("metadata.version");
        supported[0].min_version = 1;
        supported[0].max_version = 19;
        kcp_api_versions_response_finalized_feature_key_init(&finalized[0]);
        finalized[0].name = kcp_str_c("metadata.version");
        finalized[0].min_version_level = 19;
        finalized[0].max_version_level = 19;
        ARRAY(m->supported_features, supported);
        m->finalized_features_epoch = 42;
        ARRAY(m->finalized_features, finalized);
    }
    if (v >= 4) {
        m->zk_migration_ready = true;
        ARRAY(m->unknown_tags, future_tag); /* a tag from a newer broker */
    }
}

static void fill_sasl_authenticate_request(void *p, int16_t v, int variant)
{
    (void)v;
    (void)variant;
    kcp_sasl_authenticate_request *m = p;
    static const char plain[] = "\0alice\0alice-secret"; /* RFC 4616 */
    m->auth_bytes = (kcp_bytes){(const uint8_t *)plain, (int32_t)sizeof plain - 1};
}

static void fill_sasl_authenticate_response(void *p, int16_t v, int variant)
{
    (void)variant;
    kcp_sasl_authenticate_response *m = p;
    if (v == 0) {
        m->error_code = 58; /* SASL_AUTHENTICATION_FAILED */
        m->error_message = kcp_str_c("Authentication failed: invalid credentials");
        m->auth_bytes = (kcp_bytes){(const uint8_t *)"", 0};
    } else {
        static const char final[] = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
        m->error_message = KCP_STR_NULL;
        m->auth_bytes = (kcp_bytes){(const uint8_t *)final, (int32_t)sizeof final - 1};
        m->session_lifetime_ms = 3600000;
    }
}

static void fill_describe_cluster_request(void *p, int16_t v, int variant)
{
    (void)variant;
    kcp_describe_cluster_request *m = p;
    m->include_cluster_authorized_operations = true;
    m->endpoint_type = v >= 1 ? 2 : 1;
}

static void fill_describe_cluster_response(void *p, int16_t v, int variant)
{
    (void)v;
    (void)variant;
    kcp_describe_cluster_response *m = p;
    static kcp_describe_cluster_response_describe_cluster_broker brokers[2];
    for (int i = 0; i < 2; i++) {
        kcp_describe_cluster_response_describe_cluster_broker_init(&brokers[i]);
        brokers[i].broker_id = i + 1;
        brokers[i].host = kcp_str_c("127.0.0.1");
        brokers[i].port = 9092 + i;
        brokers[i].rack = i ? KCP_STR_NULL : kcp_str_c("rack-a");
    }
    m->cluster_id = kcp_str_c("kc-cluster-0001");
    m->controller_id = 1;
    ARRAY(m->brokers, brokers);
    m->cluster_authorized_operations = 0x0ff8;
}

static void fill_describe_connections_request(void *p, int16_t v, int variant)
{
    (void)v;
    kcp_describe_connections_request *m = p;
    static kcp_str principals[1], addresses[2], software[1];
    static int8_t states[] = {1, 2};
    if (variant == 1)
        return; /* all defaults: every open connection, broker's page size */
    principals[0] = kcp_str_c("User:alice");
    addresses[0] = kcp_str_c("127.0.0.0/8");
    addresses[1] = kcp_str_c("::1");
    software[0] = kcp_str_c("librdkafka/2.0.2");
    ARRAY(m->principals, principals);
    ARRAY(m->client_addresses, addresses);
    ARRAY(m->client_software, software);
    ARRAY(m->states, states);
    m->min_idle_ms = 60000;
    m->include_closed = true;
    m->limit = 100;
    m->cursor = (kcp_bytes){(const uint8_t *)"\x00\x00\x00\x07", 4};
}

/* The Strings of the DescribeConnections sample being filled, built as a
 * broker builds them: each row's strings added while the row is written. */
static kcp_strtab sample_strings;

static int32_t sample_string(const char *s)
{
    int32_t i = kcp_strtab_add(&sample_strings, kcp_str_c(s));
    if (i < -1)
        die("out of memory");
    return i;
}

static void sample_connection(kcp_describe_connections_response_connection *c, int i)
{
    kcp_describe_connections_response_connection_init(c);
    c->connection_id = kcp_str_c(i ? "127.0.0.1:9093-127.0.0.1:50002-1-8" : "127.0.0.1:9092-127.0.0.1:50001-0-7");
    c->state = i ? 3 : 1;
    c->listener_name_index = sample_string(i ? "SASL_SSL" : "SASL_PLAINTEXT");
    c->security_protocol = i ? 3 : 2;
    c->principal_index = sample_string(i ? "User:bob" : "User:alice");
    c->sasl_mechanism_index = sample_string(i ? "PLAIN" : "SCRAM-SHA-256");
    c->client_host = kcp_str_c("127.0.0.1");
    c->client_port = (uint16_t)(50001 + i);
    c->local_host_index = sample_string("127.0.0.1");
    c->local_port = (uint16_t)(9092 + i);
    c->client_id_index = sample_string(i ? NULL : "rdkafka");
    c->client_software_name_index = sample_string(i ? "unknown" : "librdkafka");
    c->client_software_version_index = sample_string(i ? "unknown" : "2.0.2");
    c->connected_at_ms = 1764400000000 + i;
    c->authenticated_at_ms = i ? -1 : 1764400000012;
    c->last_activity_at_ms = 1764400001000;
    c->requests = 4 + i;
    c->bytes_in = 420;
    c->bytes_out = 1337;
    if (i) { /* a closed TLS connection fills the tagged fields */
        c->close_reason_index = sample_string("idle timeout");
        c->closed_at_ms = 1764400601000;
        c->session_expires_at_ms = 1764403600000;
        c->tls_protocol_index = sample_string("TLSv1.3");
        c->tls_cipher_index = sample_string("TLS_AES_256_GCM_SHA384");
        c->peer_certificate_subject_index = sample_string("CN=bob,O=Example");
        c->peer_certificate_issuer_index = sample_string("CN=Example CA");
        c->peer_certificate_serial_index = sample_string("0a1b2c");
        ARRAY(c->unknown_tags, future_tag);
    }
}

static void fill_describe_connections_response(void *p, int16_t v, int variant)
{
    (void)v;
    kcp_describe_connections_response *m = p;
    static kcp_describe_connections_response_connection conns[2];
    static kcp_describe_connections_response_principal_summary sums[1];
    static kcp_describe_connections_response_count_by_name listeners[2], software[1];
    m->broker_time_ms = 1764400005000;
    kcp_strtab_reset(&sample_strings);
    switch (variant) {
    case 0: /* one page of rows */
    case 3: /* the same page from a broker that got an index wrong */
        sample_connection(&conns[0], 0);
        sample_connection(&conns[1], 1);
        if (variant == 3)
            conns[1].principal_index = sample_strings.n; /* one past the end */
        ARRAY(m->connections, conns);
        m->strings.n = sample_strings.n;
        m->strings.v = sample_strings.v;
        m->total_count = 3;
        m->next_cursor = (kcp_bytes){(const uint8_t *)"\x00\x00\x00\x02", 4};
        break;
    case 1: /* SummaryOnly: counts per principal */
        kcp_describe_connections_response_count_by_name_init(&listeners[0]);
        listeners[0].name = kcp_str_c("SASL_PLAINTEXT");
        listeners[0].connections = 2;
        kcp_describe_connections_response_count_by_name_init(&listeners[1]);
        listeners[1].name = kcp_str_c("SASL_SSL");
        listeners[1].connections = 1;
        kcp_describe_connections_response_count_by_name_init(&software[0]);
        software[0].name = kcp_str_c("librdkafka/2.0.2");
        software[0].connections = 3;
        kcp_describe_connections_response_principal_summary_init(&sums[0]);
        sums[0].principal = kcp_str_c("User:alice");
        sums[0].connections = 3;
        ARRAY(sums[0].listeners, listeners);
        ARRAY(sums[0].client_software, software);
        ARRAY(m->summaries, sums);
        m->total_count = 3;
        break;
    default: /* a refused filter */
        m->error_code = 42; /* INVALID_REQUEST */
        m->error_message = kcp_str_c("ClientAddresses: \"10.0.0.0/33\" is not an address or CIDR block");
        m->restricted = true;
        break;
    }
}

typedef struct sample {
    const char *message; /* kcp_messages[].name */
    fill_fn fill;
    int variants;
} sample;

static const sample samples[] = {
    {"MetadataRequest", fill_metadata_request, 1},
    {"MetadataResponse", fill_metadata_response, 1},
    {"SaslHandshakeRequest", fill_sasl_handshake_request, 1},
    {"SaslHandshakeResponse", fill_sasl_handshake_response, 1},
    {"ApiVersionsRequest", fill_api_versions_request, 1},
    {"ApiVersionsResponse", fill_api_versions_response, 1},
    {"SaslAuthenticateRequest", fill_sasl_authenticate_request, 1},
    {"SaslAuthenticateResponse", fill_sasl_authenticate_response, 1},
    {"DescribeClusterRequest", fill_describe_cluster_request, 1},
    {"DescribeClusterResponse", fill_describe_cluster_response, 1},
    {"DescribeConnectionsRequest", fill_describe_connections_request, 2},
    {"DescribeConnectionsResponse", fill_describe_connections_response, 4},
};

static const sample *sample_for(const kcp_message_desc *d)
{
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
        if (strcmp(samples[i].message, d->name) == 0)
            return &samples[i];
    die("no sample for %s: add one to make_seeds.c", d->name);
    return NULL;
}

/* Appends the encoding of sample variant of d at version v to s, after
 * checking that it decodes back whole. */
static void put_message(seed *s, const kcp_message_desc *d, int16_t v, int variant)
{
    void *m = calloc(1, d->struct_size), *back = calloc(1, d->struct_size);
    if (!m || !back)
        die("out of memory");
    d->init(m);
    sample_for(d)->fill(m, v, variant);
    size_t n = d->size(m, v);
    uint8_t *at = seed_room(s, n);
    kcp_writer w;
    kcp_writer_init(&w, at, n);
    int rc = d->encode(&w, m, v);
    if (rc != 0 || w.pos != n)
        die("%s v%d: encode gave %s, %zu of %zu bytes", d->name, v, kcp_err_name(rc), w.pos, n);
    kcp_reader r;
    kcp_reader_init(&r, at, n);
    if (d->decode(&r, back, v) != 0 || r.pos != n)
        die("%s v%d: sample does not decode back whole: %s", d->name, v, r.errstr);
    d->free(back);
    d->free(m);
    free(back);
    free(m);
}

static void write_message_seeds(void)
{
    for (size_t i = 0; i < kcp_messages_count; i++) {
        const kcp_message_desc *d = &kcp_messages[i];
        const sample *smp = sample_for(d);
        for (int16_t v = d->min_version; v <= d->max_version; v++) {
            for (int variant = 0; variant < smp->variants; variant++) {
                seed s = {.len = 0};
                put_u8(&s, (uint8_t)i);                        /* picks kcp_messages[i] */
                put_u8(&s, (uint8_t)(v - d->min_version)); /* picks the version */
                put_message(&s, d, v, variant);
                if (smp->variants > 1)
                    write_seed("fuzz_messages", &s, "%s-v%d-%d", d->name, v, variant);
                else
                    write_seed("fuzz_messages", &s, "%s-v%d", d->name, v);
            }
        }
    }
}

/* ----------------------------------------------------------- headers */

static const kcp_message_desc *request_desc(kcp_api_id api)
{
    for (size_t i = 0; i < kcp_messages_count; i++)
        if (kcp_messages[i].api == api && kcp_messages[i].is_request)
            return &kcp_messages[i];
    die("no request message for API %d", (int)api);
    return NULL;
}

/* Appends a request header for api at version v, in the header version
 * that API version uses, with the tags given (may be NULL). */
static void put_request_header(seed *s, kcp_api_id api, int16_t v, int32_t correlation_id,
                               kcp_str client_id, kcp_raw_tags *tags)
{
    kcp_request_header h = {kcp_api_info_get(api)->api_key, v, correlation_id, client_id, {0, NULL}};
    if (tags)
        h.tags = *tags;
    int16_t hv = kcp_api_request_header_version(api, v);
    size_t n = kcp_request_header_size(&h, hv);
    kcp_writer w;
    kcp_writer_init(&w, seed_room(s, n), n);
    kcp_request_header_encode(&w, &h, hv);
    if (w.err || w.pos != n)
        die("request header of API %d v%d does not encode", (int)api, v);
}

static void put_response_header(seed *s, int16_t hv, int32_t correlation_id, kcp_raw_tags *tags)
{
    kcp_response_header h = {correlation_id, {0, NULL}};
    if (tags)
        h.tags = *tags;
    size_t n = kcp_response_header_size(&h, hv);
    kcp_writer w;
    kcp_writer_init(&w, seed_room(s, n), n);
    kcp_response_header_encode(&w, &h, hv);
    if (w.err || w.pos != n)
        die("response header v%d does not encode", hv);
}

static void write_header_seeds(void)
{
    static kcp_raw_tag tag_list[] = {{0, {(const uint8_t *)"", 0}}, {5, {(const uint8_t *)"abc", 3}}};
    kcp_raw_tags tags = {2, tag_list};
    /* Each API at its oldest and newest version, so both header versions appear. */
    for (int api = 0; api < KCP_API__COUNT; api++) {
        const kcp_api_info *a = kcp_api_info_get((kcp_api_id)api);
        int16_t ends[2] = {a->min_version, a->max_version};
        for (int e = 0; e < (ends[0] == ends[1] ? 1 : 2); e++) {
            seed s = {.len = 0};
            put_request_header(&s, (kcp_api_id)api, ends[e], 100 + api, kcp_str_c("rdkafka"), NULL);
            write_seed("fuzz_request_header", &s, "%s-v%d", a->name, ends[e]);
        }
    }
    seed s = {.len = 0};
    put_request_header(&s, KCP_API_METADATA, 1, 7, KCP_STR_NULL, NULL);
    write_seed("fuzz_request_header", &s, "null-client-id");
    s.len = 0;
    put_request_header(&s, KCP_API_SASL_HANDSHAKE, 1, 8, kcp_str_c(""), NULL);
    write_seed("fuzz_request_header", &s, "empty-client-id");
    s.len = 0;
    put_request_header(&s, KCP_API_DESCRIBE_CONNECTIONS, 0, 9, kcp_str_c("kafka-connections"), &tags);
    write_seed("fuzz_request_header", &s, "unknown-tags");
    s.len = 0;
    put_response_header(&s, 0, 42, NULL);
    write_seed("fuzz_request_header", &s, "response-v0");
    s.len = 0;
    put_response_header(&s, 1, 43, &tags);
    write_seed("fuzz_request_header", &s, "response-v1-tags");
}

/* ------------------------------------------------------------ frames */

/* Appends one framed request: size, header, body of the first sample. */
static void put_request_frame(seed *s, kcp_api_id api, int16_t v, int32_t correlation_id)
{
    size_t size_at = s->len;
    put_be32(s, 0);
    put_request_header(s, api, v, correlation_id, kcp_str_c("rdkafka"), NULL);
    put_message(s, request_desc(api), v, 0);
    size_t body = s->len - size_at - 4;
    for (int i = 0; i < 4; i++)
        s->b[size_at + i] = (uint8_t)(body >> (24 - 8 * i));
}

/* Starts a fuzz_frame input: max frame size, then the chunk sizes. */
static void frame_prefix(seed *s, size_t max, const uint8_t *chunks, size_t n_chunks)
{
    s->len = 0;
    put_u8(s, (uint8_t)(max - 1));
    put_u8(s, (uint8_t)n_chunks);
    put_bytes(s, chunks, n_chunks);
}

static void write_frame_seeds(void)
{
    static const uint8_t bytewise[] = {1}, mixed[] = {3, 0, 7, 64}, split_prefix[] = {2, 5};
    seed s;

    frame_prefix(&s, 256, NULL, 0);
    put_request_frame(&s, KCP_API_API_VERSIONS, 3, 1);
    write_seed("fuzz_frame", &s, "one-request");

    frame_prefix(&s, 256, bytewise, sizeof bytewise);
    put_request_frame(&s, KCP_API_API_VERSIONS, 0, 1);
    put_request_frame(&s, KCP_API_SASL_HANDSHAKE, 1, 2);
    write_seed("fuzz_frame", &s, "byte-by-byte");

    frame_prefix(&s, 256, mixed, sizeof mixed);
    put_request_frame(&s, KCP_API_API_VERSIONS, 3, 1);
    put_request_frame(&s, KCP_API_METADATA, 12, 2);
    put_request_frame(&s, KCP_API_DESCRIBE_CONNECTIONS, 0, 3);
    write_seed("fuzz_frame", &s, "pipelined-mixed-chunks");

    frame_prefix(&s, 256, split_prefix, sizeof split_prefix);
    put_be32(&s, 0); /* an empty frame is legal */
    put_request_frame(&s, KCP_API_SASL_AUTHENTICATE, 2, 4);
    write_seed("fuzz_frame", &s, "empty-frame-then-request");

    frame_prefix(&s, 16, NULL, 0);
    put_request_frame(&s, KCP_API_METADATA, 4, 5); /* larger than 16 bytes */
    write_seed("fuzz_frame", &s, "over-max");

    frame_prefix(&s, 256, mixed, sizeof mixed);
    put_be32(&s, 0xffffffffu);
    put_bytes(&s, "junk", 4);
    write_seed("fuzz_frame", &s, "negative-size");

    frame_prefix(&s, 256, bytewise, sizeof bytewise);
    put_request_frame(&s, KCP_API_DESCRIBE_CLUSTER, 1, 6);
    s.len -= 3; /* the peer went quiet mid-frame */
    write_seed("fuzz_frame", &s, "partial-frame");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR   (e.g. tests/fuzz/corpus)\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST)
        die("cannot create %s: %s", out_dir, strerror(errno));
    write_message_seeds();
    write_header_seeds();
    write_frame_seeds();
    kcp_strtab_free(&sample_strings);
    printf("make_seeds: wrote %d seeds under %s\n", seeds_written, out_dir);
    return 0;
}
