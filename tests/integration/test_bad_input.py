#!/usr/bin/python3
"""Bad input closes only the connection that sent it.

Each test opens a healthy, authenticated describe.py connection, then a
second connection that misbehaves (garbage, a 2 GiB frame header, a
truncated frame then silence, an unknown API key, a request before
authentication, a wrong password, an unsupported mechanism, TLS garbage).
While waiting for the broker to close the bad one, the healthy one keeps
asking DescribeConnections and must keep getting answers. Then:
- the broker closed exactly one connection, the bad one, with one "closed"
  log line carrying the expected reason (and at most one line naming the
  cause);
- DescribeConnections' history (IncludeClosed) shows the bad connection
  closed with the same reason;
- the healthy connection is still open and answering.
Timeouts are made small (connections.auth.timeout.ms, connections.max.idle.ms)
so that the slow-loris cases end within seconds.
"""

import socket
import ssl
import struct
import sys
import time
import unittest

sys.dont_write_bytecode = True
import describe  # noqa: E402
import support  # noqa: E402

AUTH_TIMEOUT_MS = 1500
IDLE_TIMEOUT_MS = 3000
# The broker checks timeouts once a second.
TIMEOUT_SLACK_S = 2.5
CLOSE_TIMEOUT_S = 10


def request_header(api_key, version, correlation_id=1, client_id="bad-input"):
    cid = client_id.encode()
    return struct.pack(">hhih", api_key, version, correlation_id, len(cid)) + cid


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


class BadInput(support.OneBrokerCase):
    SECURITY = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT")
    PROPERTIES = {"connections.auth.timeout.ms": AUTH_TIMEOUT_MS,
                  "connections.max.idle.ms": IDLE_TIMEOUT_MS,
                  "socket.request.max.bytes": 1 << 20}

    def setUp(self):
        # Cleanups run last-in first-out: this one, after every close.
        self.addCleanup(self.wait_all_closed)
        self.healthy = support.admin_connect(self.cluster, self.node)
        self.addCleanup(self.healthy.close)
        self.sockets = []
        self.addCleanup(lambda: [s.close() for s in self.sockets])

    def wait_all_closed(self):
        """Lets the broker log the close of everything this test opened, so
        that the next test counts only its own closes."""
        support.wait_until(lambda: len(self.node.log_lines("accepted")) == self.closed_count(),
                           5, "every connection closed")

    # ---- the pieces of an episode -------------------------------------------

    def open_raw(self, listener):
        s = socket.create_connection(self.node.endpoint(listener), timeout=5)
        self.sockets.append(s)
        return s

    def conn_id_of(self, pair):
        """The broker's id for the open connection of support.socket_pair()
        pair, from its log (localHost:localPort-remoteHost:remotePort-
        processor-index). Call it while that connection is open: the client
        port of an earlier, closed connection may have been given out again,
        and its accepted line names the same pair."""
        broker_port, client_port = pair
        want = ["127.0.0.1:%d" % broker_port, "127.0.0.1:%d" % client_port]

        def find(lines):
            closed = {rec.get("conn") for rec in lines if rec.get("event") == "closed"}
            for rec in lines:
                cid = rec.get("conn", "")
                if rec.get("event") == "accepted" and cid.split("-")[:2] == want and cid not in closed:
                    return cid
            return None
        return self.node.wait_for_log(find, 5, "accepted line for %s" % want)

    def closed_count(self):
        return len(self.node.log_lines("closed"))

    def wait_closed_by_broker(self, sock, timeout=CLOSE_TIMEOUT_S):
        """Waits until the broker closes sock, asking the healthy connection
        for an answer every 0.3 s meanwhile. Returns (seconds waited, bytes
        the broker sent before closing)."""
        start = time.monotonic()
        received = b""
        sock.settimeout(0.3)
        while time.monotonic() - start < timeout:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                self.healthy.describe_connections(limit=1)
                continue
            except (ConnectionResetError, ssl.SSLError):
                chunk = b""
            if not chunk:
                return time.monotonic() - start, received
            received += chunk
        self.fail("the broker did not close the connection within %ds" % timeout)

    def check_closed(self, cid, pair, reason, cause, closed_before):
        """One closed line for connection cid (of pair) with reason, at most
        one line for the cause; no other connection closed; the history row."""
        closed = self.node.wait_for_log(
            lambda lines: [l for l in lines if l.get("event") == "closed" and l.get("conn") == cid],
            5, "closed line of %s" % cid)
        self.assertEqual(len(closed), 1, closed)
        self.assertEqual(closed[0]["reason"], reason)
        if cause:
            causes = self.node.log_lines(cause, conn=cid)
            self.assertEqual(len(causes), 1, "%s lines for %s: %s" % (cause, cid, causes))
        self.assertEqual(self.closed_count(), closed_before + 1, "another connection was closed too")
        rows = self.healthy.describe_all(include_closed=True, states=[3])["Connections"]
        row = support.row_for(rows, pair)
        self.assertIsNotNone(row, "no closed row for %s" % (pair,))
        self.assertEqual(row["ConnectionId"], cid)
        self.assertEqual(row["CloseReason"], reason)
        self.assertGreaterEqual(row["ClosedAtMs"], row["ConnectedAtMs"])
        self.check_healthy()
        return row

    def check_healthy(self):
        answer = self.healthy.describe_connections(principals=["User:admin"])
        mine = support.row_for(answer["Connections"], support.socket_pair(self.healthy.sock))
        self.assertIsNotNone(mine)
        self.assertEqual(mine["State"], 1)

    def episode(self, listener, data, reason, cause, after_send=None):
        """Sends data on a new raw connection to listener and checks that
        the broker closes it (and only it) with reason. Returns (seconds to
        the close, bytes received)."""
        before = self.closed_count()
        s = self.open_raw(listener)
        pair = support.socket_pair(s)
        cid = self.conn_id_of(pair)
        if data:
            s.sendall(data)
        if after_send:
            after_send(s)
        waited, received = self.wait_closed_by_broker(s)
        self.check_closed(cid, pair, reason, cause, before)
        return waited, received

    # ---- framing ----------------------------------------------------------

    def test_garbage_bytes_close_as_malformed_frame(self):
        # An HTTP request read as a Kafka frame announces 0x47455420 bytes.
        _, received = self.episode("PLAINTEXT", b"GET / HTTP/1.1\r\nHost: kafka\r\n\r\n",
                                   "malformed frame", "malformed_frame")
        self.assertEqual(received, b"")

    def test_frame_header_announcing_2_gib_closes_without_allocating_it(self):
        pid = self.node.pid
        before = support.rss_kib(pid)
        for size in (b"\x80\x00\x00\x00", b"\x7f\xff\xff\xff"):  # 2 GiB as int32, 2 GiB - 1
            with self.subTest(size=size.hex()):
                self.episode("PLAINTEXT", size + b"\x00" * 64, "malformed frame", "malformed_frame")
        self.assertLess(support.rss_kib(pid) - before, 16 * 1024, "the broker's memory grew")

    def test_frame_shorter_than_a_request_header_is_malformed(self):
        self.episode("PLAINTEXT", frame(b"\x00\x12"), "malformed frame", "malformed_request")

    def test_truncated_frame_then_silence_closes_after_idle_timeout(self):
        waited, _ = self.episode("PLAINTEXT", struct.pack(">i", 100) + b"\x00" * 10,
                                 "idle timeout", None)
        self.assertGreaterEqual(waited, IDLE_TIMEOUT_MS / 1000 - 0.5)
        self.assertLess(waited, IDLE_TIMEOUT_MS / 1000 + TIMEOUT_SLACK_S)

    def test_truncated_frame_then_silence_before_authentication_closes_after_auth_timeout(self):
        waited, _ = self.episode("SASL_PLAINTEXT", struct.pack(">i", 100) + b"\x00" * 10,
                                 "authentication timeout", None)
        self.assertGreaterEqual(waited, AUTH_TIMEOUT_MS / 1000 - 0.5)
        self.assertLess(waited, AUTH_TIMEOUT_MS / 1000 + TIMEOUT_SLACK_S)

    def test_tls_handshake_never_started_closes_after_auth_timeout(self):
        waited, _ = self.episode("SSL", b"", "authentication timeout", None)
        self.assertLess(waited, AUTH_TIMEOUT_MS / 1000 + TIMEOUT_SLACK_S)

    # ---- requests ----------------------------------------------------------

    def test_unknown_api_key_closes_without_answer(self):
        _, received = self.episode("PLAINTEXT", frame(request_header(12345, 0)),
                                   "protocol violation", "unknown_api_key")
        self.assertEqual(received, b"")

    def test_request_before_authentication_closes_without_answer(self):
        # Metadata v1 with a null topic list, as the first request on a SASL
        # listener: only ApiVersions and SaslHandshake may come first.
        _, received = self.episode("SASL_PLAINTEXT", frame(request_header(3, 1) + b"\xff\xff\xff\xff"),
                                   "protocol violation", "illegal_sasl_state")
        self.assertEqual(received, b"")

    def test_client_software_outside_kip_511_gets_invalid_request(self):
        """ApiVersions v3 names its client software with KIP-511's pattern
        [a-zA-Z0-9](?:[a-zA-Z0-9-.]*[a-zA-Z0-9])?; anything else is answered
        INVALID_REQUEST (42) and the connection stays usable."""
        host, port = self.node.endpoint("PLAINTEXT")
        conn = describe.Connection(host, port)
        self.addCleanup(conn.close)
        cases = [("bad name", "1.0", 42), ("-lead", "1", 42), ("trail.", "1", 42),
                 ("ok", "1.0_beta", 42), ("x" * 256, "1", 42), ("a.b-c", "1.2-rc1", 0),
                 ("7", "", 0), ("x" * 255, "9", 0)]
        for name, version, want in cases:
            body = describe.Writer().compact_string(name).compact_string(version).no_tags()
            answer = conn.request(describe.API_VERSIONS, 3, bytes(body.buf), True, False)
            self.assertEqual(answer.int16("ErrorCode"), want,
                             "name %r version %r" % (name[:20], version))

    # ---- the client goes away ---------------------------------------------------

    def test_client_reset_is_client_closed(self):
        """A client that exits with an answer still unread resets the
        connection (RST): "client closed", on TLS listeners too."""
        for listener in ("PLAINTEXT", "SSL"):
            with self.subTest(listener=listener):
                before = self.closed_count()
                s = self.open_raw(listener)
                pair = support.socket_pair(s)
                if listener == "SSL":
                    s = describe.ssl_context(self.cluster.ca_path).wrap_socket(
                        s, server_hostname="127.0.0.1")
                    self.sockets.append(s)
                s.sendall(frame(request_header(18, 0)))  # ApiVersions v0
                cid = self.conn_id_of(pair)
                time.sleep(0.3)  # the answer arrives and stays unread
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
                self.check_closed(cid, pair, "client closed", None, before)

    # ---- authentication --------------------------------------------------------

    def wrong_password(self, mechanism):
        before = self.closed_count()
        host, port = self.node.endpoint("SASL_PLAINTEXT")
        conn = describe.Connection(host, port)
        self.addCleanup(conn.close)
        pair = support.socket_pair(conn.sock)
        cid = self.conn_id_of(pair)
        conn.fetch_api_versions()
        with self.assertRaises(describe.KafkaError) as raised:
            conn.authenticate(mechanism, "alice", "not-" + self.cluster.users["alice"])
        self.assertEqual(raised.exception.code, 58)  # SASL_AUTHENTICATION_FAILED
        self.wait_closed_by_broker(conn.sock)
        row = self.check_closed(cid, pair, "authentication failed", "authentication_failed", before)
        self.assertEqual(row["Principal"], "User:ANONYMOUS")
        self.assertEqual(row["AuthenticatedAtMs"], -1)

    def test_wrong_password_plain(self):
        self.wrong_password("PLAIN")

    def test_wrong_password_scram(self):
        self.wrong_password("SCRAM-SHA-256")

    def test_unsupported_mechanism(self):
        before = self.closed_count()
        host, port = self.node.endpoint("SASL_PLAINTEXT")
        conn = describe.Connection(host, port)
        self.addCleanup(conn.close)
        pair = support.socket_pair(conn.sock)
        cid = self.conn_id_of(pair)
        with self.assertRaises(describe.KafkaError) as raised:
            conn.authenticate("GSSAPI", "alice", "x")
        self.assertEqual(raised.exception.code, 33)  # UNSUPPORTED_SASL_MECHANISM
        self.wait_closed_by_broker(conn.sock)
        self.check_closed(cid, pair, "authentication failed", "sasl_handshake_refused", before)

    def test_tls_garbage_fails_the_handshake(self):
        self.episode("SSL", b"GET / HTTP/1.1\r\n\r\n" + b"\x16\x03\x01\x00\x05hello",
                     "authentication failed", "tls_handshake_failed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
