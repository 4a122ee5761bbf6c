#!/usr/bin/python3
"""Ten thousand concurrent idle connections on one broker, counted exactly.

Three kinds, so that every count of the summary is checked:
RAW bare TCP connections to PLAINTEXT that never send a byte, SOFTWARE
PLAINTEXT connections that sent ApiVersions v3 naming their software, and
SASL connections authenticated as bob (PLAIN) on SASL_PLAINTEXT. Then
DescribeConnections (summary and paged listing) must count each exactly, half
of the bare ones are closed and the counts must follow, and the
history must hold exactly those closes.
"""

import os
import resource
import socket
import sys
import time
import unittest
from collections import Counter

sys.dont_write_bytecode = True
import describe  # noqa: E402
import support  # noqa: E402

RAW = int(os.environ.get("ITEST_LOAD_RAW", 7000))
SOFTWARE = int(os.environ.get("ITEST_LOAD_SOFTWARE", 2000))
SASL = int(os.environ.get("ITEST_LOAD_SASL", 1000))
CLOSE = RAW // 2
COUNT_TIMEOUT_S = 20


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise unittest.SkipTest("RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


class ManyIdleConnections(support.OneBrokerCase):
    SECURITY = ("PLAINTEXT", "SASL_PLAINTEXT")
    PROPERTIES = {"num.network.threads": 2, "connections.history.size": max(1000, 2 * CLOSE)}
    held = []

    @classmethod
    def setUpClass(cls):
        raise_nofile(RAW + SOFTWARE + SASL + 256)
        super().setUpClass()
        try:
            cls.open_all()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def open_all(cls):
        start = time.monotonic()
        plain = cls.node.endpoint("PLAINTEXT")
        sasl = cls.node.endpoint("SASL_PLAINTEXT")
        cls.raw = [socket.create_connection(plain, timeout=10) for _ in range(RAW)]
        cls.held.extend(cls.raw)
        cls.software = []
        for _ in range(SOFTWARE):
            c = describe.Connection(*plain, client_id="load-software")
            cls.held.append(c)
            c.fetch_api_versions()
            cls.software.append(c)
        for _ in range(SASL):
            c = describe.Connection(*sasl, client_id="load-sasl")
            cls.held.append(c)
            c.authenticate("PLAIN", "bob", cls.cluster.users["bob"])
        cls.open_seconds = time.monotonic() - start

    @classmethod
    def tearDownClass(cls):
        for c in cls.held:
            c.close()
        cls.held = []
        super().tearDownClass()

    def admin(self):
        """An admin connection, once the previous test's has gone."""
        conn = support.admin_connect(self.cluster, self.node)
        self.addCleanup(conn.close)
        support.wait_until(lambda: conn.describe_connections(principals=["User:admin"])["TotalCount"] == 1,
                           5, "a single admin connection")
        return conn

    def expected(self, raw):
        """principal -> (count, listeners, software) with raw bare ones
        still open, plus the admin connection asking."""
        sw = "%s/%s" % (describe.SOFTWARE_NAME, describe.SOFTWARE_VERSION)
        anon = {"PLAINTEXT": raw + SOFTWARE}
        anon_sw = Counter({"unknown/unknown": raw, sw: SOFTWARE})
        return {
            "User:ANONYMOUS": (raw + SOFTWARE, anon, dict(+anon_sw)),
            "User:bob": (SASL, {"SASL_PLAINTEXT": SASL}, {"unknown/unknown": SASL}),
            "User:admin": (1, {"SASL_PLAINTEXT": 1}, {sw: 1}),
        }

    def summary(self, conn):
        answer = conn.describe_connections(summary_only=True)
        return {s["Principal"]: (s["Connections"], {c["Name"]: c["Connections"] for c in s["Listeners"]},
                                 {c["Name"]: c["Connections"] for c in s["ClientSoftware"]})
                for s in answer["Summaries"]}, answer["TotalCount"]

    def wait_for_counts(self, conn, raw):
        want = self.expected(raw)
        support.wait_until(lambda: self.summary(conn)[0] == want, COUNT_TIMEOUT_S,
                           "summary counts with %d bare connections" % raw, 0.2)
        got, total = self.summary(conn)
        self.assertEqual(got, want)
        self.assertEqual(total, sum(v[0] for v in want.values()))

    def test_1_summary_counts_are_exact(self):
        print("opened %d connections in %.1fs" % (RAW + SOFTWARE + SASL, self.open_seconds),
              file=sys.stderr)
        self.wait_for_counts(self.admin(), RAW)

    def test_2_paged_listing_has_each_connection_once(self):
        conn = self.admin()
        answer = conn.describe_all()
        rows = answer["Connections"]
        total = RAW + SOFTWARE + SASL + 1
        self.assertEqual(answer["TotalCount"], total)
        self.assertEqual(len(rows), total)
        self.assertEqual(len({r["ConnectionId"] for r in rows}), total)
        self.assertGreaterEqual(answer["Pages"], 3)  # the broker's default page is 1000 rows
        mine = {support.socket_pair(s) for s in self.raw}
        mine |= {support.socket_pair(c.sock) for c in self.held if isinstance(c, describe.Connection)}
        mine.add(support.socket_pair(conn.sock))
        self.assertEqual({support.row_pair(r) for r in rows}, mine)
        # The paging order: processor by processor, each in accept order.
        index = [tuple(int(x) for x in r["ConnectionId"].rsplit("-", 2)[1:]) for r in rows]
        self.assertEqual(index, sorted(index))

    def test_3_filters_count_exactly(self):
        conn = self.admin()
        sw = "%s/%s" % (describe.SOFTWARE_NAME, describe.SOFTWARE_VERSION)
        cases = [({"client_software": [sw], "listeners": ["PLAINTEXT"]}, SOFTWARE),
                 ({"principals": ["User:bob"]}, SASL),
                 ({"client_ids": ["load-sasl"]}, SASL),
                 ({"client_software": ["unknown"], "listeners": ["PLAINTEXT"]}, RAW),
                 ({"states": [1], "listeners": ["SASL_PLAINTEXT"]}, SASL + 1)]
        for filters, want in cases:
            with self.subTest(**filters):
                answer = conn.describe_connections(limit=1, **filters)
                self.assertEqual(answer["TotalCount"], want)
                self.assertEqual(len(answer["Connections"]), 1)

    def test_4_closing_some_updates_counts_and_history(self):
        conn = self.admin()
        closing = self.raw[:CLOSE]
        pairs = {support.socket_pair(s) for s in closing}
        for s in closing:
            s.close()
        self.wait_for_counts(conn, RAW - CLOSE)
        closed = [r for r in conn.describe_all(include_closed=True, states=[3],
                                                listeners=["PLAINTEXT"])["Connections"]
                  if support.row_pair(r) in pairs]
        self.assertEqual(len(closed), CLOSE)
        self.assertEqual({r["CloseReason"] for r in closed}, {"client closed"})
        print("broker RSS with %d connections: %d KiB"
              % (RAW + SOFTWARE + SASL - CLOSE, support.rss_kib(self.node.pid)), file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
