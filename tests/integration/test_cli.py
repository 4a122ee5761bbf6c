#!/usr/bin/python3
"""kafka-connections from the outside: the binary against a real 3-node
cluster with real clients left connected as several principals.

What the clients hold is known without asking the brokers: the TCP sockets
each client process has open (from /proc). Every listing the tool prints is
compared with that, connection by connection (node id and client port),
after each filter, view and output format. Then every exit status: 1 and 0
with --expect-none, 2 for bad options and property files, 3 for a broker
killed before the run and for a restricted view, 4 for wrong credentials;
both styles of --command-config and -X; TLS verification failures; no
password in any output, librdkafka's debug log included; --watch showing a
client appear and close. Its own connections are never listed.

The program comes from $KAFKA_CONNECTIONS (meson test sets it), the broker
from $KAFKA_CONNECTIONS_BROKER.
"""

import collections
import csv
import io
import json
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
import describe  # noqa: E402
import kcluster  # noqa: E402
import support  # noqa: E402
from support import MTLS_PRINCIPAL  # noqa: E402

RUN_TIMEOUT_S = 60
SETTLE_TIMEOUT_S = 20
AGREE_TIMEOUT_S = 8
WATCH_LINE_TIMEOUT_S = 15
WRONG_PASSWORD = "Wr0ng-Passw0rd-42"
# Every password a run may know: none may ever reach stdout or stderr.
SECRETS = sorted(set(kcluster.USERS.values()) | {WRONG_PASSWORD})
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TIME_KEYS = ("connected_at", "authenticated_at", "last_activity_at")

# One connection as the tests know it: where it is and who made it.
Conn = collections.namedtuple("Conn", "node_id client_port principal listener client_id software")

# name -> (client script, (listener, SASL mechanism, user or "mtls"), client id)
CLIENTS = {
    "alice": ("kafka_python", ("SASL_PLAINTEXT", "SCRAM-SHA-256", "alice"), "orders-service"),
    "bob": ("confluent", ("SASL_SSL", "SCRAM-SHA-512", "bob"), "billing-service"),
    "jose": ("kafkajs", ("SASL_PLAINTEXT", "PLAIN", "josé"), "web-frontend"),
    "mtls": ("confluent", ("SSL", None, "mtls"), "audit-job"),
}


def cli_path():
    path = os.environ.get("KAFKA_CONNECTIONS")
    if not path:
        raise RuntimeError("set KAFKA_CONNECTIONS to kafka-connections' path (meson test does)")
    return path


def confluent_software():
    """(name, version) that confluent-kafka-python reports in ApiVersions:
    its own version followed by librdkafka's."""
    out = subprocess.run([support.PYTHON, "-c", "import confluent_kafka as c; "
                          "print(c.version()[0], c.libversion()[0])"],
                         capture_output=True, text=True, timeout=30, check=True).stdout.split()
    return "confluent-kafka-python/%s-rdkafka-%s" % (out[0], out[1])


def conn_of(row):
    """Conn of one object of the JSON "connections" list."""
    return Conn(row["node_id"], row["client_port"], row["principal"], row["listener"],
                row["client_id"],
                "%s/%s" % (row["client_software_name"], row["client_software_version"]))


def write_properties(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def jaas(module, user, password):
    return ('sasl.jaas.config=org.apache.kafka.common.security.%s required username="%s" '
            'password="%s";' % (module, user, password))


class LiveClient:
    """A client script left connected, and what it is expected to look
    like in the tool's rows."""

    def __init__(self, cluster, kind, setup, client_id, software):
        listener, _, user = setup
        self.cluster = cluster
        self.listener = listener
        self.client_id = client_id
        self.principal = MTLS_PRINCIPAL if user == "mtls" else "User:" + user
        self.software = software
        self.proc = support.ClientProcess(kind, support.client_settings(cluster, setup, client_id,
                                                                         idle_s=600))

    def ready(self):
        if self.proc.wait_ready() is None:
            raise AssertionError(self.proc.error)

    def connections(self):
        """Its connections, from the sockets the process holds."""
        if self.proc.proc.poll() is not None:
            return set()
        node_of = {n.ports[self.listener]: n.id for n in self.cluster.nodes}
        return {Conn(node_of[broker_port], client_port, self.principal, self.listener,
                     self.client_id, self.software)
                for broker_port, client_port in support.established_pairs(self.proc.proc.pid,
                                                                          set(node_of))}

    def stop(self):
        self.proc.stop()


class LineReader:
    """JSON lines from a pipe, each waited for with a bound."""

    def __init__(self, f):
        self.fd = f.fileno()
        self.buf = b""
        self.eof = False

    def next(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            self.eof = not chunk
            self.buf += chunk
        if b"\n" not in self.buf:
            return None
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line.decode("utf-8"))


def ssl_config(cluster):
    """A --command-config for cluster's SSL listener, trusting its CA."""
    return write_properties(os.path.join(cluster.dir, "ssl.properties"), [
        "security.protocol=SSL", "ssl.truststore.type=PEM",
        "ssl.truststore.location=" + cluster.ca_path])


def interrupt_watch(test, argv, after_s):
    """Starts `argv` (a --watch run), sends SIGINT after after_s seconds
    and returns (exit status, seconds from the signal to the exit, stdout,
    stderr). Ctrl-C must end a refresh under way, not wait for --timeout."""
    p = kcluster.spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    try:
        time.sleep(after_s)
        test.assertIsNone(p.poll(), "the run ended before the signal")
        p.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        out, err = p.communicate(timeout=RUN_TIMEOUT_S)
        return p.returncode, time.monotonic() - signalled, out.decode(), err.decode()
    finally:
        kcluster.stop_process(p, 5)


class CliCase(unittest.TestCase):
    """Running the program; every run is checked for leaked passwords."""

    cluster = None
    config = None  # the default --command-config

    def run_cli(self, *args, config=True, bootstrap="SASL_SSL", rc=None, timeout=RUN_TIMEOUT_S):
        """Runs kafka-connections; config=True: the class's admin config,
        a path: that file, None: none. rc: the expected exit status."""
        argv = [cli_path()]
        if bootstrap:
            argv += ["--bootstrap-server", self.cluster.bootstrap(bootstrap)]
        if config is True:
            config = self.config
        if config:
            argv += ["--command-config", config]
        if "--timeout" not in args:  # given once: a second one is a usage error
            argv += ["--timeout", "10000"]
        argv += list(args)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
        shown = " ".join(a if a not in SECRETS else "***" for a in argv[1:])
        for secret in SECRETS:
            self.assertNotIn(secret, out, "password on stdout of: %s" % shown)
            self.assertNotIn(secret, err, "password on stderr of: %s" % shown)
        if rc is not None:
            self.assertEqual(p.returncode, rc, "kafka-connections %s\nstdout: %s\nstderr: %s"
                             % (shown, out[-2000:], err[-2000:]))
        return p.returncode, out, err

    def json_of(self, *args, rc=0, **kwargs):
        _, out, _ = self.run_cli("--output", "json", *args, rc=rc, **kwargs)
        self.assertTrue(out.endswith("\n") and out.count("\n") == 1, "not one line: %r" % out[:200])
        return json.loads(out)

    def csv_of(self, *args, rc=0, **kwargs):
        _, out, _ = self.run_cli("--output", "csv", *args, rc=rc, **kwargs)
        return list(csv.reader(io.StringIO(out, newline="")))


class ConnectedCluster(CliCase):
    clients = {}

    @classmethod
    def setUpClass(cls):
        cls.started = time.monotonic()
        cls.software = {"kafka_python": "unknown/unknown", "kafkajs": "unknown/unknown",
                        "confluent": confluent_software()}
        cls.cluster = kcluster.Cluster(support.broker_path(), nodes=3)
        cls.cluster.__enter__()
        try:
            cls.write_configs()
            for name, (kind, setup, client_id) in CLIENTS.items():
                cls.clients[name] = cls.start_client(kind, setup, client_id)
            for c in cls.clients.values():
                c.ready()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_client(cls, kind, setup, client_id):
        return LiveClient(cls.cluster, kind, setup, client_id, cls.software[kind])

    @classmethod
    def write_configs(cls):
        d, ca = cls.cluster.dir, cls.cluster.ca_path
        admin = kcluster.USERS[kcluster.SUPER_USER]
        cls.config = write_properties(os.path.join(d, "admin-scram.properties"), [
            "# Kafka's Java client style",
            "security.protocol=SASL_SSL",
            "sasl.mechanism=SCRAM-SHA-512",
            jaas("scram.ScramLoginModule", "admin", admin),
            "ssl.truststore.type=PEM",
            "ssl.truststore.location=" + ca,
            "ssl.endpoint.identification.algorithm=https",
        ])
        cls.plain_config = write_properties(os.path.join(d, "admin-plain.properties"), [
            "security.protocol=SASL_PLAINTEXT",
            "sasl.mechanism=PLAIN",
            jaas("plain.PlainLoginModule", "admin", admin),
        ])
        cls.rdkafka_config = write_properties(os.path.join(d, "admin-librdkafka.properties"), [
            "# librdkafka style",
            "security.protocol=SASL_SSL",
            "sasl.mechanisms=SCRAM-SHA-256",
            "sasl.username=admin",
            "sasl.password=" + admin,
            "ssl.ca.location=" + ca,
        ])
        cls.wrong_config = write_properties(os.path.join(d, "admin-wrong.properties"), [
            "security.protocol=SASL_SSL",
            "sasl.mechanism=SCRAM-SHA-512",
            jaas("scram.ScramLoginModule", "admin", WRONG_PASSWORD),
            "ssl.truststore.location=" + ca,
        ])

    @classmethod
    def tearDownClass(cls):
        for c in cls.clients.values():
            c.stop()
        cls.clients = {}
        if cls.cluster:
            support.stop_cluster(cls.cluster)
            cls.cluster = None
        print("kafka-connections against a connected cluster: %.1fs"
              % (time.monotonic() - cls.started), file=sys.stderr)

    # ---- what the clients hold ------------------------------------------------

    def truth(self, *names):
        """The connections the named clients (default: all) hold now."""
        out = set()
        for name in names or self.clients:
            out |= self.clients[name].connections()
        return out

    def agree(self, args, expected, timeout=AGREE_TIMEOUT_S, **kwargs):
        """Runs the tool with args (JSON output) until its connections are
        expected(truth) (a function of the clients' connections); returns
        the JSON object. Retries only absorb a client opening or closing a
        socket between the two looks; a mismatch that stays fails."""
        deadline = time.monotonic() + timeout
        while True:
            truth = self.truth()
            want = expected(truth)
            got = self.json_of(*args, **kwargs)
            have = {conn_of(c) for c in got["connections"]}
            if have == want and truth == self.truth():
                return got
            if time.monotonic() > deadline:
                self.fail("kafka-connections %s listed\n  %s\nbut the clients hold\n  %s"
                          % (" ".join(args), sorted(have), sorted(want)))
            time.sleep(0.2)

    def settled(self):
        got = self.agree([], lambda t: t, timeout=SETTLE_TIMEOUT_S)
        for name in self.clients:
            self.assertTrue(self.clients[name].connections(), "%s holds no connection" % name)
        return got

    def expect_filter(self, args, keep):
        return self.agree(args, lambda truth: {c for c in truth if keep(c)})

    # ---- who is connected ----------------------------------------------------

    def test_principals_exact_counts_and_brokers(self):
        got = self.settled()
        truth = {conn_of(c) for c in got["connections"]}
        want = collections.defaultdict(list)
        for c in truth:
            want[c.principal].append(c)
        self.assertEqual(set(want), {c.principal for c in self.clients.values()})
        principals = {p["principal"]: p for p in got["principals"]}
        self.assertEqual(set(principals), set(want), "the tool's own principal must not show")
        for principal, conns in want.items():
            p = principals[principal]
            self.assertEqual(p["connections"], len(conns), principal)
            self.assertEqual(p["brokers"], sorted({c.node_id for c in conns}), principal)
            self.assertEqual(p["client_addresses"], ["127.0.0.1"], principal)
            self.assertEqual(p["client_software"], sorted({c.software for c in conns}), principal)
            self.assertEqual(p["listeners"], sorted({c.listener for c in conns}), principal)
        # Most connections first.
        counts = [p["connections"] for p in got["principals"]]
        self.assertEqual(counts, sorted(counts, reverse=True))
        self.assertTrue(got["complete"])
        self.assertFalse(got["summary"])
        self.assertEqual(got["totals"], {"connections": len(truth), "principals": len(want),
                                         "brokers": 3, "brokers_ok": 3, "brokers_failed": 0,
                                         "truncated": False})
        per_node = collections.Counter(c.node_id for c in truth)
        self.assertEqual([b["node_id"] for b in got["brokers"]], [1, 2, 3])
        for b in got["brokers"]:
            node = self.cluster.node(b["node_id"])
            self.assertEqual((b["host"], b["port"]), node.endpoint("SASL_SSL"))
            self.assertEqual((b["status"], b["error"], b["restricted"]), ("ok", None, False))
            self.assertEqual(b["connections"], per_node[b["node_id"]])
            self.assertEqual(b["total_count"], per_node[b["node_id"]])
        for row in got["connections"]:
            self.assertEqual(row["state"], "open")
            self.assertIsNone(row["closed_at"])
            self.assertEqual(row["client_host"], "127.0.0.1")
            node = self.cluster.node(row["node_id"])
            self.assertEqual(row["local_port"], node.ports[row["listener"]])
            self.assertEqual(row["security_protocol"], row["listener"])
            for key in TIME_KEYS:
                self.assertRegex(row[key], RFC3339_UTC, key)
            self.assertIsInstance(row["idle_ms"], int)
            self.assertGreater(row["bytes_in"], 0)
        mtls = [r for r in got["connections"] if r["principal"] == MTLS_PRINCIPAL]
        self.assertEqual({(r["sasl_mechanism"], r["peer_certificate_subject"]) for r in mtls},
                         {("MTLS", MTLS_PRINCIPAL[len("User:"):])})
        self.assertRegex(got["generated_at"], RFC3339_UTC)

    # ---- filters ----------------------------------------------------------------

    def test_filter_principal(self):
        self.settled()
        alice = self.expect_filter(["--principal", "alice"], lambda c: c.principal == "User:alice")
        typed = self.expect_filter(["--principal", "User:alice"], lambda c: c.principal == "User:alice")
        self.assertEqual(alice["principals"], typed["principals"])
        self.assertEqual([p["principal"] for p in alice["principals"]], ["User:alice"])
        self.expect_filter(["--principal", "josé", "--principal", "User:bob"],
                           lambda c: c.principal in ("User:josé", "User:bob"))
        # A principal with commas and spaces is one value, not a list.
        self.expect_filter(["--principal", MTLS_PRINCIPAL], lambda c: c.principal == MTLS_PRINCIPAL)
        self.expect_filter(["--principal", "nobody"], lambda c: False)

    def test_filter_listener(self):
        self.settled()
        self.expect_filter(["--listener", "SASL_PLAINTEXT"], lambda c: c.listener == "SASL_PLAINTEXT")
        self.expect_filter(["--listener", "ssl"], lambda c: c.listener == "SSL")
        self.expect_filter(["--listener", "SSL", "--listener", "SASL_SSL"],
                           lambda c: c.listener in ("SSL", "SASL_SSL"))
        self.expect_filter(["--listener", "PLAINTEXT"], lambda c: False)
        # Different filters must all match.
        self.expect_filter(["--listener", "SSL", "--principal", "alice"], lambda c: False)

    def test_filter_client_address(self):
        self.settled()
        for value in ("127.0.0.1", "127.0.0.0/8", "127.0.0.1/32"):
            self.expect_filter(["--client-address", value], lambda c: True)
        for value in ("127.0.0.2", "10.0.0.0/8", "::1", "127.0.0.2/31"):
            self.expect_filter(["--client-address", value], lambda c: False)

    def test_filter_client_software(self):
        self.settled()
        confluent = self.software["confluent"]
        name = confluent.split("/")[0]
        self.expect_filter(["--client-software", name], lambda c: c.software == confluent)
        self.expect_filter(["--client-software", confluent], lambda c: c.software == confluent)
        self.expect_filter(["--client-software", name + "/0.0.1"], lambda c: False)
        # Clients that report no software (kafka-python, kafkajs) are "unknown".
        self.expect_filter(["--client-software", "unknown"], lambda c: c.software == "unknown/unknown")

    def test_filter_client_id(self):
        self.settled()
        self.expect_filter(["--client-id", "audit-job"], lambda c: c.client_id == "audit-job")
        self.expect_filter(["--client-id", "audit-job", "--client-id", "orders-service"],
                           lambda c: c.client_id in ("audit-job", "orders-service"))
        self.expect_filter(["--client-id", "no-such-client"], lambda c: False)

    def test_filter_idle_longer_than(self):
        self.settled()
        # The clients have been idle since they connected; wait until each
        # of their connections is idle for more than the threshold.
        threshold_ms = 2000

        def all_idle():
            rows = self.json_of("--group-by", "none")["connections"]
            return rows and min(r["idle_ms"] for r in rows) > threshold_ms + 500
        support.wait_until(all_idle, 10, "connections idle for %d ms" % threshold_ms, 0.5)
        node = self.cluster.nodes[0]
        host, port = node.endpoint("SASL_PLAINTEXT")
        # A connection that has just been used must not match.
        with describe.connect(host, port, "SASL_PLAINTEXT", "SCRAM-SHA-512", "bob",
                              self.cluster.users["bob"], client_id="fresh-connection"):
            self.expect_filter(["--idle-longer-than", "2s"], lambda c: True)
            fresh = self.json_of("--client-id", "fresh-connection")
            self.assertEqual(fresh["totals"]["connections"], 1)
            self.assertLess(fresh["connections"][0]["idle_ms"], threshold_ms)
        self.expect_filter(["--idle-longer-than", "1h"], lambda c: False)
        self.expect_filter(["--idle-longer-than", "1h30m"], lambda c: False)

    def check_limit(self, truth, limit, *args):
        per_node = collections.Counter(c.node_id for c in truth)
        got = self.json_of("--limit", str(limit), "--group-by", "none", *args)
        listed = {conn_of(c) for c in got["connections"]}
        self.assertLessEqual(listed, truth)
        self.assertEqual(collections.Counter(c.node_id for c in listed),
                         {n: min(limit, k) for n, k in per_node.items()})
        self.assertEqual(got["totals"]["truncated"], max(per_node.values()) > limit)
        # The brokers leave the tool's own connections out of their counts
        # too (ExcludeClientId): each count is exactly what the clients hold.
        self.assertEqual({b["node_id"]: b["total_count"] for b in got["brokers"]},
                         {n.id: per_node[n.id] for n in self.cluster.nodes})
        # CSV has no place for it: stderr names each broker cut short.
        _, out, err = self.run_cli("--output", "csv", "--limit", str(limit), "--group-by", "none",
                                   *args, rc=0)
        self.assertEqual(len(list(csv.reader(io.StringIO(out, newline="")))) - 1, len(listed))
        notes = sorted(int(m) for m in re.findall(r"note: broker (\d+) \(", err))
        self.assertEqual(notes, sorted(n for n, k in per_node.items() if k > limit), err)
        return got, per_node

    def test_filter_limit(self):
        truth = {conn_of(c) for c in self.settled()["connections"]}
        most = max(collections.Counter(c.node_id for c in truth).values())
        self.assertGreater(most, 1, "the test wants a broker with several connections")
        for limit in (1, most - 1, most, most + 1, 1000):
            with self.subTest(limit=limit):
                self.check_limit(truth, limit)
        sasl_plaintext = {c for c in truth if c.listener == "SASL_PLAINTEXT"}
        self.check_limit(sasl_plaintext, 1, "--listener", "SASL_PLAINTEXT")

    def test_filter_broker(self):
        self.settled()
        got = self.expect_filter(["--broker", "3"], lambda c: c.node_id == 3)
        self.assertEqual([b["node_id"] for b in got["brokers"]], [3])
        # An id the metadata does not list was asked about and not answered.
        rc, out, err = self.run_cli("--broker", "1", "--broker", "9", "--output", "json", rc=3)
        self.assertEqual([(b["node_id"], b["status"]) for b in json.loads(out)["brokers"]],
                         [(1, "ok"), (9, "unreachable")])
        self.assertIn("broker 9: not in the cluster's metadata", err)
        # So a check that names every broker fails closed when one is gone.
        self.run_cli("--broker", "1", "--broker", "9", "--principal", "nobody", "--expect-none", rc=3)

    def test_state_closed_and_all(self):
        self.settled()
        leaver = self.start_client("confluent", ("SASL_PLAINTEXT", "SCRAM-SHA-512", "a=b,c"),
                                   "leaving-job")
        try:
            leaver.ready()

            def listed():
                held = leaver.connections()
                rows = self.json_of("--client-id", "leaving-job")["connections"]
                return held if held and {conn_of(c) for c in rows} == held else None
            held = support.wait_until(listed, SETTLE_TIMEOUT_S,
                                      "the leaving client's connections, listed as open", 0.2)
        finally:
            leaver.stop()
        ports = {(c.node_id, c.client_port) for c in held}

        def closed_rows():
            rows = self.json_of("--state", "closed", "--client-id", "leaving-job")["connections"]
            return rows if ports <= {(r["node_id"], r["client_port"]) for r in rows} else None
        closed = support.wait_until(closed_rows, 10, "the leaving client's closed connections", 0.2)
        for r in closed:
            self.assertEqual(r["state"], "closed")
            self.assertRegex(r["closed_at"], RFC3339_UTC)
            self.assertIsNotNone(r["close_reason"])
        for r in closed:
            if (r["node_id"], r["client_port"]) in ports:
                self.assertEqual(r["principal"], "User:a=b,c")
        self.assertEqual(self.json_of("--client-id", "leaving-job")["connections"], [])
        everything = self.json_of("--state", "all", "--client-id", "leaving-job",
                                  "--client-id", "audit-job")
        want = {r["connection_id"] for r in closed} | {
            r["connection_id"] for r in self.json_of("--client-id", "audit-job")["connections"]}
        self.assertEqual({r["connection_id"] for r in everything["connections"]}, want)
        self.assertEqual({r["state"] for r in everything["connections"]}, {"open", "closed"})
        # A rotation check: the user left, but recently.
        self.run_cli("--principal", "a=b,c", "--expect-none", rc=0)
        self.run_cli("--principal", "a=b,c", "--state", "all", "--expect-none", rc=1)
        self.run_cli("--principal", "User:a=b,c", "--state", "closed", "--expect-none", rc=1)

    # ---- views and formats -----------------------------------------------------------

    def expected_groups(self, truth, key):
        keyfn = {"principal": lambda c: c.principal, "broker": lambda c: c.node_id,
                 "client-software": lambda c: c.software, "client-address": lambda c: "127.0.0.1",
                 "listener": lambda c: c.listener}[key]
        groups = collections.defaultdict(set)
        for c in truth:
            groups[keyfn(c)].add(c)
        if key == "broker":
            for n in self.cluster.nodes:  # every broker asked, even with none
                groups.setdefault(n.id, set())
        return groups

    def test_group_by_each_key(self):
        truth = {conn_of(c) for c in self.settled()["connections"]}
        for key in ("principal", "broker", "client-software", "client-address", "listener"):
            with self.subTest(group_by=key):
                want = self.expected_groups(truth, key)
                got = self.json_of("--group-by", key)
                self.assertEqual({conn_of(c) for c in got["connections"]}, truth)
                self.assertEqual({g["key"]: g["connections"] for g in got["groups"]},
                                 {k: len(v) for k, v in want.items()})
                for g in got["groups"]:
                    conns = want[g["key"]]
                    self.assertEqual(g["brokers"], sorted({c.node_id for c in conns}))
                    self.assertEqual(sorted(g["principals"]), sorted({c.principal for c in conns}))
                counts = [g["connections"] for g in got["groups"]]
                self.assertEqual(counts, sorted(counts, reverse=True))
                rows = self.csv_of("--group-by", key)
                self.assertEqual(len(rows), 1 + len(want), rows)
                count = rows[0].index("connections")
                self.assertEqual({(r[0], int(r[count])) for r in rows[1:]},
                                 {(str(k), len(v)) for k, v in want.items()})
                _, table, _ = self.run_cli("--group-by", key, rc=0)
                lines = table.splitlines()
                # A header, one line per group, and the totals line.
                self.assertEqual(len(lines), 2 + len(want), table)
        got = self.json_of("--group-by", "none")
        self.assertEqual(got["groups"], [])
        self.assertEqual({conn_of(c) for c in got["connections"]}, truth)
        rows = self.csv_of("--group-by", "none")
        self.assertEqual(len(rows), 1 + len(truth))

    def test_output_json_csv_table(self):
        truth = {conn_of(c) for c in self.settled()["connections"]}
        got = self.json_of()
        for key in ("brokers", "principals", "connections", "totals"):
            self.assertIn(key, got)
        # CSV: one row per connection by default, every JSON connection key.
        rows = self.csv_of()
        header, records = rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]
        self.assertEqual(set(header), set(got["connections"][0]))
        self.assertTrue(all(len(r) == len(header) for r in rows))
        self.assertEqual({Conn(int(r["node_id"]), int(r["client_port"]), r["principal"],
                               r["listener"], r["client_id"],
                               r["client_software_name"] + "/" + r["client_software_version"])
                          for r in records}, truth)
        for r in records:
            self.assertRegex(r["connected_at"], RFC3339_UTC)
            self.assertEqual(r["closed_at"], "")  # absent: an empty field
        _, raw, _ = self.run_cli("--output", "csv", rc=0)
        self.assertTrue(raw.endswith("\r\n"), "RFC 4180 line ends")
        # Chosen columns, sorted.
        rows = self.csv_of("--columns", "node_id,principal,client_port", "--sort", "client_port")
        self.assertEqual(rows[0], ["node_id", "principal", "client_port"])
        self.assertEqual(rows[1:], sorted(([str(c.node_id), c.principal, str(c.client_port)]
                                           for c in truth), key=lambda r: int(r[2])))
        # Table: header, one line per principal, the totals line.
        _, table, _ = self.run_cli(rc=0)
        lines = table.splitlines()
        self.assertEqual(lines[0].split(), ["PRINCIPAL", "CONNECTIONS", "BROKERS", "CLIENT_ADDRESSES",
                                            "CLIENT_SOFTWARE"])
        counts = collections.Counter(c.principal for c in truth)
        self.assertEqual(len(lines), 2 + len(counts), table)
        for line, p in zip(lines[1:-1], got["principals"]):
            self.assertTrue(line.startswith(p["principal"] + " "), line)
            cells = re.split(r"\s{2,}", line.strip())
            self.assertEqual(int(cells[1]), counts[p["principal"]], line)
            self.assertEqual(cells[2], ",".join(str(b) for b in p["brokers"]), line)
        self.assertEqual(lines[-1], "%d connections, %d principals; 3 of 3 brokers answered"
                         % (len(truth), len(counts)))

    def test_summary(self):
        truth = {conn_of(c) for c in self.settled()["connections"]}
        got = self.json_of("--summary")
        self.assertTrue(got["summary"])
        self.assertEqual(got["connections"], [])
        want = collections.defaultdict(set)
        for c in truth:
            want[c.principal].add(c)
        principals = {p["principal"]: p for p in got["principals"]}
        # The brokers leave the tool's own connections out (its client id
        # is unique to the run): no User:admin.
        self.assertEqual(set(principals), set(want))
        for name, conns in want.items():
            p = principals[name]
            self.assertEqual(p["connections"], len(conns), name)
            self.assertEqual(p["brokers"], sorted({c.node_id for c in conns}), name)
            self.assertIsNone(p["client_addresses"], name)
            self.assertEqual(p["client_software"], sorted({c.software for c in conns}), name)
        self.assertEqual(got["totals"]["connections"], len(truth))
        only = self.json_of("--summary", "--principal", "alice", "--principal", "bob")
        self.assertEqual({p["principal"]: p["connections"] for p in only["principals"]},
                         {k: len(want[k]) for k in ("User:alice", "User:bob")})
        rows = self.csv_of("--summary")
        self.assertEqual(rows[0][:2], ["principal", "connections"])
        self.assertEqual({(r[0], int(r[1])) for r in rows[1:]},
                         {(k, len(v)) for k, v in want.items()})
        self.run_cli("--summary", "--principal", "alice", "--expect-none", rc=1)
        self.run_cli("--summary", "--principal", "nobody", "--expect-none", rc=0)

    # ---- exit status ------------------------------------------------------------------

    def test_exit_0_and_1_expect_none(self):
        self.settled()
        self.run_cli(rc=0)
        _, out, _ = self.run_cli("--principal", "alice", "--expect-none", rc=1)
        self.assertIn("User:alice", out)
        self.run_cli("--principal", "nobody", "--expect-none", rc=0)
        self.run_cli("--client-id", "audit-job", "--expect-none", "--output", "json", rc=1)
        self.run_cli("--client-software", "unknown", "--listener", "SSL", "--expect-none", rc=0)
        # A client.id of the user's choosing: this run's own connections,
        # its librdkafka bootstrap included, are still not found.
        own = "rotation-check-%d" % os.getpid()
        self.run_cli("-X", "client.id=" + own, "--client-id", own, "--state", "all",
                     "--expect-none", rc=0)
        # librdkafka's name for the bootstrap list never redirects the run.
        _, _, err = self.run_cli("-X", "metadata.broker.list=127.0.0.1:1", rc=0)
        self.assertIn("metadata.broker.list", err)

    def test_exit_3_output_not_written(self):
        argv = [cli_path(), "--bootstrap-server", self.cluster.bootstrap("SASL_SSL"),
                "--command-config", self.config, "--timeout", "10000"]
        for args in (argv, argv + ["--watch", "1"], [cli_path(), "--help"], [cli_path(), "--version"]):
            with self.subTest(args=args[1:]), open("/dev/full", "w") as full:
                p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=full,
                                   stderr=subprocess.PIPE, timeout=RUN_TIMEOUT_S)
                self.assertEqual(p.returncode, 3, p.stderr)
                self.assertIn(b"writing the output failed: No space left on device", p.stderr)

    def check_usage_error(self, args, *names, config=True):
        rc, out, err = self.run_cli(*args, config=config, rc=2)
        self.assertEqual(out, "")
        for name in names:
            self.assertIn(name, err)
        return err

    def test_exit_2_bad_flag_and_values(self):
        self.check_usage_error(["--no-such-option"], "--no-such-option")
        self.check_usage_error(["--principal"], "--principal")
        for flag, value in (("--limit", "abc"), ("--limit", "0"), ("--state", "gone"),
                            ("--idle-longer-than", "5x"), ("--client-address", "not-an-ip"),
                            ("--client-address", "10.0.0.0/33"), ("--group-by", "colour"),
                            ("--output", "xml"), ("--timeout", "-5"), ("--parallelism", "0"),
                            ("--broker", "one"), ("--watch", "soon")):
            with self.subTest(flag=flag, value=value):
                self.check_usage_error([flag, value], flag, value)
        self.check_usage_error(["--summary", "--limit", "3"], "--limit", "--summary")
        self.check_usage_error(["-X", "no-equals-sign"], "-X")
        # With client.id set, its own connections are in every summary (they
        # cannot be told from other clients with that id): the check could
        # never pass.
        self.check_usage_error(["-X", "client.id=ops", "--summary", "--expect-none"], "--summary",
                               "--expect-none", "client.id")
        self.check_usage_error(["-X", "client.id=ops", "--summary", "--expect-none", "--principal",
                                "admin"], "--summary")
        # With its own client id, unique to the run, the brokers leave them out.
        self.run_cli("--summary", "--expect-none", "--principal", "admin", rc=0)
        # Settings librdkafka refuses before connecting are settings errors.
        self.check_usage_error(["-X", "ssl.ca.location=" + self.plain_config], "ssl.ca.location")
        self.check_usage_error(["-X", "sasl.password="], "password is empty")
        rc, out, err = self.run_cli("--principal", "alice", bootstrap=None, rc=2)
        self.assertIn("--bootstrap-server", err)

    def test_exit_2_bad_property_file(self):
        d = self.cluster.dir
        missing = os.path.join(d, "no-such.properties")
        self.check_usage_error([], missing, config=missing)
        typo = write_properties(os.path.join(d, "typo.properties"), [
            "security.protocol=SASL_SSL", "sasl.mechanismz=PLAIN"])
        self.check_usage_error([], typo + ":2", "sasl.mechanismz", config=typo)
        bad_jaas = write_properties(os.path.join(d, "jaas.properties"), [
            "security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
            'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required '
            'username="admin" password="%s"' % WRONG_PASSWORD])  # no closing ';'
        self.check_usage_error([], bad_jaas, "sasl.jaas.config", config=bad_jaas)
        protocol = write_properties(os.path.join(d, "protocol.properties"), [
            "security.protocol=SASL_TLS"])
        self.check_usage_error([], protocol, "security.protocol", config=protocol)
        # SASL settings on a protocol without SASL would connect anonymously.
        anonymous = write_properties(os.path.join(d, "anonymous.properties"), [
            "security.protocol=PLAINTEXT", "sasl.username=admin", "sasl.password=" + WRONG_PASSWORD])
        self.check_usage_error([], "security.protocol", config=anonymous)
        jks = write_properties(os.path.join(d, "jks.properties"), [
            "security.protocol=SSL", "ssl.truststore.type=JKS"])
        self.check_usage_error([], "ssl.truststore.type", config=jks)

    def test_exit_3_restricted_view(self):
        self.settled()
        bob = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=SCRAM-SHA-512",
               "-X", "sasl.username=bob", "-X", "sasl.password=" + self.cluster.users["bob"]]
        for question in ([], ["--principal", "alice"], ["--principal", "bob", "--principal", "alice"]):
            with self.subTest(question=question):
                rc, out, err = self.run_cli(*bob, *question, "--output", "json", config=None,
                                            bootstrap="SASL_PLAINTEXT", rc=3)
                got = json.loads(out)
                self.assertFalse(got["complete"])
                self.assertEqual([(b["node_id"], b["status"], b["restricted"]) for b in got["brokers"]],
                                 [(n, "ok", True) for n in (1, 2, 3)])
                self.assertEqual({conn_of(c) for c in got["connections"]} - self.truth("bob"), set())
                for n in self.cluster.nodes:
                    self.assertIn("broker %d (127.0.0.1:%d): restricted view"
                                  % (n.id, n.ports["SASL_PLAINTEXT"]), err)
        # The table's last line says so too.
        _, out, _ = self.run_cli(*bob, config=None, bootstrap="SASL_PLAINTEXT", rc=3)
        self.assertTrue(out.splitlines()[-1].endswith(
            "; 3 of 3 brokers answered (3 showing only the caller's own connections)"), out)
        # A restricted view never proves that nobody else is there.
        self.run_cli(*bob, "--principal", "alice", "--expect-none", config=None,
                     bootstrap="SASL_PLAINTEXT", rc=3)
        # About its own principal alone, a restricted view is the full answer.
        got = self.json_of(*bob, "--principal", "bob", config=None, bootstrap="SASL_PLAINTEXT")
        self.assertTrue(got["complete"])
        self.assertEqual({conn_of(c) for c in got["connections"]}, self.truth("bob"))
        self.run_cli(*bob, "--principal", "bob", "--expect-none", config=None,
                     bootstrap="SASL_PLAINTEXT", rc=1)
        # A certificate's principal cannot be known by the tool: always incomplete.
        mtls = ["-X", "security.protocol=SSL", "-X", "ssl.ca.location=" + self.cluster.ca_path,
                "-X", "ssl.keystore.location=" + self.cluster.client_cert("alice")]
        rc, out, _ = self.run_cli(*mtls, "--principal", MTLS_PRINCIPAL, "--output", "json",
                                  config=None, bootstrap="SSL", rc=3)
        self.assertEqual({conn_of(c) for c in json.loads(out)["connections"]}, self.truth("mtls"))

    def test_exit_4_wrong_password(self):
        for args, config, bootstrap in (
                ([], self.wrong_config, "SASL_SSL"),
                (["-X", "sasl.password=" + WRONG_PASSWORD], self.plain_config, "SASL_PLAINTEXT"),
                (["-X", "sasl.password=" + WRONG_PASSWORD], self.rdkafka_config, "SASL_SSL"),
                (["-X", "sasl.password=" + WRONG_PASSWORD, "--expect-none"], self.config, "SASL_SSL")):
            with self.subTest(config=os.path.basename(config), args=len(args)):
                rc, out, err = self.run_cli(*args, config=config, bootstrap=bootstrap, rc=4)
                self.assertEqual(out, "")
                self.assertIn("authentication", err.lower())
                self.assertTrue(any("127.0.0.1:%d" % n.ports[bootstrap] in err
                                    for n in self.cluster.nodes), err)

    # ---- connection settings ------------------------------------------------------------

    def test_command_config_styles_and_overrides(self):
        truth = {conn_of(c) for c in self.settled()["connections"]}
        for config, bootstrap, args in (
                (self.config, "SASL_SSL", []),                  # ScramLoginModule, truststore
                (self.plain_config, "SASL_PLAINTEXT", []),       # PlainLoginModule
                (self.rdkafka_config, "SASL_SSL", []),           # sasl.mechanisms, ssl.ca.location
                # -X after the file: the last value wins.
                (self.wrong_config, "SASL_SSL", ["-X", "sasl.password=" + self.cluster.users["admin"]]),
                (self.rdkafka_config, "SASL_SSL", ["-X", "sasl.mechanism=SCRAM-SHA-512"]),
                (self.plain_config, "SASL_SSL", ["-X", "security.protocol=SASL_SSL",
                                                 "-X", "ssl.ca.location=" + self.cluster.ca_path]),
                (None, "SASL_PLAINTEXT", ["-X", "security.protocol=SASL_PLAINTEXT",
                                          "-X", "sasl.mechanism=SCRAM-SHA-256",
                                          "-X", jaas("scram.ScramLoginModule", "admin",
                                                     self.cluster.users["admin"])])):
            with self.subTest(config=config and os.path.basename(config),
                              overrides=[a.split("=")[0] for a in args[1::2]]):
                got = self.agree(args, lambda t: t, config=config, bootstrap=bootstrap)
                self.assertEqual({conn_of(c) for c in got["connections"]}, truth)
                self.assertTrue(got["complete"])
                self.assertEqual({b["port"] for b in got["brokers"]},
                                 {n.ports[bootstrap] for n in self.cluster.nodes})

    def test_tls_verification_failure(self):
        untrusted = os.path.join(self.cluster.certs_dir, "untrusted-ca.pem")
        # librdkafka's bootstrap refuses the brokers first; the tool's own
        # handshake with the first bootstrap server then names the cause.
        rc, out, err = self.run_cli("-X", "ssl.ca.location=" + untrusted, config=self.rdkafka_config,
                                    rc=4)
        self.assertEqual(out, "")
        first = self.cluster.bootstrap("SASL_SSL").split(",")[0]
        self.assertIn("cannot bootstrap from %s" % self.cluster.bootstrap("SASL_SSL"), err)
        self.assertIn("bootstrap server (%s): TLS certificate verification failed: self-signed "
                      "certificate in certificate chain" % first, err)
        self.assertIn("ssl.truststore.location / ssl.ca.location", err)
        self.assertNotIn(self.cluster.users["admin"], err)
        # Skipping the check is refused, not applied to the bootstrap alone.
        rc, out, err = self.run_cli("-X", "enable.ssl.certificate.verification=false",
                                    config=self.rdkafka_config, rc=2)
        self.assertIn("enable.ssl.certificate.verification=false is not supported", err)

    def test_no_password_in_debug_output(self):
        self.settled()
        # run_cli checks every run's stdout and stderr for every password.
        _, _, err = self.run_cli("-X", "debug=all", rc=0)
        self.assertIn("librdkafka", err)
        self.assertIn("sasl.password", err)  # the setting is logged, its value is not
        self.run_cli("-X", "debug=all", config=self.plain_config, bootstrap="SASL_PLAINTEXT", rc=0)
        self.run_cli("-X", "debug=all", "-X", "sasl.password=" + WRONG_PASSWORD,
                     config=self.plain_config, bootstrap="SASL_PLAINTEXT", rc=4)
        self.run_cli("-X", "debug=all", config=self.wrong_config, rc=4)

    # ---- watch ---------------------------------------------------------------------------

    def test_watch_ctrl_c_ends_a_refresh_waiting_for_a_frozen_broker(self):
        first, _, node = sorted(self.cluster.nodes, key=lambda n: n.id)
        # Bootstrapped from a broker that answers: the wait is the fan-out's.
        argv = [cli_path(), "--bootstrap-server", first.bootstrap("SASL_SSL"),
                "--command-config", self.config, "--watch", "1", "--timeout", "20000"]
        os.kill(node.proc.pid, signal.SIGSTOP)
        try:
            # The broker's kernel still completes the TCP handshake: the
            # first refresh waits for its answer until SIGINT.
            rc, took, out, err = interrupt_watch(self, argv, 3)
        finally:
            os.kill(node.proc.pid, signal.SIGCONT)
        self.assertLess(took, 2, err)
        self.assertEqual(rc, 3, err)
        self.assertEqual(out, "")  # no refresh was shown: half an answer is not one

    def test_watch_shows_a_connection_appear_and_close(self):
        self.settled()
        argv = [cli_path(), "--bootstrap-server", self.cluster.bootstrap("SASL_SSL"),
                "--command-config", self.config, "--watch", "1", "--client-id", "watched-job"]
        # stderr to a file: nothing the test does not read may block the tool.
        stderr = tempfile.TemporaryFile()
        self.addCleanup(stderr.close)
        watch = kcluster.spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        client = None
        lines = []
        try:
            reader = LineReader(watch.stdout)

            def line():
                got = reader.next(WATCH_LINE_TIMEOUT_S)
                self.assertIsNotNone(got, "no JSON line from --watch within %ds" % WATCH_LINE_TIMEOUT_S)
                lines.append(got)
                return got

            first = line()
            self.assertEqual(first["connections"], [])
            # Its table of open files was grown before any thread started
            # (cli/kc_main.c says why): FDSize is that table's size.
            with open("/proc/%d/status" % watch.pid) as status_file:
                fd_size = int(re.search(r"^FDSize:\s*(\d+)", status_file.read(), re.M).group(1))
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            want = 1024 if soft == resource.RLIM_INFINITY else min(1024, soft)
            self.assertGreaterEqual(fd_size, want)
            self.assertEqual(first["changes"], {"appeared": [], "closed": []})
            client = self.start_client("kafkajs", ("SASL_SSL", "SCRAM-SHA-256", "josé"), "watched-job")
            client.ready()
            held = support.wait_until(client.connections, 10, "the watched client's sockets")
            pairs = {(c.node_id, c.client_port) for c in held}

            def until(kind):
                seen = set()
                deadline = time.monotonic() + 20
                while not pairs <= seen:
                    self.assertLess(time.monotonic(), deadline, "%s never showed %s" % (kind, pairs))
                    seen |= {(c["node_id"], c["client_port"]) for c in line()["changes"][kind]}
            until("appeared")
            listed = {(c["node_id"], c["client_port"]) for c in lines[-1]["connections"]}
            self.assertLessEqual(pairs, listed)
            client.stop()
            until("closed")
            # Closed and no longer listed.
            last = lines[-1]
            self.assertFalse(pairs & {(c["node_id"], c["client_port"]) for c in last["connections"]})
            for c in last["changes"]["closed"]:
                self.assertEqual(set(c), {"node_id", "connection_id", "principal", "client_host",
                                          "client_port", "client_software"})
            watch.send_signal(signal.SIGINT)
            status = watch.wait(10)
            stderr.seek(0)
            err = stderr.read().decode("utf-8")
            self.assertEqual(status, 0, err)
            for l in watch.stdout.read().decode("utf-8").splitlines():
                json.loads(l)  # whatever came last is whole JSON lines too
            for secret in SECRETS:
                self.assertNotIn(secret, err)
            for got in lines:
                self.assertTrue(got["complete"])
                self.assertRegex(got["generated_at"], RFC3339_UTC)
            # One object per refresh, in order.
            stamps = [got["generated_at"] for got in lines]
            self.assertEqual(stamps, sorted(set(stamps)))
        finally:
            if client:
                client.stop()
            kcluster.stop_process(watch, 5)
            watch.stdout.close()


class BrokerDown(CliCase):
    """A broker killed before the run: the answer is incomplete."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = kcluster.Cluster(support.broker_path(), nodes=3, security=("SASL_PLAINTEXT",))
        cls.cluster.__enter__()
        cls.config = write_properties(os.path.join(cls.cluster.dir, "admin.properties"), [
            "security.protocol=SASL_PLAINTEXT", "sasl.mechanism=SCRAM-SHA-256",
            jaas("scram.ScramLoginModule", "admin", kcluster.USERS["admin"])])

    @classmethod
    def tearDownClass(cls):
        codes = cls.cluster.stop()
        cls.cluster.__exit__(None, None, None)
        bad = {n: c for n, c in codes.items() if n != 3 and c != 0}
        if bad:
            raise AssertionError("brokers exited with %s" % bad)

    def test_exit_3_broker_killed_before_the_run(self):
        node1, dead = self.cluster.node(1), self.cluster.node(3)
        host, port = node1.endpoint("SASL_PLAINTEXT")
        with describe.connect(host, port, "SASL_PLAINTEXT", "PLAIN", "alice",
                              self.cluster.users["alice"], client_id="still-here") as alice:
            mine = support.socket_pair(alice.sock)[1]
            dead.proc.kill()
            dead.proc.wait(10)
            rc, out, err = self.run_cli("--output", "json", bootstrap="SASL_PLAINTEXT", rc=3)
            got = json.loads(out)
            self.assertFalse(got["complete"])
            self.assertEqual([(b["node_id"], b["status"]) for b in got["brokers"]],
                             [(1, "ok"), (2, "ok"), (3, "unreachable")])
            self.assertEqual(got["totals"]["brokers_failed"], 1)
            # The others' answers are still printed.
            self.assertEqual([(c["node_id"], c["client_port"], c["principal"])
                              for c in got["connections"]], [(1, mine, "User:alice")])
            failed = [l for l in err.splitlines() if "broker 3" in l]
            self.assertEqual(len(failed), 1, err)
            self.assertIn("broker 3 (127.0.0.1:%d): " % dead.ports["SASL_PLAINTEXT"], failed[0])
            self.assertTrue(failed[0].endswith(": connection refused"), failed[0])
            self.assertEqual(got["brokers"][2]["error"], failed[0][len("kafka-connections: "):])
            # Nothing matched, but a broker did not answer: never "none".
            self.run_cli("--principal", "nobody", "--expect-none", bootstrap="SASL_PLAINTEXT", rc=3)
            self.run_cli("--principal", "nobody", "--expect-none", "--summary",
                         bootstrap="SASL_PLAINTEXT", rc=3)
            # A match is proof even from a partial answer.
            self.run_cli("--principal", "alice", "--expect-none", bootstrap="SASL_PLAINTEXT", rc=1)
            # Asking only the brokers that are up is a complete answer.
            self.run_cli("--broker", "1", "--broker", "2", "--principal", "nobody", "--expect-none",
                         bootstrap="SASL_PLAINTEXT", rc=0)


class NoBootstrapServer(unittest.TestCase):
    """Nothing listens at the bootstrap address: the tool keeps trying for
    --timeout (a broker may be restarting) but says why at once."""

    def closed_port(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def test_exit_4_and_the_cause_while_it_waits(self):
        server = "127.0.0.1:%d" % self.closed_port()
        p = subprocess.Popen([cli_path(), "--bootstrap-server", server, "--timeout", "6000"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            started = time.monotonic()
            ready = select.select([p.stderr], [], [], 4)[0]
            first = os.read(p.stderr.fileno(), 65536).decode() if ready else ""
            noted_after = time.monotonic() - started
            still_running = p.poll() is None
            out, rest = p.communicate(timeout=RUN_TIMEOUT_S)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertTrue(first.startswith("kafka-connections: note: no bootstrap server reachable yet ("),
                        first)
        self.assertIn("Connection refused", first)
        self.assertRegex(first, r"; trying again for up to [456] s \(--timeout\)\n$")
        self.assertTrue(still_running, "the note came only with the final error")
        self.assertLess(noted_after, 4)
        self.assertEqual(p.returncode, 4)
        self.assertEqual(out, b"")
        err = first + rest.decode()
        self.assertEqual(err.count("note: no bootstrap server"), 1, err)
        self.assertIn("kafka-connections: cannot bootstrap from %s: no Metadata within 6000 ms: " % server,
                      err)
        # Ctrl-C while --watch waits for its first bootstrap: it ends at
        # once, and with nothing shown the status is "incomplete".
        rc, took, out, err = interrupt_watch(
            self, [cli_path(), "--bootstrap-server", server, "--timeout", "20000", "--watch", "5"], 1.5)
        self.assertEqual(rc, 3, err)
        self.assertLess(took, 2, err)
        self.assertEqual(out, "")
        self.assertNotIn("cannot bootstrap", err)
        # A short --timeout ends before a note would help.
        r = subprocess.run([cli_path(), "--bootstrap-server", server, "--timeout", "1500"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT_S)
        self.assertEqual(r.returncode, 4)
        self.assertNotIn(b"note:", r.stderr)


class BrokerCertificates(CliCase):
    """The tool's own TLS checks, past a bootstrap that succeeds: broker 2
    presents a certificate from a CA nobody trusts, broker 3 is advertised
    under a name (127.1, which resolves to 127.0.0.1) that its certificate
    does not carry. Only broker 1 is the bootstrap server."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = kcluster.Cluster(support.broker_path(), nodes=3, security=("SSL",))
        try:
            cls.cluster.create()
            one, two, three = sorted(cls.cluster.nodes, key=lambda n: n.id)
            cls.advertised = {one.id: "127.0.0.1", two.id: "127.0.0.1", three.id: "127.1"}
            endpoints = {n.id: "SSL://%s:%d" % (cls.advertised[n.id], n.ports["SSL"])
                         for n in (one, two, three)}
            for n in (one, two, three):
                props = cls.cluster.node_properties(n)
                props["cluster.nodes"] = ",".join("%d@%s" % kv for kv in sorted(endpoints.items()))
                props["advertised.listeners"] = endpoints[n.id]
                if n is two:
                    props["ssl.keystore.location"] = os.path.join(cls.cluster.certs_dir,
                                                                  "untrusted-broker.pem")
                kcluster.write_properties(n.config_path, props)
            cls.cluster.start()
        except BaseException:
            cls.cluster.__exit__(None, None, None)
            raise
        cls.first = one
        cls.config = ssl_config(cls.cluster)

    @classmethod
    def tearDownClass(cls):
        support.stop_cluster(cls.cluster)

    def test_each_broker_is_verified_on_its_own(self):
        rc, out, err = self.run_cli("--output", "json", "--bootstrap-server",
                                    self.first.bootstrap("SSL"), bootstrap=None, rc=3)
        got = json.loads(out)
        status = {b["node_id"]: b for b in got["brokers"]}
        nodes = sorted(self.cluster.nodes, key=lambda n: n.id)
        self.assertEqual(status[nodes[0].id]["status"], "ok")
        why = {nodes[1].id: "TLS certificate verification failed: self-signed certificate in "
                               "certificate chain",
               nodes[2].id: "TLS certificate verification failed: hostname mismatch"}
        for n in nodes[1:]:
            line = "broker %d (%s:%d): %s" % (n.id, self.advertised[n.id], n.ports["SSL"], why[n.id])
            self.assertEqual(status[n.id]["status"], "error")
            self.assertTrue(status[n.id]["error"].startswith(line), status[n.id]["error"])
            self.assertIn(line, err)
        self.assertEqual(got["totals"]["brokers_failed"], 2)


class HostnameMismatch(CliCase):
    """Brokers on 127.0.0.2 with certificates for localhost and 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = kcluster.Cluster(support.broker_path(), nodes=2, security=("SSL",),
                                       host="127.0.0.2")
        cls.cluster.__enter__()
        cls.config = ssl_config(cls.cluster)

    @classmethod
    def tearDownClass(cls):
        support.stop_cluster(cls.cluster)

    def test_hostname_mismatch(self):
        rc, out, err = self.run_cli(bootstrap="SSL", rc=4)
        # librdkafka's message blames the CA; the tool's own handshake says what is wrong.
        first = self.cluster.bootstrap("SSL").split(",")[0]
        self.assertIn("bootstrap server (%s): TLS certificate verification failed: IP address "
                      "mismatch: the certificate (subject CN=localhost) is not for 127.0.0.2 "
                      "(ssl.endpoint.identification.algorithm= turns this check off)" % first, err)
        # Turned off, the chain is still verified and every broker answers.
        got = self.json_of("-X", "ssl.endpoint.identification.algorithm=", bootstrap="SSL", rc=3)
        self.assertEqual([(b["status"], b["restricted"]) for b in got["brokers"]], [("ok", True)] * 2)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    unittest.main(verbosity=2)
