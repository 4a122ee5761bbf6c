#!/usr/bin/python3
"""kcluster.py itself: the up/down commands the demo and the benchmarks use,
and the library's promise to leave no process or file behind."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
import describe  # noqa: E402
import kcluster  # noqa: E402
import support  # noqa: E402

KCLUSTER = os.path.join(support.HERE, "kcluster.py")


def alive(pid, config):
    return kcluster._pid_is_ours(pid, config)


class Commands(unittest.TestCase):
    def run_kcluster(self, *args):
        return subprocess.run([support.PYTHON, KCLUSTER] + list(args), capture_output=True,
                              text=True, timeout=60)

    def test_up_then_down(self):
        with tempfile.TemporaryDirectory(prefix="itest-kcluster-") as tmp:
            d = os.path.join(tmp, "c")
            up = self.run_kcluster("up", "--dir", d, "--nodes", "2", "--security",
                                   "PLAINTEXT,SASL_SSL", "--broker", support.broker_path(),
                                   "--set", "connections.max.idle.ms=60000")
            try:
                self.assertEqual(up.returncode, 0, up.stderr)
                with open(os.path.join(d, "cluster.json"), encoding="utf-8") as f:
                    state = json.load(f)
                nodes = state["nodes"]
                self.assertEqual([n["id"] for n in nodes], [1, 2])
                for n in nodes:
                    self.assertTrue(alive(n["pid"], n["config"]))
                    with open(n["config"]) as f:
                        self.assertIn("connections.max.idle.ms=60000\n", f.read())
                self.assertIn("bootstrap SASL_SSL %s" % state["bootstrap"]["SASL_SSL"], up.stdout)
                # The cluster answers, with both nodes, on the TLS + SASL listener.
                host, port = describe.parse_endpoint(state["bootstrap"]["SASL_SSL"].split(",")[1])
                with describe.connect(host, port, "SASL_SSL", "SCRAM-SHA-256", "josé",
                                      state["users"]["josé"], cafile=state["ca"]) as conn:
                    brokers = conn.describe_cluster()["Brokers"]
                self.assertEqual([(b["BrokerId"], b["Port"]) for b in brokers],
                                 [(n["id"], n["ports"]["SASL_SSL"]) for n in nodes])
            finally:
                down = self.run_kcluster("down", "--dir", d)
            self.assertEqual(down.returncode, 0, down.stderr)
            self.assertFalse(os.path.exists(d))
            for n in nodes:
                self.assertFalse(alive(n["pid"], n["config"]))

    def test_up_refuses_a_directory_in_use(self):
        with tempfile.TemporaryDirectory(prefix="itest-kcluster-") as tmp:
            open(os.path.join(tmp, "keep-me"), "w").close()
            up = self.run_kcluster("up", "--dir", tmp, "--broker", support.broker_path())
            self.assertEqual(up.returncode, 1)
            self.assertIn("not empty", up.stderr)
            self.assertTrue(os.path.exists(os.path.join(tmp, "keep-me")))

    def test_down_refuses_a_directory_it_did_not_make(self):
        with tempfile.TemporaryDirectory(prefix="itest-kcluster-") as tmp:
            down = self.run_kcluster("down", "--dir", tmp)
            self.assertEqual(down.returncode, 1)
            self.assertIn("not a kcluster directory", down.stderr)
            self.assertTrue(os.path.isdir(tmp))


class Library(unittest.TestCase):
    def test_context_manager_stops_everything_on_error(self):
        with self.assertRaises(RuntimeError):
            with kcluster.Cluster(support.broker_path(), nodes=2, security=("PLAINTEXT",)) as c:
                started = [(n.pid, n.config_path) for n in c.nodes]
                directory = c.dir
                raise RuntimeError("a failing test")
        for pid, config in started:
            self.assertFalse(alive(pid, config))
        self.assertFalse(os.path.exists(directory))
        self.assertEqual(sorted(c.stop().values()), [0, 0])

    def test_a_broker_that_cannot_start_is_reported_and_cleaned_up(self):
        c = kcluster.Cluster(support.broker_path(), nodes=1, security=("PLAINTEXT",),
                             properties={"connections.max.idle.msec": 1})
        with self.assertRaises(kcluster.ClusterError) as raised:
            c.__enter__()
        self.assertIn("connections.max.idle.msec", str(raised.exception))
        self.assertFalse(os.path.exists(c.dir))


if __name__ == "__main__":
    unittest.main(verbosity=2)
