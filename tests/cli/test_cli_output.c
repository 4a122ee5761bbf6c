/*
 * Output of kafka-connections (cli/kc_json.c, cli/kc_output.c,
 * cli/kc_text.c): the JSON object read back by Python's json module with
 * every documented key, escaping of every byte a client may choose, RFC
 * 3339 times and idle times; CSV read back by Python's csv module; the
 * table's alignment and escaping. Inputs are hand-built answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli_fixture.h"
#include "kc_columns.h"
#include "kc_options.h"
#include "kc_output.h"
#include "kc_text.h"
#include "kc_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1714567890123) /* 2024-05-01T12:51:30.123Z */

static const kc_sort no_sort = {-1, false};

/* Two brokers answer (broker 1 restricted), broker 2 is unreachable. */
static void cluster(fx *f)
{
    fx_init(f);
    kc_result *b0 = fx_broker(f, 0, "127.0.0.1", 9092, KC_OK, NULL, T0);
    kc_result *b1 = fx_broker(f, 1, "::1", 9093, KC_OK, NULL, T0);
    fx_broker(f, 2, "127.0.0.1", 9094, KC_UNREACHABLE,
              "broker 2 (127.0.0.1:9094): connect failed: Connection refused", -1);
    b1->restricted = true;
    kcp_describe_connections_response_connection *c =
        fx_conn(b0, "User:alice", "10.0.0.1", 40001, "librdkafka", "2.0.2", "SASL_SSL");
    c->client_id_index = fx_str(b0, kcp_str_c("orders-7"));
    c->tls_protocol_index = fx_str(b0, kcp_str_c("TLSv1.3"));
    c->tls_cipher_index = fx_str(b0, kcp_str_c("TLS_AES_256_GCM_SHA384"));
    c->security_protocol = 3;
    c->session_expires_at_ms = T0 + 3600000;
    fx_conn(b0, "User:bob", "10.0.0.3", 40002, "unknown", "unknown", "SASL_SSL")->authenticated_at_ms =
        -1;
    fx_conn(b1, "User:alice", "2001:db8::7", 40003, "confluent-kafka-python", "1.7.0",
            "SASL_PLAINTEXT");
}

static char *render(const fx *f, int format, int group_by, bool summary, const char *columns,
                    const kc_changes *changes)
{
    kc_view v;
    char err[512];
    kc_view_opts vo = {group_by, summary, no_sort};
    assert_int_equal(kc_view_build(&v, f->results, f->n, &vo, err, sizeof err), 0);
    int *cols = NULL;
    size_t n_cols = 0;
    if (columns)
        assert_int_equal(kc_columns_parse(group_by, summary, columns, &cols, &n_cols, err, sizeof err),
                         0);
    kc_output_opts o = {.format = format,
                        .columns = cols,
                        .n_columns = n_cols,
                        .complete = false,
                        .generated_at = T0 + 1000,
                        .changes = changes};
    kc_buf b = {0};
    kc_output_write(&b, &v, &o);
    assert_false(b.err);
    char *text = strdup(kc_buf_str(&b));
    kc_buf_free(&b);
    free(cols);
    kc_view_free(&v);
    return text;
}

static void expect_python(const char *script, const char *input, const char *expected)
{
    char *out = fx_python(script, input, strlen(input));
    if (strcmp(out, expected) != 0) {
        print_error("input:\n%s\nexpected:\n%s\ngot:\n%s\n", input, expected, out);
        free(out);
        fail();
    }
    free(out);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static const char json_keys_script[] =
    "import json, sys\n"
    "d = json.load(open(sys.argv[1]))\n"
    "req = {'': ['brokers', 'principals', 'connections', 'totals'],\n"
    "  'brokers': ['node_id', 'host', 'port', 'status', 'error', 'connections', 'restricted'],\n"
    "  'principals': ['principal', 'connections', 'brokers', 'client_addresses', "
    "'client_software'],\n"
    "  'connections': ['node_id', 'connection_id', 'state', 'close_reason', 'principal', "
    "'listener', 'security_protocol', 'sasl_mechanism', 'tls_protocol', 'tls_cipher', "
    "'peer_certificate_subject', 'client_host', 'client_port', 'client_id', "
    "'client_software_name', 'client_software_version', 'connected_at', 'authenticated_at', "
    "'last_activity_at', 'idle_ms', 'requests', 'bytes_in', 'bytes_out', 'session_expires_at'],\n"
    "  'totals': ['connections', 'principals', 'brokers', 'brokers_ok', 'brokers_failed']}\n"
    "print([k for k in req[''] if k not in d])\n"
    "for part in ('brokers', 'principals', 'connections'):\n"
    "    print(part, len(d[part]), [[k for k in req[part] if k not in o] for o in d[part]])\n"
    "print('totals', [k for k in req['totals'] if k not in d['totals']])\n";

static void test_json_has_every_documented_key(void **state)
{
    (void)state;
    fx f;
    cluster(&f);
    char *json = render(&f, KC_OUTPUT_JSON, KC_GROUP_PRINCIPAL, false, NULL, NULL);
    expect_python(json_keys_script, json,
                  "[]\n"
                  "brokers 3 [[], [], []]\n"
                  "principals 2 [[], []]\n"
                  "connections 3 [[], [], []]\n"
                  "totals []\n");
    /* One object on one line. */
    assert_non_null(strchr(json, '\n'));
    assert_string_equal(strchr(json, '\n'), "\n");
    free(json);
    fx_free(&f);
}

static void test_json_values_of_brokers_principals_and_totals(void **state)
{
    (void)state;
    fx f;
    cluster(&f);
    char *json = render(&f, KC_OUTPUT_JSON, KC_GROUP_PRINCIPAL, false, NULL, NULL);
    expect_python(
        "import json, sys\n"
        "d = json.load(open(sys.argv[1]))\n"
        "print(d['schema_version'], d['generated_at'], d['complete'], d['summary'], d['group_by'])\n"
        "for b in d['brokers']: print(b)\n"
        "for p in d['principals']: print(p)\n"
        "print(d['totals'])\n"
        "print(d['groups'] == [dict(g, principal=g['key']) for g in d['groups']] or "
        "[g['key'] for g in d['groups']])\n",
        json,
        "1 2024-05-01T12:51:31.123Z False False principal\n"
        "{'node_id': 0, 'host': '127.0.0.1', 'port': 9092, 'status': 'ok', 'error': None, "
        "'restricted': False, 'connections': 2, 'total_count': 2, "
        "'broker_time': '2024-05-01T12:51:30.123Z', 'elapsed_ms': 3}\n"
        "{'node_id': 1, 'host': '::1', 'port': 9093, 'status': 'ok', 'error': None, "
        "'restricted': True, 'connections': 1, 'total_count': 1, "
        "'broker_time': '2024-05-01T12:51:30.123Z', 'elapsed_ms': 3}\n"
        "{'node_id': 2, 'host': '127.0.0.1', 'port': 9094, 'status': 'unreachable', "
        "'error': 'broker 2 (127.0.0.1:9094): connect failed: Connection refused', "
        "'restricted': None, 'connections': None, 'total_count': None, 'broker_time': None, "
        "'elapsed_ms': 3}\n"
        "{'principal': 'User:alice', 'connections': 2, 'brokers': [0, 1], "
        "'client_addresses': ['10.0.0.1', '2001:db8::7'], "
        "'client_software': ['confluent-kafka-python/1.7.0', 'librdkafka/2.0.2'], "
        "'listeners': ['SASL_PLAINTEXT', 'SASL_SSL']}\n"
        "{'principal': 'User:bob', 'connections': 1, 'brokers': [0], "
        "'client_addresses': ['10.0.0.3'], 'client_software': ['unknown/unknown'], "
        "'listeners': ['SASL_SSL']}\n"
        "{'connections': 3, 'principals': 2, 'brokers': 3, 'brokers_ok': 2, 'brokers_failed': 1, "
        "'truncated': False}\n"
        "['User:alice', 'User:bob']\n");
    free(json);
    fx_free(&f);
}

static void test_json_connection_fields_times_and_nulls(void **state)
{
    (void)state;
    fx f;
    cluster(&f);
    char *json = render(&f, KC_OUTPUT_JSON, KC_GROUP_PRINCIPAL, false, NULL, NULL);
    expect_python("import json, sys\n"
                  "d = json.load(open(sys.argv[1]))\n"
                  "for c in d['connections']: print(c)\n",
                  json,
                  "{'node_id': 0, 'connection_id': '127.0.0.1:9092-10.0.0.1:40001-0-40001', "
                  "'state': 'open', 'close_reason': None, 'principal': 'User:alice', "
                  "'listener': 'SASL_SSL', 'security_protocol': 'SASL_SSL', "
                  "'sasl_mechanism': 'SCRAM-SHA-256', 'tls_protocol': 'TLSv1.3', "
                  "'tls_cipher': 'TLS_AES_256_GCM_SHA384', 'peer_certificate_subject': None, "
                  "'peer_certificate_issuer': None, 'peer_certificate_serial': None, "
                  "'client_host': '10.0.0.1', 'client_port': 40001, 'local_host': '127.0.0.1', "
                  "'local_port': 9092, 'client_id': 'orders-7', "
                  "'client_software_name': 'librdkafka', 'client_software_version': '2.0.2', "
                  "'connected_at': '2024-05-01T12:50:30.123Z', "
                  "'authenticated_at': '2024-05-01T12:50:30.133Z', "
                  "'last_activity_at': '2024-05-01T12:51:28.623Z', 'idle_ms': 1500, "
                  "'requests': 7, 'bytes_in': 700, 'bytes_out': 1400, "
                  "'session_expires_at': '2024-05-01T13:51:30.123Z', 'closed_at': None}\n"
                  "{'node_id': 1, 'connection_id': '127.0.0.1:9092-2001:db8::7:40003-0-40003', "
                  "'state': 'open', 'close_reason': None, 'principal': 'User:alice', "
                  "'listener': 'SASL_PLAINTEXT', 'security_protocol': 'SASL_PLAINTEXT', "
                  "'sasl_mechanism': 'SCRAM-SHA-256', 'tls_protocol': None, 'tls_cipher': None, "
                  "'peer_certificate_subject': None, 'peer_certificate_issuer': None, "
                  "'peer_certificate_serial': None, 'client_host': '2001:db8::7', "
                  "'client_port': 40003, 'local_host': '127.0.0.1', 'local_port': 9092, "
                  "'client_id': None, 'client_software_name': 'confluent-kafka-python', "
                  "'client_software_version': '1.7.0', "
                  "'connected_at': '2024-05-01T12:50:30.123Z', "
                  "'authenticated_at': '2024-05-01T12:50:30.133Z', "
                  "'last_activity_at': '2024-05-01T12:51:28.623Z', 'idle_ms': 1500, "
                  "'requests': 7, 'bytes_in': 700, 'bytes_out': 1400, "
                  "'session_expires_at': None, 'closed_at': None}\n"
                  "{'node_id': 0, 'connection_id': '127.0.0.1:9092-10.0.0.3:40002-0-40002', "
                  "'state': 'open', 'close_reason': None, 'principal': 'User:bob', "
                  "'listener': 'SASL_SSL', 'security_protocol': 'SASL_PLAINTEXT', "
                  "'sasl_mechanism': 'SCRAM-SHA-256', 'tls_protocol': None, 'tls_cipher': None, "
                  "'peer_certificate_subject': None, 'peer_certificate_issuer': None, "
                  "'peer_certificate_serial': None, 'client_host': '10.0.0.3', "
                  "'client_port': 40002, 'local_host': '127.0.0.1', 'local_port': 9092, "
                  "'client_id': None, 'client_software_name': 'unknown', "
                  "'client_software_version': 'unknown', "
                  "'connected_at': '2024-05-01T12:50:30.123Z', 'authenticated_at': None, "
                  "'last_activity_at': '2024-05-01T12:51:28.623Z', 'idle_ms': 1500, "
                  "'requests': 7, 'bytes_in': 700, 'bytes_out': 1400, "
                  "'session_expires_at': None, 'closed_at': None}\n");
    free(json);
    fx_free(&f);
}

/* Strings chosen by clients: quotes, backslashes, C0 and C1 controls, DEL,
 * U+2028, a NUL, bytes that are not UTF-8. Every one survives the round
 * trip (invalid bytes as U+FFFD), and the JSON text itself holds no raw
 * control byte. */
static void test_json_escapes_every_byte_a_client_chooses(void **state)
{
    (void)state;
    static const char hostile[] = "a\"b\\c\x01\x1b[2J\n\t\x7f\xc2\x85\xc3\xa9\xe2\x80\xa8\0z\xff\xc3";
    fx f;
    fx_init(&f);
    kc_result *b0 = fx_broker(&f, 0, "h", 1, KC_OK, NULL, T0);
    fx_conn(b0, "User:x", "10.0.0.1", 1, "n", "v", "L")->client_id_index =
        fx_str(b0, fx_bytes(hostile, sizeof hostile - 1));
    char *json = render(&f, KC_OUTPUT_JSON, KC_GROUP_NONE, false, NULL, NULL);
    for (const unsigned char *p = (const unsigned char *)json; *p; p++)
        if (*p < 0x20 && *p != '\n')
            fail_msg("raw control byte 0x%02x in the JSON text", *p);
    expect_python("import json, sys\n"
                  "d = json.load(open(sys.argv[1]))\n"
                  "print([hex(ord(ch)) for ch in d['connections'][0]['client_id']])\n",
                  json,
                  "['0x61', '0x22', '0x62', '0x5c', '0x63', '0x1', '0x1b', '0x5b', '0x32', "
                  "'0x4a', '0xa', '0x9', '0x7f', '0x85', '0xe9', '0x2028', '0x0', '0x7a', "
                  "'0xfffd', '0xfffd']\n");
    free(json);
    fx_free(&f);
}

/* --summary: no rows, counts in "principals", addresses unknown (null). */
static void test_json_summary_mode(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    kc_result *b0 = fx_broker(&f, 0, "h0", 9092, KC_OK, NULL, T0);
    kc_result *b1 = fx_broker(&f, 1, "h1", 9092, KC_OK, NULL, T0);
    fx_summary(b0, "User:alice", 3, (const char *const[]){"SASL_SSL", NULL},
               (const char *const[]){"librdkafka/2.0.2", NULL}, (const int32_t[]){3, 3});
    fx_summary(b1, "User:alice", 1, (const char *const[]){"SASL_SSL", NULL},
               (const char *const[]){"librdkafka/2.0.2", NULL}, (const int32_t[]){1, 1});
    fx_summary(b1, "User:bob", 2, (const char *const[]){"PLAINTEXT", NULL},
               (const char *const[]){"kafkajs/2.2.4", NULL}, (const int32_t[]){2, 2});
    char *json = render(&f, KC_OUTPUT_JSON, KC_GROUP_PRINCIPAL, true, NULL, NULL);
    expect_python("import json, sys\n"
                  "d = json.load(open(sys.argv[1]))\n"
                  "print(d['summary'], d['connections'], d['totals']['connections'])\n"
                  "for p in d['principals']: print(p)\n"
                  "print([b['connections'] for b in d['brokers']])\n",
                  json,
                  "True [] 6\n"
                  "{'principal': 'User:alice', 'connections': 4, 'brokers': [0, 1], "
                  "'client_addresses': None, 'client_software': ['librdkafka/2.0.2'], "
                  "'listeners': ['SASL_SSL']}\n"
                  "{'principal': 'User:bob', 'connections': 2, 'brokers': [1], "
                  "'client_addresses': None, 'client_software': ['kafkajs/2.2.4'], "
                  "'listeners': ['PLAINTEXT']}\n"
                  "[3, 3]\n");
    free(json);
    fx_free(&f);
}

static void test_json_watch_changes(void **state)
{
    (void)state;
    fx f;
    cluster(&f);
    kc_seen gone = {3, "id-9", "User:eve", "10.9.9.9", 5555, "kcat/1.7.1"};
    const kc_seen *closed[] = {&gone};
    kc_changes ch = {NULL, 0, closed, 1, false};
    char *json = render(&f, KC_OUTPUT_JSON, KC_GROUP_BROKER, false, NULL, &ch);
    expect_python("import json, sys\n"
                  "d = json.load(open(sys.argv[1]))\n"
                  "print(d['changes'])\n"
                  "print(d['group_by'], [(g['key'], g['connections']) for g in d['groups']])\n"
                  "print(d['groups'][2])\n",
                  json,
                  "{'appeared': [], 'closed': [{'node_id': 3, 'connection_id': 'id-9', "
                  "'principal': 'User:eve', 'client_host': '10.9.9.9', 'client_port': 5555, "
                  "'client_software': 'kcat/1.7.1'}]}\n"
                  "broker [(0, 2), (1, 1), (2, None)]\n"
                  "{'key': 2, 'connections': None, 'brokers': None, 'principals': None, "
                  "'client_addresses': None, 'client_software': None, 'listeners': None}\n");
    free(json);
    /* Summaries list no connection: changes cannot be told, not "none". */
    ch.untracked = true;
    json = render(&f, KC_OUTPUT_JSON, KC_GROUP_PRINCIPAL, false, NULL, &ch);
    expect_python("import json, sys\n"
                  "d = json.load(open(sys.argv[1]))\n"
                  "print('changes' in d, d['changes'])\n",
                  json, "True None\n");
    free(json);
    fx_free(&f);
}

/* ---- CSV ---------------------------------------------------------------------------- */

static const char csv_script[] = "import csv, sys\n"
                                 "rows = list(csv.reader(open(sys.argv[1], newline='')))\n"
                                 "print(len(rows))\n"
                                 "for r in rows: print(r)\n";

static void test_csv_one_row_per_connection_parsed_by_python(void **state)
{
    (void)state;
    fx f;
    cluster(&f);
    fx_row(&f.results[0], 0)->client_id_index = fx_str(&f.results[0], kcp_str_c("a,\"b\"\r\nc "));
    char *csv = render(&f, KC_OUTPUT_CSV, KC_GROUP_NONE, false,
                       "node_id,principal,client,client_id,connected_at,idle_ms,tls_protocol",
                       NULL);
    expect_python(csv_script, csv,
                  "4\n"
                  "['node_id', 'principal', 'client', 'client_id', 'connected_at', 'idle_ms', "
                  "'tls_protocol']\n"
                  "['0', 'User:alice', '10.0.0.1:40001', 'a,\"b\"\\r\\nc ', "
                  "'2024-05-01T12:50:30.123Z', '1500', 'TLSv1.3']\n"
                  "['1', 'User:alice', '[2001:db8::7]:40003', '', '2024-05-01T12:50:30.123Z', "
                  "'1500', '']\n"
                  "['0', 'User:bob', '10.0.0.3:40002', '', '2024-05-01T12:50:30.123Z', '1500', "
                  "'']\n");
    /* RFC 4180: CRLF after each record, one header line. */
    assert_memory_equal(csv, "node_id,principal,client,client_id,connected_at,idle_ms,tls_protocol\r\n", 70);
    free(csv);

    /* Without --columns: every JSON field of a connection. */
    csv = render(&f, KC_OUTPUT_CSV, KC_GROUP_NONE, false, NULL, NULL);
    expect_python("import csv, sys\n"
                  "rows = list(csv.reader(open(sys.argv[1], newline='')))\n"
                  "print(len(rows), len(rows[0]), set(len(r) for r in rows))\n"
                  "print(rows[0][:5], rows[0][-2:])\n",
                  csv,
                  "4 29 {29}\n"
                  "['node_id', 'connection_id', 'state', 'close_reason', 'principal'] "
                  "['session_expires_at', 'closed_at']\n");
    free(csv);
    fx_free(&f);
}

static void test_csv_one_row_per_group(void **state)
{
    (void)state;
    fx f;
    cluster(&f);
    char *csv = render(&f, KC_OUTPUT_CSV, KC_GROUP_PRINCIPAL, false, NULL, NULL);
    expect_python(csv_script, csv,
                  "3\n"
                  "['principal', 'connections', 'brokers', 'client_addresses', "
                  "'client_software', 'listeners']\n"
                  "['User:alice', '2', '0;1', '10.0.0.1;2001:db8::7', "
                  "'confluent-kafka-python/1.7.0;librdkafka/2.0.2', 'SASL_PLAINTEXT;SASL_SSL']\n"
                  "['User:bob', '1', '0', '10.0.0.3', 'unknown/unknown', 'SASL_SSL']\n");
    free(csv);
    csv = render(&f, KC_OUTPUT_CSV, KC_GROUP_BROKER, false, "node_id,status,connections,error",
                 NULL);
    expect_python(csv_script, csv,
                  "4\n"
                  "['node_id', 'status', 'connections', 'error']\n"
                  "['0', 'ok', '2', '']\n"
                  "['1', 'ok', '1', '']\n"
                  "['2', 'unreachable', '', 'broker 2 (127.0.0.1:9094): connect failed: "
                  "Connection refused']\n");
    free(csv);
    fx_free(&f);
}

/* A list entry holding the separator (an mTLS principal's subject) is
 * quoted: Python's csv module splits the CSV list cell back into entries,
 * and the table's cell reads the same way. */
static void test_list_entries_holding_the_separator_are_quoted(void **state)
{
    (void)state;
    fx f;
    cluster(&f);
    fx_row(&f.results[0], 0)->principal_index =
        fx_str(&f.results[0], kcp_str_c("User:CN=al;ice,OU=e\"ng"));
    char *csv = render(&f, KC_OUTPUT_CSV, KC_GROUP_BROKER, false, "node_id,principals", NULL);
    expect_python("import csv, sys\n"
                  "rows = list(csv.reader(open(sys.argv[1], newline='')))\n"
                  "print(next(csv.reader([rows[1][1]], delimiter=';')))\n",
                  csv, "['User:CN=al;ice,OU=e\"ng', 'User:bob']\n");
    free(csv);
    char *table = render(&f, KC_OUTPUT_TABLE, KC_GROUP_BROKER, false, "node_id,principals", NULL);
    assert_non_null(strstr(table, "\n      0  \"User:CN=al;ice,OU=e\"\"ng\",User:bob\n"));
    free(table);
    fx_free(&f);
}

/* ---- table -------------------------------------------------------------------------- */

static void test_table_aligns_columns_and_escapes_controls(void **state)
{
    (void)state;
    fx f;
    cluster(&f);
    fx_row(&f.results[0], 1)->principal_index = fx_str(&f.results[0], kcp_str_c("User:b\x1b[31mob"));
    char *table = render(&f, KC_OUTPUT_TABLE, KC_GROUP_PRINCIPAL, false, NULL, NULL);
    assert_string_equal(table,
                        "PRINCIPAL         CONNECTIONS  BROKERS  CLIENT_ADDRESSES      "
                        "CLIENT_SOFTWARE\n"
                        "User:alice                  2  0,1      10.0.0.1,2001:db8::7  "
                        "confluent-kafka-python/1.7.0,librdkafka/2.0.2\n"
                        "User:b\\x1b[31mob            1  0        10.0.0.3              "
                        "unknown/unknown\n"
                        "3 connections, 2 principals; 2 of 3 brokers answered (1 showing only the "
                        "caller's own connections)\n");
    free(table);
    table = render(&f, KC_OUTPUT_TABLE, KC_GROUP_NONE, false,
                   "node_id,principal,client,client_software,idle,connected_at", NULL);
    assert_string_equal(table,
                        "NODE_ID  PRINCIPAL         CLIENT               CLIENT_SOFTWARE         "
                        "      IDLE  CONNECTED_AT\n"
                        "      0  User:alice        10.0.0.1:40001       librdkafka/2.0.2        "
                        "        1s  2024-05-01T12:50:30Z\n"
                        "      1  User:alice        [2001:db8::7]:40003  "
                        "confluent-kafka-python/1.7.0    1s  2024-05-01T12:50:30Z\n"
                        "      0  User:b\\x1b[31mob  10.0.0.3:40002       unknown/unknown         "
                        "        1s  2024-05-01T12:50:30Z\n"
                        "3 connections, 2 principals; 2 of 3 brokers answered (1 showing only the "
                        "caller's own connections)\n");
    free(table);
    fx_free(&f);
}

/* ---- primitives ---------------------------------------------------------------------- */

static const char *text_of(kc_buf *b)
{
    return kc_buf_str(b);
}

static void test_text_primitives(void **state)
{
    (void)state;
    kc_buf b = {0};
    kc_fmt_time(&b, 0, true);
    assert_string_equal(text_of(&b), "1970-01-01T00:00:00.000Z");
    kc_buf_reset(&b);
    kc_fmt_time(&b, -1, true);
    assert_string_equal(text_of(&b), "1969-12-31T23:59:59.999Z");
    kc_buf_reset(&b);
    kc_fmt_time(&b, T0, false);
    assert_string_equal(text_of(&b), "2024-05-01T12:51:30Z");

    static const struct {
        int64_t ms;
        const char *text;
    } durations[] = {{0, "0ms"}, {850, "850ms"}, {42000, "42s"}, {303000, "5m03s"},
                     {7500000, "2h05m"}, {273600000, "3d04h"}};
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        kc_buf_reset(&b);
        kc_fmt_duration(&b, durations[i].ms);
        assert_string_equal(text_of(&b), durations[i].text);
    }

    static const struct {
        const char *in, *out;
    } csv[] = {{"plain", "plain"},     {"a,b", "\"a,b\""},     {"say \"x\"", "\"say \"\"x\"\"\""},
               {"two\nlines", "\"two\nlines\""}, {" lead", "\" lead\""}, {"", ""}};
    for (size_t i = 0; i < sizeof csv / sizeof csv[0]; i++) {
        kc_buf_reset(&b);
        kc_csv_field(&b, csv[i].in, strlen(csv[i].in), false);
        assert_string_equal(text_of(&b), csv[i].out);
    }
    kc_buf_reset(&b);
    kc_csv_field(&b, "a\x1b" "b", 3, true);
    assert_string_equal(text_of(&b), "a\\x1bb");

    kc_buf_reset(&b);
    kc_term_str(&b, "a\\b\x01\x7f\xc2\x85\xff\xc3\xa9\n", 11);
    assert_string_equal(text_of(&b), "a\\\\b\\x01\\x7f\\u0085\\xff\xc3\xa9\\n");
    assert_int_equal(kc_display_width("\xc3\xa9t\xc3\xa9", 5), 3);

    kc_buf_reset(&b);
    kc_json_str(&b, "\xe2\x80\xa9\x08\x0c", 5);
    assert_string_equal(text_of(&b), "\"\\u2029\\b\\f\"");
    kc_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_has_every_documented_key),
        cmocka_unit_test(test_json_values_of_brokers_principals_and_totals),
        cmocka_unit_test(test_json_connection_fields_times_and_nulls),
        cmocka_unit_test(test_json_escapes_every_byte_a_client_chooses),
        cmocka_unit_test(test_json_summary_mode),
        cmocka_unit_test(test_json_watch_changes),
        cmocka_unit_test(test_csv_one_row_per_connection_parsed_by_python),
        cmocka_unit_test(test_csv_one_row_per_group),
        cmocka_unit_test(test_list_entries_holding_the_separator_are_quoted),
        cmocka_unit_test(test_table_aligns_columns_and_escapes_controls),
        cmocka_unit_test(test_text_primitives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
