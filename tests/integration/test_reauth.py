#!/usr/bin/python3
"""KIP-368 re-authentication with a short connections.max.reauth.ms.

- kafkajs re-authenticates on its own before the session runs out: its
  connection stays the same, SessionExpiresAtMs and AuthenticatedAtMs move
  forward, and the broker logs event=reauthenticated.
- describe.py re-authenticates by hand (SaslHandshake v1 + SaslAuthenticate
  again on the same connection); a re-authentication as another user is
  refused and closes the connection.
- A client that lets its session expire stays connected until its next
  request, which closes the connection with reason "session expired".
"""

import sys
import time
import unittest

sys.dont_write_bytecode = True
import describe  # noqa: E402
import support  # noqa: E402

REAUTH_MS = 3000


class Reauthentication(support.OneBrokerCase):
    SECURITY = ("SASL_PLAINTEXT", "SASL_SSL")
    PROPERTIES = {"connections.max.reauth.ms": REAUTH_MS}

    def connect(self, user="alice", mechanism="SCRAM-SHA-256", listener="SASL_PLAINTEXT"):
        host, port = self.node.endpoint(listener)
        conn = describe.connect(host, port, listener, mechanism, user, self.cluster.users[user],
                                cafile=self.cluster.ca_path)
        self.addCleanup(conn.close)
        return conn

    def row_of(self, pair, include_closed=False):
        """The connection's row as the super user sees it (each call on a
        new admin connection: the admin's own session expires too)."""
        rows = support.describe_cluster_rows(self.cluster, include_closed=include_closed)
        return support.row_for(rows, pair)

    # ---- kafkajs ------------------------------------------------------------

    def test_kafkajs_reauthenticates_before_its_session_expires(self):
        setup = ("SASL_SSL", "SCRAM-SHA-512", "alice")
        client = support.ClientProcess("kafkajs", support.client_settings(
            self.cluster, setup, "kafkajs-reauth", idle_s=60, poll_ms=400,
            # Re-authenticate once less than this is left of the session.
            reauth_threshold_ms=REAUTH_MS // 2))
        self.addCleanup(client.stop)
        self.assertIsNotNone(client.wait_ready(), client.error)

        # Watch the rows of its connections for more than two lifetimes.
        seen = {}  # ConnectionId -> [(AuthenticatedAtMs, SessionExpiresAtMs)]
        deadline = time.monotonic() + 2.5 * REAUTH_MS / 1000
        reports = 0
        while time.monotonic() < deadline:
            if client.next_report(1.0) is not None:
                reports += 1
            for row in support.describe_cluster_rows(self.cluster, client_ids=["kafkajs-reauth"]):
                self.assertEqual(row["State"], 1)
                self.assertEqual(row["Principal"], "User:alice")
                self.assertEqual(row["SaslMechanism"], "SCRAM-SHA-512")
                stamps = seen.setdefault(row["ConnectionId"], [])
                pair = (row["AuthenticatedAtMs"], row["SessionExpiresAtMs"])
                if not stamps or stamps[-1] != pair:
                    stamps.append(pair)
        self.assertGreater(reports, 3, "kafkajs stopped answering: %s" % client.stderr_text())
        busiest = max(seen.values(), key=len)
        self.assertGreaterEqual(len(busiest), 3, "no re-authentication seen: %s" % seen)
        for (auth0, exp0), (auth1, exp1) in zip(busiest, busiest[1:]):
            self.assertGreater(auth1, auth0)
            self.assertGreater(exp1, exp0)
            self.assertEqual(exp1 - auth1, REAUTH_MS)
        reauths = [l for l in self.node.log_lines("reauthenticated") if l["conn"] in seen]
        self.assertGreaterEqual(len(reauths), len(busiest) - 1)
        for cid in seen:
            self.assertEqual(self.node.log_lines("closed", conn=cid), [])

    # ---- by hand -----------------------------------------------------------

    def test_hand_made_reauthentication_moves_the_session(self):
        conn = self.connect()
        self.assertEqual(conn.session_lifetime_ms, REAUTH_MS)
        first = self.row_of(support.socket_pair(conn.sock))
        self.assertEqual(first["SessionExpiresAtMs"] - first["AuthenticatedAtMs"], REAUTH_MS)
        time.sleep(1.0)
        self.assertEqual(conn.authenticate("SCRAM-SHA-256", "alice", self.cluster.users["alice"]),
                         REAUTH_MS)
        second = self.row_of(support.socket_pair(conn.sock))
        self.assertEqual(second["ConnectionId"], first["ConnectionId"])
        self.assertGreaterEqual(second["SessionExpiresAtMs"] - first["SessionExpiresAtMs"], 900)
        self.assertGreater(second["AuthenticatedAtMs"], first["AuthenticatedAtMs"])
        self.assertEqual(second["State"], 1)
        # The connection still answers after its first session's end.
        time.sleep(max(0.0, first["SessionExpiresAtMs"] / 1000 - time.time()) + 0.3)
        conn.describe_connections()
        self.assertEqual(len(self.node.log_lines("reauthenticated", conn=first["ConnectionId"])), 1)

    def test_reauthentication_as_another_user_is_refused(self):
        conn = self.connect(mechanism="PLAIN")
        cid = self.row_of(support.socket_pair(conn.sock))["ConnectionId"]
        with self.assertRaises(describe.KafkaError) as raised:
            conn.authenticate("PLAIN", "bob", self.cluster.users["bob"])
        self.assertEqual(raised.exception.code, 58)
        closed = self.node.wait_for_log(
            lambda lines: [l for l in lines if l.get("event") == "closed" and l.get("conn") == cid],
            5, "closed line of %s" % cid)
        self.assertEqual(closed[0]["reason"], "authentication failed")
        self.assertEqual(closed[0]["principal"], "User:alice")

    def test_second_handshake_during_reauthentication_is_refused(self):
        # A re-authentication that starts over with another mechanism (or any
        # second SaslHandshake before its SaslAuthenticate) must not become a
        # fresh login: ILLEGAL_SASL_STATE, then the connection is closed.
        conn = self.connect(mechanism="SCRAM-SHA-256")
        cid = self.row_of(support.socket_pair(conn.sock))["ConnectionId"]
        conn._sasl_handshake("SCRAM-SHA-256")
        with self.assertRaises(describe.KafkaError) as raised:
            conn._sasl_handshake("PLAIN")
        self.assertEqual(raised.exception.code, 34)
        closed = self.node.wait_for_log(
            lambda lines: [l for l in lines if l.get("event") == "closed" and l.get("conn") == cid],
            5, "closed line of %s" % cid)
        self.assertEqual(closed[0]["principal"], "User:alice")

    def test_expired_session_is_closed_on_its_next_request(self):
        conn = self.connect()
        pair = support.socket_pair(conn.sock)
        cid = self.row_of(pair)["ConnectionId"]
        # Past the end of the session, without a request: still open.
        time.sleep(REAUTH_MS / 1000 + 0.5)
        still = self.row_of(pair)
        self.assertEqual(still["State"], 1)
        self.assertLess(still["SessionExpiresAtMs"], int(time.time() * 1000))
        with self.assertRaises((ConnectionError, OSError)):
            conn.describe_connections()
        closed = self.node.wait_for_log(
            lambda lines: [l for l in lines if l.get("event") == "closed" and l.get("conn") == cid],
            5, "closed line of %s" % cid)
        self.assertEqual(len(closed), 1)
        self.assertEqual(closed[0]["reason"], "session expired")
        history = self.row_of(pair, include_closed=True)
        self.assertEqual(history["State"], 3)
        self.assertEqual(history["CloseReason"], "session expired")


class StalledReauthentication(support.OneBrokerCase):
    """A re-authentication gets connections.auth.timeout.ms like a first
    login: one that starts and stalls is closed long before its session
    (a minute here) would end."""

    AUTH_TIMEOUT_MS = 1000
    SECURITY = ("SASL_PLAINTEXT",)
    PROPERTIES = {"connections.max.reauth.ms": 60000,
                  "connections.auth.timeout.ms": AUTH_TIMEOUT_MS}

    def test_stalled_reauthentication_is_closed_after_the_auth_timeout(self):
        host, port = self.node.endpoint("SASL_PLAINTEXT")
        conn = describe.connect(host, port, "SASL_PLAINTEXT", "SCRAM-SHA-256", "alice",
                                self.cluster.users["alice"])
        self.addCleanup(conn.close)
        rows = support.describe_cluster_rows(self.cluster)
        cid = support.row_for(rows, support.socket_pair(conn.sock))["ConnectionId"]
        started = time.monotonic()
        conn._sasl_handshake("SCRAM-SHA-256")  # and nothing more
        closed = self.node.wait_for_log(
            lambda lines: [l for l in lines if l.get("event") == "closed" and l.get("conn") == cid],
            10, "closed line of %s" % cid)
        waited = time.monotonic() - started
        self.assertEqual(closed[0]["reason"], "authentication timeout")
        self.assertEqual(closed[0]["principal"], "User:alice")
        self.assertGreaterEqual(waited, self.AUTH_TIMEOUT_MS / 1000 - 0.1)
        self.assertLess(waited, 10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
