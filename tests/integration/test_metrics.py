#!/usr/bin/python3
"""The broker's metrics listener serves Prometheus text that follows the
registry: live connections by principal, listener and client software, and
the accepted, closed and authentication-failure counters."""

import http.client
import re
import sys
import unittest

sys.dont_write_bytecode = True
import describe  # noqa: E402
import kcluster  # noqa: E402
import support  # noqa: E402

SAMPLE = re.compile(r'^(\w+)(\{[^}]*\})? (\d+)$')


def scrape(host, port, path="/metrics"):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read().decode("utf-8")
    finally:
        conn.close()


def samples(text):
    """{(name, labels): value} of every sample line; comments skipped."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        out[(m.group(1), m.group(2) or "")] = int(m.group(3))
    return out


class Metrics(unittest.TestCase):

    def test_metrics_follow_connections_and_failures(self):
        with kcluster.Cluster(support.broker_path(), nodes=1, security=("PLAINTEXT", "SASL_PLAINTEXT"),
                              metrics=True) as cluster:
            node = cluster.nodes[0]
            mport = cluster.metrics_ports[node.id]
            held = []
            try:
                host, port = node.endpoint("SASL_PLAINTEXT")
                for _ in range(2):
                    held.append(describe.connect(host, port, "SASL_PLAINTEXT", "SCRAM-SHA-256", "alice",
                                                 cluster.users["alice"]))
                with self.assertRaises(Exception):
                    describe.connect(host, port, "SASL_PLAINTEXT", "PLAIN", "bob", "wrong-password")
                held.append(describe.connect(*node.endpoint("PLAINTEXT")))

                def settled():
                    status, ctype, text = scrape(kcluster.HOST, mport)
                    got = samples(text)
                    failures = got.get(("kafka_connections_authentication_failures_total", ""), 0)
                    # The refused connection is counted closed only once the
                    # broker has flushed its answer and closed the socket.
                    closed = got.get(("kafka_connections_closed_total", ""), 0)
                    return status == 200 and failures == 1 and closed >= 1 and got
                got = support.wait_until(settled, 10, "metrics show the failed login and its close")
                status, ctype, _ = scrape(kcluster.HOST, mport)
                self.assertEqual(status, 200)
                self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
                alice = [v for (name, labels), v in got.items()
                         if name == "kafka_connections_open" and 'principal="User:alice"' in labels
                         and 'listener="SASL_PLAINTEXT"' in labels]
                anonymous = [v for (name, labels), v in got.items()
                             if name == "kafka_connections_open" and 'principal="User:ANONYMOUS"' in labels
                             and 'listener="PLAINTEXT"' in labels]
                self.assertEqual(sum(alice), 2)
                self.assertEqual(sum(anonymous), 1)
                accepted = got[("kafka_connections_accepted_total", "")]
                closed = got[("kafka_connections_closed_total", "")]
                self.assertEqual(accepted, 4)
                self.assertEqual(closed, 1)  # the wrong password
            finally:
                for h in held:
                    h.close()
            gone = support.wait_until(
                lambda: samples(scrape(kcluster.HOST, mport)[2]).get(("kafka_connections_closed_total", "")) == 4,
                10, "closes counted")
            self.assertTrue(gone)
            self.assertEqual(scrape(kcluster.HOST, mport, "/nothing-here")[0], 404)


if __name__ == "__main__":
    unittest.main()
