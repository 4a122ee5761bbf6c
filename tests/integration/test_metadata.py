#!/usr/bin/python3
"""Metadata as clients see it: the brokers and the controller a client is
told about are reachable on the listener it asked on, as kcat reports them."""

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
import kcluster  # noqa: E402
import support  # noqa: E402


def kcat_metadata(bootstrap):
    kcat = os.environ.get("KCAT") or shutil.which("kcat")
    out = subprocess.run([kcat, "-J", "-L", "-b", bootstrap, "-m", "10"], capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError("kcat -L failed: %s" % out.stderr)
    return json.loads(out.stdout)


class ControllerOnTheClientsListener(unittest.TestCase):
    """Node 1 has no PLAINTEXT endpoint in node 2's view of the cluster, so a
    PLAINTEXT client of node 2 must be told of node 2 alone, as controller
    too; node 1, which sees both, names itself (the lowest id)."""

    def test_controller_has_an_endpoint_on_the_listener(self):
        cluster = kcluster.Cluster(support.broker_path(), nodes=2, security=("PLAINTEXT", "SSL"))
        try:
            cluster.create()
            first, second = sorted(cluster.nodes, key=lambda n: n.id)
            entries = ["%d@%s" % (first.id, e) for e in first.listeners_value().split(",")
                       if not e.startswith("PLAINTEXT:")]
            entries += ["%d@%s" % (second.id, e) for e in second.listeners_value().split(",")]
            props = cluster.node_properties(second)
            props["cluster.nodes"] = ",".join(entries)
            kcluster.write_properties(second.config_path, props)
            cluster.start()
            md = kcat_metadata(second.bootstrap("PLAINTEXT"))
            self.assertEqual([b["id"] for b in md["brokers"]], [second.id])
            self.assertEqual(md["controllerid"], second.id)
            # Node 1 still sees both nodes on PLAINTEXT, the lowest id controlling.
            md = kcat_metadata(first.bootstrap("PLAINTEXT"))
            self.assertEqual(sorted(b["id"] for b in md["brokers"]), [first.id, second.id])
            self.assertEqual(md["controllerid"], first.id)
        finally:
            cluster.__exit__(None, None, None)
        self.assertLess(first.id, second.id)


if __name__ == "__main__":
    unittest.main()
