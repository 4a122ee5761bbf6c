#!/usr/bin/python3
"""SIGTERM and SIGINT stop the broker cleanly.

With connections in every state (PLAINTEXT without a request, SASL before
authentication, SASL authenticated, TLS mid-handshake and established,
a kafkajs client left connected), the signal must close every one of them
with reason "broker shutdown" (one log line each, and exactly the
connections DescribeConnections listed just before), every client must see
its connection end, and the broker must exit 0 within a bound.
"""

import signal
import socket
import ssl
import sys
import unittest

sys.dont_write_bytecode = True
import describe  # noqa: E402
import kcluster  # noqa: E402
import support  # noqa: E402

EXIT_TIMEOUT_S = 10


class Shutdown(unittest.TestCase):

    def open_everything(self, cluster):
        node = cluster.nodes[0]
        held = []
        self.addCleanup(lambda: [h.close() for h in held])
        for _ in range(3):
            held.append(socket.create_connection(node.endpoint("PLAINTEXT"), timeout=5))
        held.append(socket.create_connection(node.endpoint("SASL_PLAINTEXT"), timeout=5))
        held.append(socket.create_connection(node.endpoint("SSL"), timeout=5))  # no ClientHello
        host, port = node.endpoint("SASL_PLAINTEXT")
        for user in ("alice", "bob"):
            held.append(describe.connect(host, port, "SASL_PLAINTEXT", "SCRAM-SHA-512", user,
                                         cluster.users[user]))
        host, port = node.endpoint("SSL")
        held.append(describe.connect(host, port, "SSL", cafile=cluster.ca_path,
                                     certfile=cluster.client_cert("alice")))
        client = support.ClientProcess("kafkajs", support.client_settings(
            cluster, ("SASL_SSL", "PLAIN", "alice"), "kafkajs-shutdown", idle_s=60))
        self.addCleanup(client.stop)
        self.assertIsNotNone(client.wait_ready(), client.error)
        return held, client

    def check_stops(self, sig, name):
        with kcluster.Cluster(support.broker_path(), nodes=1) as cluster:
            node = cluster.nodes[0]
            held, client = self.open_everything(cluster)
            admin = support.admin_connect(cluster, node)
            held.append(admin)
            before = {r["ConnectionId"] for r in admin.describe_all()["Connections"]}
            # Every connection, in whatever state, is listed.
            self.assertGreaterEqual(len(before), len(held) + 1)

            node.proc.send_signal(sig)
            self.assertEqual(node.proc.wait(EXIT_TIMEOUT_S), 0)

            for h in held:
                sock = h.sock if isinstance(h, describe.Connection) else h
                sock.settimeout(5)
                try:
                    self.assertEqual(sock.recv(1), b"")
                except (ConnectionResetError, ssl.SSLError):
                    pass
            client.proc.stdin.close()
            self.assertEqual(client.proc.wait(10), 0)

            lines = [kcluster.parse_log_line(l) for l in node.log().splitlines()]
            events = [l.get("event") for l in lines]
            self.assertEqual(events.count("shutdown"), 1)
            self.assertEqual(lines[events.index("shutdown")]["signal"], name)
            after = lines[events.index("shutdown"):]
            closed = [l for l in after if l.get("event") == "closed"]
            self.assertEqual({l["reason"] for l in closed}, {"broker shutdown"})
            self.assertEqual(sorted(l["conn"] for l in closed), sorted(before))
            self.assertEqual(after[-1]["event"], "stopped")

    def test_sigterm_closes_every_connection_and_exits_0(self):
        self.check_stops(signal.SIGTERM, "SIGTERM")

    def test_sigint_closes_every_connection_and_exits_0(self):
        self.check_stops(signal.SIGINT, "SIGINT")


if __name__ == "__main__":
    unittest.main(verbosity=2)
