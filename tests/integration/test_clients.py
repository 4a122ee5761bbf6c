#!/usr/bin/python3
"""Real Kafka clients against a 3-node cluster, for every security setup,
then DescribeConnections (describe.py) showing each of their connections.

Cells: {PLAINTEXT, SSL, mTLS, SASL_PLAINTEXT and SASL_SSL x PLAIN,
SCRAM-SHA-256, SCRAM-SHA-512} x {kcat -L, kafka-python (KafkaAdminClient +
KafkaConsumer), confluent-kafka-python (AdminClient.list_topics), kafkajs
(admin.describeCluster)}. Every client must list every node with that
listener's endpoint. kafka-python, confluent-kafka-python and kafkajs stay
connected while the test looks at their rows: one open row for each socket
the client process holds (matched by client port), with the right listener,
principal, mechanism, address and client software. kcat exits, so its rows
are checked in the closed-connection history.
"""

import json
import os
import re
import subprocess
import sys
import time
import unittest
from collections import Counter

sys.dont_write_bytecode = True
import describe  # noqa: E402
import kcluster  # noqa: E402
import support  # noqa: E402
from support import MTLS_PRINCIPAL, SECURITY_IDS  # noqa: E402

# name -> (listener, SASL mechanism, user; "mtls" = alice's certificate)
SETUPS = {
    "plaintext": ("PLAINTEXT", None, None),
    "ssl": ("SSL", None, None),
    "mtls": ("SSL", None, "mtls"),
}
for _listener in ("SASL_PLAINTEXT", "SASL_SSL"):
    for _mech in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        SETUPS["%s-%s" % (_listener, _mech)] = (_listener, _mech, "alice")

IDLE_CLIENTS = ("kafka_python", "confluent", "kafkajs")
CLIENTS = ("kcat",) + IDLE_CLIENTS
KCAT_TIMEOUT_S = 40
SETTLE_TIMEOUT_S = 10
ROWS_TIMEOUT_S = 10


def cell_id(client, setup):
    return "%s-%s" % (client.replace("_", "-"), setup.lower())


def expected_principal(setup):
    listener, mechanism, user = SETUPS[setup]
    if user == "mtls":
        return MTLS_PRINCIPAL
    return "User:" + user if mechanism else "User:ANONYMOUS"


def expected_mechanism(setup):
    _, mechanism, user = SETUPS[setup]
    return "MTLS" if user == "mtls" else mechanism


def librdkafka_version():
    out = subprocess.run([support.program("KCAT", "kcat"), "-V"], capture_output=True, text=True,
                         timeout=10).stdout
    m = re.search(r"librdkafka ([0-9][0-9.]*)", out)
    return m.group(1) if m else None


def confluent_versions():
    out = subprocess.run([support.PYTHON, "-c", "import confluent_kafka as c; print(c.version()[0])"],
                         capture_output=True, text=True, timeout=30).stdout
    return out.strip()


def kcat_args(cluster, setup, client_id):
    s = support.client_settings(cluster, SETUPS[setup], client_id)
    args = [support.program("KCAT", "kcat"), "-L", "-J", "-m", "15", "-b", s["bootstrap"],
            "-X", "client.id=" + client_id, "-X", "security.protocol=" + s["security_protocol"]]
    if "cafile" in s:
        args += ["-X", "ssl.ca.location=" + s["cafile"]]
    if "certfile" in s:
        args += ["-X", "ssl.certificate.location=" + s["certfile"],
                 "-X", "ssl.key.location=" + s["certfile"]]
    if "mechanism" in s:
        args += ["-X", "sasl.mechanisms=" + s["mechanism"], "-X", "sasl.username=" + s["username"],
                 "-X", "sasl.password=" + s["password"]]
    return args


def run_clients(cluster, clients, kcat):
    """kcat -L once per setup, into kcat (cell id -> (exit status, parsed
    JSON or None, stderr)), and every idle client once per setup, into
    clients (cell id -> ClientProcess, each waited for until it reports).
    The dicts fill as processes start, so that the caller can stop them
    all even when this raises."""
    kcats = {}
    for setup in SETUPS:
        cid = cell_id("kcat", setup)
        kcats[cid] = kcluster.spawn(kcat_args(cluster, setup, cid), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        for kind in IDLE_CLIENTS:
            cid = cell_id(kind, setup)
            s = support.client_settings(cluster, SETUPS[setup], cid, idle_s=300)
            clients[cid] = support.ClientProcess(kind, s)
    for cid, proc in kcats.items():
        try:
            out, err = proc.communicate(timeout=KCAT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            kcluster.stop_process(proc, 5)
            out, err = proc.communicate()
        try:
            parsed = json.loads(out) if proc.returncode == 0 else None
        except ValueError:
            parsed = None
        kcat[cid] = (proc.returncode, parsed, kcluster.tail(err, 6))
    for c in clients.values():
        c.wait_ready()


class ClientMatrix(unittest.TestCase):
    cluster = None
    clients = {}   # cell id -> ClientProcess
    kcat = {}      # cell id -> (exit status, parsed JSON or None, stderr)

    @classmethod
    def setUpClass(cls):
        cls.started = time.monotonic()
        cls.cluster = kcluster.Cluster(support.broker_path(), nodes=3)
        cls.cluster.__enter__()
        try:
            run_clients(cls.cluster, cls.clients, cls.kcat)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for c in cls.clients.values():
            c.stop()
        if cls.cluster:
            support.stop_cluster(cls.cluster)
        print("client matrix: %.1fs" % (time.monotonic() - cls.started), file=sys.stderr)

    # ---- helpers ---------------------------------------------------------

    def expected_brokers(self, listener):
        return sorted([n.id, n.host, n.ports[listener]] for n in self.cluster.nodes)

    def broker_ports(self, listener):
        return {n.ports[listener] for n in self.cluster.nodes}

    def check_row(self, row, setup, software, authenticated=True):
        """authenticated=False: a connection the client gave up before
        authentication finished (kcat -L leaves as soon as one broker has
        answered): anonymous, and only what it sent so far."""
        listener, _, _ = SETUPS[setup]
        tls = listener in ("SSL", "SASL_SSL")
        what = "%s (%s)" % (row["ConnectionId"], row["ClientId"])
        self.assertEqual(row["ListenerName"], listener, what)
        self.assertEqual(row["SecurityProtocol"], SECURITY_IDS[listener], what)
        self.assertEqual(row["ClientHost"], "127.0.0.1", what)
        self.assertEqual(row["SessionExpiresAtMs"], -1, what)
        if not authenticated:
            self.assertEqual(row["AuthenticatedAtMs"], -1, what)
            self.assertEqual(row["Principal"], "User:ANONYMOUS", what)
            self.assertIn(row["SaslMechanism"], (None, expected_mechanism(setup)), what)
            return
        self.assertEqual(row["Principal"], expected_principal(setup), what)
        self.assertEqual(row["SaslMechanism"], expected_mechanism(setup), what)
        self.assertEqual(row["LocalHost"], "127.0.0.1", what)
        self.assertEqual(row["LocalPort"], self.cluster.node(row["node"]).ports[listener], what)
        self.assertEqual((row["ClientSoftwareName"], row["ClientSoftwareVersion"]), software, what)
        self.assertTrue(row["ConnectionId"].startswith(
            "127.0.0.1:%d-127.0.0.1:%d-" % (row["LocalPort"], row["ClientPort"])), what)
        self.assertGreaterEqual(row["AuthenticatedAtMs"], row["ConnectedAtMs"], what)
        self.assertGreaterEqual(row["Requests"], 1, what)
        self.assertGreater(row["BytesIn"], 0, what)
        self.assertGreater(row["BytesOut"], 0, what)
        self.assertEqual(row["TlsProtocol"] is not None, tls, what)
        self.assertEqual(row["TlsCipher"] is not None, tls, what)
        if SETUPS[setup][2] == "mtls":
            self.assertEqual("User:" + row["PeerCertificateSubject"], MTLS_PRINCIPAL, what)
            self.assertEqual(row["PeerCertificateIssuer"],
                             "CN=kafka-connections test CA,O=Example", what)
            self.assertEqual(int(row["PeerCertificateSerial"], 16), 0x0A1B2C3D, what)
        else:
            self.assertIsNone(row["PeerCertificateSubject"], what)

    def software_of(self, kind):
        if kind in ("kcat",):
            return ("librdkafka", self.librdkafka)
        if kind == "confluent":
            return ("confluent-kafka-python", self.confluent_software_version)
        return ("unknown", "unknown")

    # ---- one test per cell -------------------------------------------------

    def check_kcat(self, setup):
        cid = cell_id("kcat", setup)
        status, md, err = self.kcat[cid]
        self.assertEqual(status, 0, "kcat -L failed: %s" % err)
        listener = SETUPS[setup][0]
        brokers = sorted([b["id"]] + b["name"].rsplit(":", 1) for b in md["brokers"])
        brokers = [[i, h, int(p)] for i, h, p in brokers]
        self.assertEqual(brokers, self.expected_brokers(listener))
        self.assertIn(md["controllerid"], [n.id for n in self.cluster.nodes])
        rows = support.describe_cluster_rows(self.cluster, client_ids=[cid], include_closed=True)
        self.assertTrue(any(r["AuthenticatedAtMs"] != -1 for r in rows),
                        "no authenticated row for %s: %s" % (cid, rows))
        for row in rows:
            self.check_row(row, setup, self.software_of("kcat"), row["AuthenticatedAtMs"] != -1)
            self.assertEqual(row["State"], 3)
            self.assertEqual(row["CloseReason"], "client closed")
            self.assertGreaterEqual(row["ClosedAtMs"], row["ConnectedAtMs"])

    def check_idle(self, kind, setup):
        cid = cell_id(kind, setup)
        client = self.clients[cid]
        self.assertIsNone(client.error, client.error)
        listener = SETUPS[setup][0]
        self.assertEqual(client.report["brokers"], self.expected_brokers(listener))
        self.assertIn(client.report["controller"], [n.id for n in self.cluster.nodes])

        # The client's sockets and the broker's open rows must agree exactly.
        ports = self.broker_ports(listener)

        def agree():
            held = support.established_pairs(client.proc.pid, ports)
            rows = support.describe_cluster_rows(self.cluster, client_ids=[cid])
            return (held, rows) if held and held == {support.row_pair(r) for r in rows} else None
        try:
            held, rows = support.wait_until(agree, ROWS_TIMEOUT_S, "rows of %s" % cid, 0.3)
        except AssertionError:
            held = support.established_pairs(client.proc.pid, ports)
            rows = support.describe_cluster_rows(self.cluster, client_ids=[cid])
            self.fail("%s holds sockets (broker port, client port) %s; the brokers list %s"
                      % (cid, sorted(held), sorted(support.row_pair(r) + (r["State"],) for r in rows)))
        self.assertEqual(len(rows), len(held))
        for row in rows:
            self.check_row(row, setup, self.software_of(kind))
            self.assertEqual(row["State"], 1)
            self.assertIsNone(row["CloseReason"])

    @classmethod
    def add_cells(cls):
        for setup in SETUPS:
            for kind in CLIENTS:
                name = "test_%s" % cell_id(kind, setup).replace("-", "_")
                if kind == "kcat":
                    test = (lambda s: lambda self: self.check_kcat(s))(setup)
                else:
                    test = (lambda k, s: lambda self: self.check_idle(k, s))(kind, setup)
                test.__doc__ = "%s over %s" % (kind, setup)
                setattr(cls, name, test)

    # ---- who sees what -------------------------------------------------------

    def own_view(self, node, conn):
        answer = conn.describe_all()
        self.assertTrue(answer["Restricted"])
        return answer

    def check_restricted(self, node, principal, conn):
        """conn (authenticated as principal) sees exactly the rows the super
        user sees for that principal, and nothing else."""
        own = self.own_view(node, conn)
        with support.admin_connect(self.cluster, node) as admin:
            full = admin.describe_all(principals=[principal])
        self.assertFalse(full["Restricted"])
        self.assertEqual({r["Principal"] for r in own["Connections"]}, {principal})
        self.assertEqual(sorted(r["ConnectionId"] for r in own["Connections"]),
                         sorted(r["ConnectionId"] for r in full["Connections"]))
        self.assertEqual(own["TotalCount"], len(own["Connections"]))
        return own["Connections"]

    def test_restricted_sasl_user_sees_only_own_connections(self):
        node = self.cluster.nodes[0]
        host, port = node.endpoint("SASL_PLAINTEXT")
        with describe.connect(host, port, "SASL_PLAINTEXT", "PLAIN", "alice",
                              self.cluster.users["alice"]) as conn:
            rows = self.check_restricted(node, "User:alice", conn)
        # Its own describe connection plus the clients left connected as alice.
        self.assertGreater(len(rows), 1)

    def test_restricted_mtls_user_sees_only_own_connections(self):
        node = self.cluster.nodes[0]
        host, port = node.endpoint("SSL")
        with describe.connect(host, port, "SSL", cafile=self.cluster.ca_path,
                              certfile=self.cluster.client_cert("alice")) as conn:
            rows = self.check_restricted(node, MTLS_PRINCIPAL, conn)
        self.assertGreater(len(rows), 1)

    def test_restricted_user_without_other_connections_sees_one_row(self):
        node = self.cluster.nodes[1]
        host, port = node.endpoint("SASL_PLAINTEXT")
        with describe.connect(host, port, "SASL_PLAINTEXT", "SCRAM-SHA-512", "bob",
                              self.cluster.users["bob"]) as conn:
            rows = self.check_restricted(node, "User:bob", conn)
            self.assertEqual(len(rows), 1)
            self.assertEqual(support.row_pair(rows[0]), support.socket_pair(conn.sock))

    def test_restricted_anonymous_sees_only_anonymous(self):
        node = self.cluster.nodes[2]
        host, port = node.endpoint("PLAINTEXT")
        with describe.connect(host, port) as conn:
            self.check_restricted(node, "User:ANONYMOUS", conn)

    def test_summary_counts_match_rows(self):
        node = self.cluster.nodes[0]
        with support.admin_connect(self.cluster, node) as admin:
            rows = admin.describe_all()["Connections"]
            summary = admin.describe_connections(summary_only=True)
        self.assertEqual(summary["Connections"], [])
        counts = {s["Principal"]: s["Connections"] for s in summary["Summaries"]}
        self.assertEqual(counts, dict(Counter(r["Principal"] for r in rows)))
        self.assertEqual(summary["TotalCount"], len(rows))
        for s in summary["Summaries"]:
            mine = [r for r in rows if r["Principal"] == s["Principal"]]
            self.assertEqual({c["Name"]: c["Connections"] for c in s["Listeners"]},
                             dict(Counter(r["ListenerName"] for r in mine)))
            self.assertEqual({c["Name"]: c["Connections"] for c in s["ClientSoftware"]},
                             dict(Counter("%s/%s" % (r["ClientSoftwareName"], r["ClientSoftwareVersion"])
                                          for r in mine)))


ClientMatrix.librdkafka = None
ClientMatrix.confluent_software_version = None
ClientMatrix.add_cells()


def setUpModule():
    ClientMatrix.librdkafka = librdkafka_version()
    # confluent-kafka-python reports its own version followed by librdkafka's.
    ClientMatrix.confluent_software_version = "%s-rdkafka-%s" % (confluent_versions(),
                                                                 ClientMatrix.librdkafka)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    unittest.main(verbosity=2)
