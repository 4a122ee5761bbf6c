"""Helpers shared by the integration tests: the programs under test, client
processes left connected, the sockets a process holds, and DescribeConnections
across every node of a cluster."""

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
import describe  # noqa: E402
import kcluster  # noqa: E402

# meson test stops a test that runs too long with SIGTERM: unwind as for
# Ctrl-C, so that clusters and clients are stopped and files removed.
signal.signal(signal.SIGTERM, signal.default_int_handler)

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(HERE, "clients")
PYTHON = "/usr/bin/python3"  # Debian's, where python3-kafka and python3-confluent-kafka live
MTLS_PRINCIPAL = "User:CN=alice,OU=Payments,O=Example Corp,C=US"
SECURITY_IDS = {name: i for i, name in describe.SECURITY_PROTOCOLS.items()}
READY_TIMEOUT_S = 60.0


def program(env_name, default):
    """A program given by meson in the environment, else found on PATH."""
    return os.environ.get(env_name) or shutil.which(default)


def broker_path():
    path = os.environ.get("KAFKA_CONNECTIONS_BROKER")
    if not path:
        raise RuntimeError("set KAFKA_CONNECTIONS_BROKER to the broker's path "
                           "(meson test does)")
    return path


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls predicate() until it returns a true value, which is returned;
    AssertionError naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


def stop_cluster(cluster):
    """Stops and removes the cluster; AssertionError (with the log's end)
    if a broker did not exit 0 on SIGTERM: a clean shutdown is part of
    every test, and sanitizer builds report leaks in the exit status."""
    codes = cluster.stop()
    bad = ["node %d exited %s:\n%s" % (i, code, kcluster.tail(cluster.node(i).log(), 10))
           for i, code in sorted(codes.items()) if code not in (0, None)]
    cluster.__exit__(None, None, None)
    if bad:
        raise AssertionError("\n".join(bad))


class OneBrokerCase(unittest.TestCase):
    """Tests against one broker, started once for the class and stopped
    (cleanly, see stop_cluster) after it: SECURITY and PROPERTIES say how."""
    SECURITY = kcluster.PROTOCOLS
    PROPERTIES = {}
    cluster = None
    node = None

    @classmethod
    def setUpClass(cls):
        cls.cluster = kcluster.Cluster(broker_path(), nodes=1, security=cls.SECURITY,
                                       properties=cls.PROPERTIES)
        cls.cluster.__enter__()
        cls.node = cls.cluster.nodes[0]

    @classmethod
    def tearDownClass(cls):
        if cls.cluster:
            stop_cluster(cls.cluster)


# ---- a cluster's addresses and credentials -----------------------------------

def client_settings(cluster, setup, client_id, **extra):
    """The JSON settings of the client scripts for a security setup:
    (listener, mechanism or None, principal name or "mtls")."""
    listener, mechanism, user = setup
    s = {"bootstrap": cluster.bootstrap(listener), "security_protocol": listener,
         "client_id": client_id}
    if listener in ("SSL", "SASL_SSL"):
        s["cafile"] = cluster.ca_path
    if user == "mtls":
        s["certfile"] = cluster.client_cert("alice")
    if mechanism:
        s.update(mechanism=mechanism, username=user, password=cluster.users[user])
    s.update(extra)
    return s


def admin_connect(cluster, node, **kwargs):
    """A describe.py connection to node as the super user (SASL_PLAINTEXT
    PLAIN when the cluster has it, else whatever listener it has)."""
    if "SASL_PLAINTEXT" in cluster.security:
        host, port = node.endpoint("SASL_PLAINTEXT")
        return describe.connect(host, port, "SASL_PLAINTEXT", "PLAIN", kcluster.SUPER_USER,
                                cluster.users[kcluster.SUPER_USER], **kwargs)
    host, port = node.endpoint(cluster.security[0])
    return describe.connect(host, port, cluster.security[0], cafile=cluster.ca_path
                            if cluster.needs_tls() else None, **kwargs)


def describe_cluster_rows(cluster, **filters):
    """Rows of every node (all pages) as the super user, each with "node"."""
    rows = []
    for node in cluster.nodes:
        with admin_connect(cluster, node) as conn:
            answer = conn.describe_all(**filters)
            if answer["Restricted"]:
                raise AssertionError("the super user got a restricted answer from node %d" % node.id)
            for row in answer["Connections"]:
                row["node"] = node.id
                rows.append(row)
    return rows


# ---- processes -------------------------------------------------------------------

class ClientProcess:
    """A client script left running: started, waited for until it prints
    its first JSON line, stopped by stop() (or when the test dies)."""

    def __init__(self, kind, settings):
        self.kind = kind
        self.settings = settings
        if kind == "kafkajs":
            args = [program("NODE", "node"), os.path.join(CLIENTS, "kafkajs_client.js")]
        else:
            args = [PYTHON, os.path.join(CLIENTS, "%s_client.py" % kind)]
        # A file, not a pipe: a client that logs a lot must never block.
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = kcluster.spawn(args + [json.dumps(settings)], cwd=HERE, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.stderr_log = ""
        self.report = None
        self.error = None

    def next_report(self, timeout):
        """The next JSON line the client prints, or None after timeout
        seconds or at its exit."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if sel.select(timeout):
                line = self.proc.stdout.readline()
                return json.loads(line) if line else None
        return None

    def wait_ready(self, timeout=READY_TIMEOUT_S):
        """The client's first report, or None with self.error saying why."""
        self.report = self.next_report(timeout)
        if self.report is None:
            exited = self.proc.poll() is not None
            self.stop()
            self.error = "%s %s (exit status %s): %s" % (
                self.kind, "exited before reporting" if exited else
                "printed nothing within %.0fs" % timeout, self.proc.returncode, self.stderr_text(8))
        return self.report

    def stderr_text(self, lines=20):
        if not self.stderr.closed:
            self.stderr.seek(0)
            self.stderr_log = self.stderr.read()
        return kcluster.tail(self.stderr_log, lines)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # the clients leave when stdin closes
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        kcluster.stop_process(self.proc, 5)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass  # stdin of a client that already left
        self.stderr_text()
        self.stderr.close()


def established_pairs(pid, remote_ports):
    """(remote port, local port) of pid's ESTABLISHED TCP sockets to one of
    remote_ports, read from /proc (IPv4 only: the tests bind 127.0.0.1).
    Compare with row_pair(): one local port can serve two brokers."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    pairs = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            local, remote, state, inode = cols[1], cols[2], cols[3], cols[9]
            if state != "01" or inode not in inodes:
                continue
            remote_port = int(remote.split(":")[1], 16)
            if remote_port in remote_ports:
                pairs.add((remote_port, int(local.split(":")[1], 16)))
    return pairs


def row_pair(row):
    """(broker port, client port): what tells a connection apart on one
    host, since the same client port may be used towards two listeners."""
    return (row["LocalPort"], row["ClientPort"])


def socket_pair(sock):
    """row_pair() of the connection sock is the client end of; take it
    while connected (getpeername fails once the peer reset it)."""
    return (sock.getpeername()[1], sock.getsockname()[1])


def row_for(rows, pair):
    """The row whose row_pair() is pair, or None."""
    for r in rows:
        if row_pair(r) == pair:
            return r
    return None


def rss_kib(pid):
    """Resident memory of pid in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)
