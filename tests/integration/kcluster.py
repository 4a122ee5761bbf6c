#!/usr/bin/python3
"""A cluster of kafka-connections-broker processes on loopback.

Used three ways: as a library by the integration tests (a context manager
that always stops what it started), and as a command for the demo and the
benchmarks:

    kcluster.py up --dir DIR [--nodes 3] [--security PLAINTEXT,SSL,...]
                   [--broker PATH] [--set key=value]... [--metrics]
    kcluster.py down --dir DIR

`up` creates DIR (it must not exist or be empty) holding a throwaway CA and
certificates (scripts/make-test-certs), a Cyrus sasldb with the users of
USERS, one Kafka properties file and one log file per node, and
cluster.json describing all of it; it starts the brokers, waits until each
has logged event=started, prints where they listen and returns, leaving
them running. `down` stops the brokers named in DIR/cluster.json (SIGTERM,
then SIGKILL after a bound) and removes DIR.

Every node gets one listener per security protocol, named after it, on a
free port of 127.0.0.1; `cluster.nodes` lists every node's endpoints so that
Metadata and DescribeCluster answer with the whole cluster. User:admin is
the only super user. Standard library only (Debian's /usr/bin/python3).
"""

import argparse
import atexit
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
REALM = "kafka"
SUPER_USER = "admin"
# Names a SCRAM client must escape ("=" and ",") and a non-ASCII one are
# there on purpose.
USERS = {
    "admin": "admin-secret",
    "alice": "alice-secret",
    "bob": "bob-secret",
    "josé": "josé-secret",
    "a=b,c": "abc-secret",
}

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAKE_TEST_CERTS = os.path.join(SOURCE_ROOT, "scripts", "make-test-certs")
STATE_FILE = "cluster.json"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
POLL_S = 0.05

PR_SET_PDEATHSIG = 1


class ClusterError(Exception):
    pass


# Clusters this process started and still owns: stopped and removed when it
# exits, even through an unhandled exception (a test runner's SIGTERM turned
# into KeyboardInterrupt, for instance).
_owned = set()


@atexit.register
def _stop_owned():
    for cluster in list(_owned):
        cluster.__exit__(None, None, None)


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the process that started it
    dies, so that a test runner killed on timeout leaves nothing behind."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def spawn(args, **kwargs):
    """subprocess.Popen for helper processes of a test (clients left
    connected, captures): they die with the process that started them."""
    return subprocess.Popen(args, preexec_fn=_die_with_parent, **kwargs)


def stop_process(proc, timeout=STOP_TIMEOUT_S):
    """SIGTERM, then SIGKILL if it is still running after timeout seconds.
    Returns the exit status (negative for a signal, as Popen reports it)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


def reserve_ports(count, host=HOST):
    """Binds count sockets to free ports of host and keeps them bound.

    The sockets are bound but not listening, with SO_REUSEPORT as the broker
    sets it, so the broker can bind the same ports while nothing else picks
    them as "free" in the meantime (tests run in parallel). Release them with
    release_ports() once the brokers listen. (A broker that will not share
    its port gets it back: Cluster.start() then releases and retries.)"""
    held = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            held.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind((host, 0))
    except OSError:
        release_ports(held)
        raise
    return held


def release_ports(held):
    for s in held:
        s.close()


def _properties_value(value):
    # java.util.Properties: a backslash escapes, leading blanks are dropped.
    return str(value).replace("\\", "\\\\")


def write_properties(path, props):
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Written by kcluster.py\n")
        for key, value in props.items():
            f.write("%s=%s\n" % (key, _properties_value(value)))


def endpoint_text(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


class Node:
    """One broker process: its id, a port per listener, its files."""

    def __init__(self, node_id, ports, directory, host=HOST):
        self.id = node_id
        self.host = host
        self.ports = dict(ports)  # listener name -> port
        self.config_path = os.path.join(directory, "node-%d.properties" % node_id)
        self.log_path = os.path.join(directory, "node-%d.log" % node_id)
        self.proc = None
        self.pid = None
        self.returncode = None

    def endpoint(self, listener):
        return (self.host, self.ports[listener])

    def bootstrap(self, listener):
        return endpoint_text(self.host, self.ports[listener])

    def listeners_value(self):
        return ",".join("%s://%s" % (name, endpoint_text(self.host, port))
                        for name, port in self.ports.items())

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_lines(self, event=None, **fields):
        """Parsed log lines (dicts of key=value) with that event and fields."""
        out = []
        for line in self.log().splitlines():
            rec = parse_log_line(line)
            if event is not None and rec.get("event") != event:
                continue
            if all(rec.get(k) == v for k, v in fields.items()):
                out.append(rec)
        return out

    def wait_for_log(self, predicate, timeout, what="a log line"):
        """Polls the log until predicate(parsed lines) returns a true value,
        which is returned; raises ClusterError after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [parse_log_line(l) for l in self.log().splitlines()]
            got = predicate(lines)
            if got:
                return got
            if time.monotonic() > deadline:
                raise ClusterError("node %d: no %s after %.1fs; log tail:\n%s"
                                   % (self.id, what, timeout, tail(self.log())))
            time.sleep(POLL_S)

    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _pid_is_ours(self.pid, self.config_path)


_LOG_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_log_line(line):
    """key=value pairs of one broker log line; quoted values unescaped."""
    rec = {}
    for key, value in _LOG_FIELD.findall(line):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        rec[key] = value
    return rec


def tail(text, lines=20):
    return "\n".join(text.splitlines()[-lines:])


def _pid_is_ours(pid, config_path):
    """True when pid is alive and is a broker started with config_path, so
    that a recycled pid is never signalled."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return os.fsencode(config_path) in argv


class Cluster:
    """N broker nodes on loopback sharing one CA, one sasldb, one cluster.

    with Cluster(broker_path, nodes=3) as c:
        c.bootstrap("SASL_SSL")  # "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"

    properties: extra broker properties for every node (dict), e.g.
    {"connections.max.idle.ms": 3000}. directory: where to put the files
    (a new temporary directory by default); removed by remove() unless
    keep=True.
    """

    def __init__(self, broker, nodes=3, security=PROTOCOLS, properties=None, directory=None,
                 users=None, metrics=False, keep=False, host=HOST, num_network_threads=2):
        unknown = [p for p in security if p not in PROTOCOLS]
        if unknown or not security:
            raise ClusterError("security must be a non-empty subset of %s, not %s"
                               % (",".join(PROTOCOLS), ",".join(security)))
        if nodes < 1:
            raise ClusterError("nodes must be at least 1")
        self.broker = broker
        self.n_nodes = nodes
        self.security = tuple(security)
        self.properties = dict(properties or {})
        self.users = dict(USERS if users is None else users)
        self.metrics = metrics
        self.keep = keep
        self.host = host
        self.num_network_threads = num_network_threads
        # One SCRAM salt secret per cluster: every broker then offers a
        # user the same salt, as Kafka's cluster-wide credentials do.
        self.salt_secret = secrets.token_hex(16)
        self.dir = directory
        self.nodes = []
        self.metrics_ports = {}
        self._held = []

    # ---- files ---------------------------------------------------------

    @property
    def certs_dir(self):
        return os.path.join(self.dir, "certs")

    @property
    def ca_path(self):
        return os.path.join(self.certs_dir, "ca.pem")

    def client_cert(self, name="alice"):
        """A client keystore of make-test-certs (key + chain, PEM)."""
        return os.path.join(self.certs_dir, "client-%s.pem" % name)

    @property
    def sasldb_path(self):
        return os.path.join(self.dir, "users.db")

    def needs_tls(self):
        return any(p in ("SSL", "SASL_SSL") for p in self.security)

    def needs_sasl(self):
        return any(p.startswith("SASL_") for p in self.security)

    def create(self):
        """Makes the directory, certificates, sasldb and properties files."""
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="kcluster-")
        else:
            os.makedirs(self.dir, exist_ok=True)
            if os.listdir(self.dir):
                raise ClusterError("%s is not empty" % self.dir)
        self.dir = os.path.abspath(self.dir)
        if self.needs_tls():
            _run([MAKE_TEST_CERTS, self.certs_dir])
        if self.needs_sasl():
            for user, password in self.users.items():
                _run(["saslpasswd2", "-p", "-c", "-f", self.sasldb_path, "-u", REALM, user],
                     stdin=password)
        per_node = len(self.security) + (1 if self.metrics else 0)
        self._held = reserve_ports(self.n_nodes * per_node, self.host)
        ports = [s.getsockname()[1] for s in self._held]
        for i in range(self.n_nodes):
            mine = ports[i * per_node:(i + 1) * per_node]
            node = Node(i + 1, zip(self.security, mine), self.dir, self.host)
            if self.metrics:
                self.metrics_ports[node.id] = mine[-1]
            self.nodes.append(node)
        for node in self.nodes:
            write_properties(node.config_path, self.node_properties(node))
        self.save()
        return self

    def node_properties(self, node):
        props = {
            "node.id": node.id,
            "listeners": node.listeners_value(),
            "cluster.nodes": ",".join("%d@%s" % (n.id, e) for n in self.nodes
                                      for e in n.listeners_value().split(",")),
            "super.users": "User:" + SUPER_USER,
            "num.network.threads": self.num_network_threads,
        }
        if self.needs_sasl():
            props["sasl.sasldb.path"] = self.sasldb_path
            props["sasl.realm"] = REALM
            props["sasl.scram.salt.secret"] = self.salt_secret
        if self.needs_tls():
            props["ssl.keystore.location"] = os.path.join(self.certs_dir, "broker.pem")
            props["ssl.truststore.location"] = self.ca_path
            # Requested, not required: the SSL listener then serves both
            # anonymous TLS clients and mTLS clients.
            props["ssl.client.auth"] = "requested"
        if self.metrics:
            props["metrics.listener"] = endpoint_text(self.host, self.metrics_ports[node.id])
        props.update(self.properties)
        return props

    def save(self):
        state = {
            "broker": self.broker,
            "dir": self.dir,
            "security": list(self.security),
            "ca": self.ca_path if self.needs_tls() else None,
            "sasldb": self.sasldb_path if self.needs_sasl() else None,
            "users": self.users if self.needs_sasl() else {},
            "salt_secret": self.salt_secret,
            "super_user": SUPER_USER,
            "bootstrap": {p: self.bootstrap(p) for p in self.security},
            "nodes": [{"id": n.id, "pid": n.pid, "ports": n.ports, "config": n.config_path,
                       "log": n.log_path, "metrics_port": self.metrics_ports.get(n.id)}
                      for n in self.nodes],
        }
        with open(os.path.join(self.dir, STATE_FILE), "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2, ensure_ascii=False)
            f.write("\n")

    @classmethod
    def load(cls, directory):
        """The cluster described by DIR/cluster.json (written by `up`)."""
        path = os.path.join(directory, STATE_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                state = json.load(f)
        except FileNotFoundError:
            raise ClusterError("%s: no %s, not a kcluster directory" % (directory, STATE_FILE))
        c = cls(state["broker"], nodes=len(state["nodes"]), security=state["security"],
                directory=state["dir"], users=state["users"])
        c.salt_secret = state.get("salt_secret", c.salt_secret)
        for n in state["nodes"]:
            node = Node(n["id"], n["ports"].items(), state["dir"])
            node.pid = n["pid"]
            c.nodes.append(node)
        return c

    # ---- processes -----------------------------------------------------

    def start(self, timeout=START_TIMEOUT_S, detach=False):
        """Starts every node and waits until each has logged event=started.
        detach: the brokers outlive this process (the `up` command);
        otherwise they are killed if it dies."""
        if not detach:
            _owned.add(self)
        reserved = bool(self._held)
        try:
            for node in self.nodes:
                self._start_node(node, detach)
            for node in self.nodes:
                try:
                    self.wait_started(node, timeout)
                except ClusterError:
                    # A broker that refuses to share a port with our
                    # reservation: let the ports go and start it again.
                    if not reserved or "Address already in use" not in node.log():
                        raise
                    release_ports(self._held)
                    self._held = []
                    self._start_node(node, detach)
                    self.wait_started(node, timeout)
        except BaseException:
            self.stop()
            raise
        finally:
            release_ports(self._held)
            self._held = []
        self.save()
        return self

    def _start_node(self, node, detach):
        log = open(node.log_path, "ab")
        try:
            kwargs = {"start_new_session": True} if detach else {"preexec_fn": _die_with_parent}
            node.proc = subprocess.Popen([self.broker, node.config_path], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, **kwargs)
        finally:
            log.close()
        node.pid = node.proc.pid

    def wait_started(self, node, timeout=START_TIMEOUT_S):
        def started(lines):
            if not node.running():
                raise ClusterError("node %d exited before starting; log:\n%s"
                                   % (node.id, tail(node.log())))
            return any(l.get("event") == "started" for l in lines)
        node.wait_for_log(started, timeout, "event=started")

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM to every running node at once, SIGKILL to those still
        running after timeout seconds. Returns {node id: exit status}."""
        for node in self.nodes:
            if node.running():
                os.kill(node.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            node.returncode = self._reap(node, deadline)
        return {n.id: n.returncode for n in self.nodes}

    def _reap(self, node, deadline):
        if node.proc is not None:
            try:
                return node.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.proc.kill()
                return node.proc.wait(STOP_TIMEOUT_S)
        # Started by another process (`up`): not our child, poll /proc.
        while node.running() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        if node.running():
            os.kill(node.pid, signal.SIGKILL)
            return -signal.SIGKILL
        return node.returncode

    def remove(self):
        if self.dir and os.path.isdir(self.dir):
            shutil.rmtree(self.dir)

    def __enter__(self):
        try:
            self.create()
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        _owned.discard(self)
        release_ports(self._held)
        self._held = []
        self.stop()
        if not self.keep:
            self.remove()
        return False

    # ---- addresses -----------------------------------------------------

    def bootstrap(self, listener):
        return ",".join(n.bootstrap(listener) for n in self.nodes)

    def node(self, node_id):
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


def _run(args, stdin=None):
    out = subprocess.run(args, input=stdin.encode("utf-8") if stdin is not None else None,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, check=False)
    if out.returncode != 0:
        raise ClusterError("%s failed (exit %d): %s"
                           % (" ".join(args[:2]), out.returncode, out.stdout.decode(errors="replace")))


def find_broker(explicit=None):
    """--broker, else $KAFKA_CONNECTIONS_BROKER, else the program on PATH."""
    path = explicit or os.environ.get("KAFKA_CONNECTIONS_BROKER") or shutil.which("kafka-connections-broker")
    if not path or not os.access(path, os.X_OK):
        raise ClusterError("kafka-connections-broker not found: pass --broker PATH or set "
                           "KAFKA_CONNECTIONS_BROKER")
    return os.path.abspath(path)


# ---- command line ----------------------------------------------------------

def cmd_up(args):
    props = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ClusterError("--set wants key=value, not %r" % item)
        props[key] = value
    security = [p.strip().upper() for p in args.security.split(",") if p.strip()]
    if os.path.isdir(args.dir) and os.listdir(args.dir):
        raise ClusterError("%s exists and is not empty" % args.dir)
    cluster = Cluster(find_broker(args.broker), nodes=args.nodes, security=security,
                      properties=props, directory=args.dir, metrics=args.metrics)
    try:
        cluster.create()
        cluster.start(timeout=args.timeout, detach=True)
    except BaseException:
        cluster.stop()
        cluster.remove()
        raise
    for node in cluster.nodes:
        print("node %d pid %d: %s" % (node.id, node.pid, node.listeners_value()))
    for p in cluster.security:
        print("bootstrap %s %s" % (p, cluster.bootstrap(p)))
    if cluster.needs_tls():
        print("ca %s" % cluster.ca_path)
    if cluster.needs_sasl():
        print("users %s (passwords in %s)" % (", ".join(cluster.users), os.path.join(cluster.dir, STATE_FILE)))
    print("stop with: %s down --dir %s" % (sys.argv[0], cluster.dir))
    return 0


def cmd_down(args):
    cluster = Cluster.load(args.dir)
    codes = cluster.stop(timeout=args.timeout)
    cluster.remove()
    for node_id, code in sorted(codes.items()):
        print("node %d stopped%s" % (node_id, "" if code in (0, None) else " (status %s)" % code))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="A kafka-connections-broker cluster on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create DIR and start the brokers")
    up.add_argument("--dir", required=True, help="directory for every file (created; must be empty)")
    up.add_argument("--nodes", type=int, default=3)
    up.add_argument("--security", default=",".join(PROTOCOLS),
                    help="comma-separated listeners to open on every node (default: all four)")
    up.add_argument("--broker", help="path of kafka-connections-broker")
    up.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an extra broker property for every node (repeatable)")
    up.add_argument("--metrics", action="store_true", help="open a metrics listener per node")
    up.add_argument("--timeout", type=float, default=START_TIMEOUT_S,
                    help="seconds to wait for each node to start")
    down = sub.add_parser("down", help="stop the brokers of DIR and remove DIR")
    down.add_argument("--dir", required=True)
    down.add_argument("--timeout", type=float, default=STOP_TIMEOUT_S,
                      help="seconds between SIGTERM and SIGKILL")
    args = parser.parse_args(argv)
    try:
        return cmd_up(args) if args.command == "up" else cmd_down(args)
    except ClusterError as e:
        print("kcluster: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
