#!/usr/bin/python3
"""Integration tests of the CLI's network side (kc_bootstrap, kc_fanout).

Starts real kafka-connections-broker processes on free loopback ports (a
3-node cluster with PLAINTEXT, SASL_PLAINTEXT, SSL and SASL_SSL listeners,
plus single brokers for the odd cases), drives them through the kc_probe
driver and checks what it reports: statuses, the one-line error messages,
the rows of every page and the timing of the parallel fan-out. Small
in-process servers stand in for brokers that misbehave on purpose (a
silent one, one that only speaks old ApiVersions, one that refuses
DescribeConnections).

Usage: test_fanout.py KC_PROBE KAFKA_CONNECTIONS_BROKER
Environment: SOURCE_ROOT (for scripts/make-test-certs), KC_VERSION (the
project version the CLI must announce).
"""
import base64
import ctypes
import hashlib
import hmac
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

PROBE = BROKER = None
SOURCE_ROOT = os.environ.get("SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))


def project_version():
    """The version meson's project() declares (meson passes it as KC_VERSION)."""
    if os.environ.get("KC_VERSION"):
        return os.environ["KC_VERSION"]
    with open(os.path.join(SOURCE_ROOT, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


VERSION = project_version()

PASSWORDS = {"admin": "admin-Secret-7", "alice": "alice-Secret-9"}
PROTOCOLS = ["PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"]

# Everything started here, stopped in tearDownModule whatever happened.
STATE = {}


def free_ports(n):
    """n distinct free loopback ports (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_ports_v6(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET6)
            s.bind(("::1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_port(port, deadline):
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def die_with_parent():
    """In the child: SIGTERM when the test process dies, however it dies."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Broker:
    """One kafka-connections-broker process."""

    def __init__(self, workdir, name, props, ports):
        self.name = name
        self.ports = ports
        self.config = os.path.join(workdir, name + ".properties")
        with open(self.config, "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in props.items()))
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen([BROKER, self.config], stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent)
        deadline = time.monotonic() + 20
        for p in ports:
            if not wait_port(p, deadline) or self.proc.poll() is not None:
                self.stop()
                with open(os.path.join(workdir, name + ".log")) as f:
                    raise RuntimeError("broker %s did not start:\n%s" % (name, f.read()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def listeners(ports):
    return ",".join("%s://127.0.0.1:%d" % (p, port) for p, port in zip(PROTOCOLS, ports))


def broker_props(workdir, node_id, ports, nodes, keystore="broker.pem", **extra):
    props = {
        "node.id": node_id,
        "listeners": listeners(ports),
        "cluster.nodes": ",".join(
            "%d@%s://127.0.0.1:%d" % (nid, p, port)
            for nid, nports in nodes for p, port in zip(PROTOCOLS, nports)),
        "sasl.sasldb.path": os.path.join(workdir, "users.db"),
        # The CLI's PLAINTEXT and SSL connections are ANONYMOUS; let them
        # see everything so that paging can be checked on full listings.
        "super.users": "User:admin;User:ANONYMOUS",
        "ssl.keystore.location": os.path.join(workdir, "certs", keystore),
        "ssl.truststore.location": os.path.join(workdir, "certs", "ca.pem"),
        "ssl.client.auth": "requested",
        "num.network.threads": 2,
    }
    props.update(extra)
    return props


def make_wrong_name_cert(certs):
    """A server certificate from the trusted CA, but for another host name."""
    env = dict(os.environ, OPENSSL_CONF="/dev/null")

    def run(*args):
        subprocess.run(args, cwd=certs, env=env, check=True, capture_output=True, timeout=60)

    run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "wrong.key")
    run("openssl", "req", "-new", "-key", "wrong.key", "-subj", "/CN=wrong.example", "-out", "wrong.csr")
    with open(os.path.join(certs, "wrong.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:wrong.example\n")
    run("openssl", "x509", "-req", "-in", "wrong.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
        "0x300", "-days", "3", "-extfile", "wrong.ext", "-out", "wrong.crt")
    with open(os.path.join(certs, "wrong.pem"), "w") as out:
        for part in ("wrong.key", "wrong.crt", "ca.pem"):
            with open(os.path.join(certs, part)) as f:
                out.write(f.read())


def setUpModule():
    try:
        start_everything()
    except BaseException:
        # unittest skips tearDownModule when setUpModule fails.
        tearDownModule()
        raise


def start_everything():
    work = tempfile.mkdtemp(prefix="kc-cli-test-")
    STATE["work"] = work
    STATE["brokers"] = []
    STATE["servers"] = []
    certs = os.path.join(work, "certs")
    subprocess.run([os.path.join(SOURCE_ROOT, "scripts", "make-test-certs"), certs], check=True,
                   capture_output=True, timeout=120)
    make_wrong_name_cert(certs)
    for user, pw in PASSWORDS.items():
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", os.path.join(work, "users.db"), "-u", "kafka", user],
                       input=pw.encode(), check=True, capture_output=True, timeout=30)
    ports = free_ports(4 * 3 + 4 * 3)
    nodes = [(1, ports[0:4]), (2, ports[4:8]), (3, ports[8:12])]
    STATE["nodes"] = dict(nodes)
    for nid, nports in nodes:
        STATE["brokers"].append(Broker(work, "b%d" % nid, broker_props(work, nid, nports, nodes), nports))
    # Node 9: a certificate for another name, and DescribeConnections under
    # another API key. Node 7: started, then stopped by its test.
    for nid, nports, extra in ((9, ports[12:16], {"describe.connections.api.key": 1001}),
                               (7, ports[16:20], {})):
        keystore = "wrong.pem" if nid == 9 else "broker.pem"
        props = broker_props(work, nid, nports, [(nid, nports)], keystore=keystore, **extra)
        b = Broker(work, "b%d" % nid, props, nports)
        STATE["brokers"].append(b)
        STATE["node%d" % nid] = b
    # ports[20:24] stay free: nothing listens there.
    STATE["closed_port"] = ports[20]


def tearDownModule():
    for s in STATE.get("servers", []):
        s.close()
    for b in STATE.get("brokers", []):
        b.stop()
    if "work" in STATE and not os.environ.get("KC_KEEP_TEST_DIR"):
        shutil.rmtree(STATE["work"], ignore_errors=True)


def port(node, protocol):
    return STATE["nodes"][node][PROTOCOLS.index(protocol)] if node in STATE["nodes"] else \
        STATE["node%d" % node].ports[PROTOCOLS.index(protocol)]


def cert(name):
    return os.path.join(STATE["work"], "certs", name)


def probe(*args, expect_exit=0, timeout=90):
    """Runs kc_probe; returns (parsed JSON, stderr, wall seconds)."""
    t0 = time.monotonic()
    p = subprocess.run([PROBE] + [str(a) for a in args], capture_output=True, timeout=timeout)
    wall = time.monotonic() - t0
    out, err = p.stdout.decode(), p.stderr.decode()
    if expect_exit is not None and p.returncode != expect_exit:
        raise AssertionError("kc_probe %s exited %d, expected %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, args)), p.returncode, expect_exit, out, err))
    return json.loads(out), err, wall


def sasl_args(user, mechanism, password=None):
    return ["--mechanism", mechanism, "--user", user, "--password", password or PASSWORDS[user]]


def own_rows(result):
    """The rows of the probe's own connection(s) on a broker."""
    return [c for c in result["connections"] if c["client_software_name"] == "kafka-connections"]


# ---------------------------------------------------------------- stand-ins

class Server:
    """A loopback TCP server handling each connection in a thread."""

    def __init__(self, handler, accept=True):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.closing = False
        self.conns = []
        STATE["servers"].append(self)
        if accept:
            threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            self.handler(c)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def recv_exact(c, n):
    buf = b""
    while len(buf) < n:
        chunk = c.recv(n - len(buf))
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf


def read_request(c):
    """(api_key, api_version, correlation_id) of the next request frame."""
    size, = struct.unpack(">i", recv_exact(c, 4))
    frame = recv_exact(c, size)
    return struct.unpack(">hhi", frame[:8])


def send_frame(c, payload):
    c.sendall(struct.pack(">i", len(payload)) + payload)


def api_versions_body(keys, version):
    body = struct.pack(">hi", 0, len(keys)) + b"".join(struct.pack(">hhh", *k) for k in keys)
    return body + (struct.pack(">i", 0) if version >= 1 else b"")


def compact_str(s):
    """A COMPACT_NULLABLE_STRING of fewer than 127 bytes."""
    if s is None:
        return b"\x00"
    b = s.encode()
    return bytes([len(b) + 1]) + b


def describe_empty_body(code=0, message=None):
    """A DescribeConnections v0 answer without rows: an error, or by
    default an empty last page."""
    return (struct.pack(">ih", 0, code) + compact_str(message) +  # ThrottleTimeMs ErrorCode ErrorMessage
            b"\x00" + struct.pack(">qi", 0, 0) +  # Restricted BrokerTimeMs TotalCount
            b"\x00\x01\x01\x01\x00")  # NextCursor (null) Summaries Connections Strings tags


def describe_page_body(principal_index, strings):
    """A last page of one open PLAINTEXT connection whose PrincipalIndex is
    principal_index; every other string index is 0 or -1 (null)."""
    t = 1714567890123
    row = (compact_str("127.0.0.1:9092-127.0.0.1:40001-0-1") +  # ConnectionId
           struct.pack(">bihii", 1, 0, 0,  # State ListenerNameIndex SecurityProtocol
                       principal_index, -1) +  # PrincipalIndex SaslMechanismIndex
           compact_str("127.0.0.1") +  # ClientHost, inline
           struct.pack(">HiHiiiqqqqqq", 40001,  # ClientPort
                       0, 9092, -1, 0, 0,  # LocalHostIndex LocalPort ClientIdIndex ClientSoftware{Name,Version}Index
                       t, t, t, 1, 2, 3) +  # ConnectedAtMs AuthenticatedAtMs LastActivityAtMs Requests BytesIn BytesOut
           b"\x00")  # tags
    return (struct.pack(">ih", 0, 0) + b"\x00" + b"\x00" +  # ThrottleTimeMs ErrorCode ErrorMessage Restricted
            struct.pack(">qi", t, 1) + b"\x00\x01" +  # BrokerTimeMs TotalCount NextCursor Summaries
            b"\x02" + row +  # Connections
            bytes([len(strings) + 1]) + b"".join(compact_str(s) for s in strings) +  # Strings
            b"\x00")  # tags


class OldBroker:
    """Speaks ApiVersions up to v2 only (answers v3 as KIP-511 says: error
    35 with a v0 body), then answers DescribeConnections with an error, or
    does not advertise it at all, or (modes "index-N") answers with one row
    whose PrincipalIndex is N into Strings ["User:alice"]."""

    def __init__(self, mode):
        self.mode = mode
        self.seen = []
        self.server = Server(self.handle)
        self.port = self.server.port

    def handle(self, c):
        keys = [(18, 0, 2), (3, 0, 12)] + ([(1000, 0, 0)] if self.mode != "nokey" else [])
        while True:
            key, version, corr = read_request(c)
            self.seen.append((key, version))
            if key == 18 and version > 2:
                send_frame(c, struct.pack(">ihi", corr, 35, 1) + struct.pack(">hhh", 18, 0, 2))
            elif key == 18:
                send_frame(c, struct.pack(">i", corr) + api_versions_body(keys, version))
            elif key == 1000 and self.mode.startswith("index-"):
                body = describe_page_body(int(self.mode[6:]), ["User:alice"])
                send_frame(c, struct.pack(">i", corr) + b"\x00" + body)
            elif key == 1000 and self.mode == "deny":
                send_frame(c, struct.pack(">i", corr) + b"\x00" + describe_empty_body(31, "no DESCRIBE on CLUSTER"))
            elif key == 1000:
                send_frame(c, struct.pack(">i", corr) + b"\x00" + describe_empty_body(42, "Principals: bad entry"))
            else:
                return


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def api_versions_v3_body(keys):
    """An ApiVersions v3 answer (flexible: compact array, tagged fields)."""
    return (struct.pack(">h", 0) + uvarint(len(keys) + 1) +
            b"".join(struct.pack(">hhh", *k) + b"\x00" for k in keys) +
            struct.pack(">i", 0) + b"\x00")


class PipelineBroker:
    """Answers ApiVersions v3 advertising DescribeConnections (key 1000)
    versions dc_range, then answers DescribeConnections with an empty last
    page. Per connection it records the requests read and whether the next
    one had already arrived when the ApiVersions answer was about to go out
    (sent behind ApiVersions, unasked). hangup: closes every connection
    after reading its first request."""

    def __init__(self, dc_range=(0, 0), hangup=False):
        self.dc_range = dc_range
        self.hangup = hangup
        self.conns = []
        self.server = Server(self.handle)
        self.port = self.server.port

    def handle(self, c):
        seen = {"requests": [], "ahead": None}
        self.conns.append(seen)
        key, version, corr = read_request(c)
        seen["requests"].append((key, version))
        if self.hangup:
            return
        seen["ahead"] = bool(select.select([c], [], [], 0.3)[0])
        send_frame(c, struct.pack(">i", corr) + api_versions_v3_body([(18, 0, 3), (1000,) + self.dc_range]))
        while True:
            key, version, corr = read_request(c)
            seen["requests"].append((key, version))
            if key != 1000:
                return
            send_frame(c, struct.pack(">i", corr) + b"\x00" + describe_empty_body())


class DelayProxy:
    """Forwards to a broker port, holding each new connection for delay
    seconds first: an artificially slow broker."""

    def __init__(self, upstream_port, delay):
        self.upstream_port = upstream_port
        self.delay = delay
        self.server = Server(self.handle)
        self.port = self.server.port

    def handle(self, c):
        time.sleep(self.delay)
        up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        self.server.conns.append(up)

        def pipe(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pipe, args=(up, c), daemon=True)
        t.start()
        pipe(c, up)
        t.join(timeout=10)
        up.close()


def read_request_body(c):
    """(api_key, api_version, correlation_id, body) of a non-flexible request."""
    size, = struct.unpack(">i", recv_exact(c, 4))
    frame = recv_exact(c, size)
    key, version, corr, id_len = struct.unpack(">hhih", frame[:10])
    return key, version, corr, frame[10 + max(id_len, 0):]


class ScramBroker:
    """A SCRAM-SHA-256 server written from RFC 5802 here, independent of
    libsasl2: checks the client's proof, then sends the right ServerSignature
    (mode "good") or a forged one (mode "forged")."""

    SALT, ITERATIONS = b"kafka-connections-salt", 4096

    def __init__(self, mode, password):
        self.mode = mode
        self.password = password
        self.client_first = None
        self.proof_ok = None
        self.server = Server(self.handle)
        self.port = self.server.port

    def handle(self, c):
        keys = [(17, 0, 1), (18, 0, 2), (36, 0, 1), (1000, 0, 0)]
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), self.SALT, self.ITERATIONS)
        mac = lambda k, m: hmac.new(k, m.encode() if isinstance(m, str) else m, hashlib.sha256).digest()
        server_first = auth = None
        while True:
            key, version, corr, body = read_request_body(c)
            if key == 18 and version > 2:
                send_frame(c, struct.pack(">ihi", corr, 35, 1) + struct.pack(">hhh", 18, 0, 2))
            elif key == 18:
                send_frame(c, struct.pack(">i", corr) + api_versions_body(keys, version))
            elif key == 17:
                send_frame(c, struct.pack(">ihih", corr, 0, 1, 13) + b"SCRAM-SHA-256")
            elif key == 36:
                token = body[4:4 + struct.unpack(">i", body[:4])[0]].decode()
                if server_first is None:
                    self.client_first = token
                    bare = token.split(",", 2)[2]
                    nonce = dict(kv.split("=", 1) for kv in bare.split(","))["r"] + "srvnonce"
                    server_first = "r=%s,s=%s,i=%d" % (nonce, base64.b64encode(self.SALT).decode(), self.ITERATIONS)
                    auth = bare + "," + server_first
                    out = server_first
                else:
                    without_proof, proof = token.rsplit(",p=", 1)
                    auth += "," + without_proof
                    client_key = mac(salted, "Client Key")
                    signature = mac(hashlib.sha256(client_key).digest(), auth)
                    sent_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature))
                    self.proof_ok = sent_key == client_key
                    server_sig = mac(mac(salted, "Server Key"), auth)
                    if self.mode == "forged":
                        server_sig = bytes(32)
                    out = "v=" + base64.b64encode(server_sig).decode()
                out = out.encode()
                send_frame(c, struct.pack(">ihhi", corr, 0, -1, len(out)) + out + struct.pack(">q", 0))
            elif key == 1000:
                send_frame(c, struct.pack(">i", corr) + b"\x00" + describe_empty_body())
            else:
                return


class TlsRecorder:
    """A TLS server with the test broker certificate that records the SNI
    name each client sent, then hangs up."""

    def __init__(self):
        self.names = []
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert("broker.pem"))
        self.ctx.sni_callback = lambda sock, name, ctx: self.names.append(name)
        self.server = Server(self.handle)
        self.port = self.server.port

    def handle(self, c):
        c.settimeout(5)
        try:
            self.ctx.wrap_socket(c, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass


# ---------------------------------------------------------------- tests

class Bootstrap(unittest.TestCase):
    def test_plaintext_bootstrap_lists_every_broker_and_fanout_reaches_each(self):
        res, _, _ = probe("--bootstrap", "127.0.0.1:%d" % port(2, "PLAINTEXT"))
        self.assertEqual([(b["node_id"], b["host"], b["port"]) for b in res["brokers"]],
                         [(n, "127.0.0.1", port(n, "PLAINTEXT")) for n in (1, 2, 3)])
        for b in res["brokers"]:
            self.assertEqual(b["status"], "ok", b["error"])
            self.assertIsNone(b["error"])
            self.assertFalse(b["restricted"])
            self.assertEqual(len(b["connections"]), b["total_count"])
            own = own_rows(b)
            # ApiVersions v3 announced the CLI and the project's version.
            self.assertEqual(len(own), 1, b["connections"])
            self.assertEqual(own[0]["client_software_version"], VERSION)
            self.assertEqual(own[0]["client_id"], "kafka-connections")
            self.assertEqual(own[0]["principal"], "User:ANONYMOUS")
            self.assertEqual(own[0]["state"], 1)
        self.assertEqual(res["failed"], 0)
        self.assertEqual(res["progress_last"], 3)
        self.assertEqual(res["progress_regressions"], 0)

    def test_bootstrap_with_wrong_password_fails_fast_and_names_the_server(self):
        server = "127.0.0.1:%d" % port(1, "SASL_PLAINTEXT")
        res, err, wall = probe("--bootstrap", server, "--protocol", "SASL_PLAINTEXT", "--timeout", 20000,
                               *sasl_args("admin", "PLAIN", "not-the-password"), expect_exit=4)
        msg = res["bootstrap_error"]
        self.assertTrue(msg.startswith("cannot bootstrap from %s: " % server), msg)
        self.assertIn("Authentication failed", msg)
        self.assertLess(wall, 10, "an authentication failure must not wait for the timeout")
        self.assertNotIn("not-the-password", msg + err)

    def test_bootstrap_to_a_closed_port_reports_the_cause_within_the_timeout(self):
        server = "127.0.0.1:%d" % STATE["closed_port"]
        res, _, wall = probe("--bootstrap", server, "--timeout", 1500, expect_exit=4)
        msg = res["bootstrap_error"]
        self.assertTrue(msg.startswith("cannot bootstrap from %s: no Metadata within 1500 ms: " % server), msg)
        self.assertIn("Connection refused", msg)
        self.assertLess(wall, 6)

    def test_bootstrap_fails_on_a_certificate_for_another_name(self):
        server = "127.0.0.1:%d" % port(9, "SSL")
        res, _, wall = probe("--bootstrap", server, "--protocol", "SSL", "--ca", cert("ca.pem"),
                             "--timeout", 20000, expect_exit=4)
        self.assertTrue(res["bootstrap_error"].startswith("cannot bootstrap from %s: " % server))
        self.assertIn("certificate", res["bootstrap_error"].lower())
        self.assertLess(wall, 10)

    def test_librdkafka_debug_output_never_shows_the_password(self):
        pw = PASSWORDS["admin"]
        res, err, _ = probe("--bootstrap", "127.0.0.1:%d" % port(1, "SASL_PLAINTEXT"), "--protocol",
                            "SASL_PLAINTEXT", *sasl_args("admin", "PLAIN"), "-X", "debug=all")
        self.assertIn("librdkafka", err)  # the debug log was printed
        self.assertNotIn(pw, err)
        self.assertNotIn(pw, json.dumps(res))
        res, err, _ = probe("--bootstrap", "127.0.0.1:%d" % port(1, "SASL_PLAINTEXT"), "--protocol",
                            "SASL_PLAINTEXT", *sasl_args("admin", "PLAIN", pw + "x"), "-X", "debug=all",
                            "--timeout", 5000, expect_exit=4)
        self.assertNotIn(pw, err + json.dumps(res))


class Security(unittest.TestCase):
    def check_all_ok(self, res, principal, mechanism, tls):
        self.assertEqual(len(res["brokers"]), 3)
        for b in res["brokers"]:
            self.assertEqual(b["status"], "ok", b["error"])
            own = own_rows(b)
            self.assertTrue(own, b["connections"])
            self.assertEqual(own[0]["principal"], principal)
            self.assertEqual(own[0]["sasl_mechanism"], mechanism)
            if tls:
                self.assertIn(own[0]["tls_protocol"], ("TLSv1.2", "TLSv1.3"))
            else:
                self.assertIsNone(own[0]["tls_protocol"])

    def test_sasl_plaintext_with_each_mechanism(self):
        for mech in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            with self.subTest(mechanism=mech):
                res, _, _ = probe("--bootstrap", "127.0.0.1:%d" % port(3, "SASL_PLAINTEXT"), "--protocol",
                                  "SASL_PLAINTEXT", *sasl_args("admin", mech))
                self.check_all_ok(res, "User:admin", mech, tls=False)
                self.assertFalse(any(b["restricted"] for b in res["brokers"]))

    def test_sasl_ssl_with_hostname_verification(self):
        for mech in ("PLAIN", "SCRAM-SHA-512"):
            with self.subTest(mechanism=mech):
                res, _, _ = probe("--bootstrap", "127.0.0.1:%d" % port(1, "SASL_SSL"), "--protocol", "SASL_SSL",
                                  "--ca", cert("ca.pem"), *sasl_args("admin", mech))
                self.check_all_ok(res, "User:admin", mech, tls=True)

    def test_ssl_with_hostname_verification_passes_for_the_right_name(self):
        res, _, _ = probe("--bootstrap", "127.0.0.1:%d" % port(1, "SSL"), "--protocol", "SSL",
                          "--ca", cert("ca.pem"))
        self.check_all_ok(res, "User:ANONYMOUS", None, tls=True)

    def test_ssl_certificate_for_another_name_fails_verification(self):
        p = port(9, "SSL")
        res, _, _ = probe("--broker", "9@127.0.0.1:%d" % p, "--protocol", "SSL", "--ca", cert("ca.pem"))
        b = res["brokers"][0]
        self.assertEqual(b["status"], "error")
        self.assertTrue(b["error"].startswith(
            "broker 9 (127.0.0.1:%d): TLS certificate verification failed: IP address mismatch" % p), b["error"])
        self.assertIn("CN=wrong.example", b["error"])
        # The same certificate is fine once hostname verification is off:
        # the chain is still checked.
        res, _, _ = probe("--broker", "9@127.0.0.1:%d" % p, "--protocol", "SSL", "--ca", cert("ca.pem"),
                          "--no-hostname-verification", "--api-key", 1001)
        self.assertEqual(res["brokers"][0]["status"], "ok", res["brokers"][0]["error"])

    def test_ssl_untrusted_ca_fails_verification(self):
        p = port(1, "SSL")
        res, _, _ = probe("--broker", "1@127.0.0.1:%d" % p, "--protocol", "SSL", "--ca", cert("untrusted-ca.pem"))
        b = res["brokers"][0]
        self.assertEqual(b["status"], "error")
        self.assertTrue(b["error"].startswith(
            "broker 1 (127.0.0.1:%d): TLS certificate verification failed: " % p), b["error"])

    def test_mtls_client_certificate_is_presented(self):
        res, _, _ = probe("--bootstrap", "127.0.0.1:%d" % port(2, "SSL"), "--protocol", "SSL",
                          "--ca", cert("ca.pem"), "--cert", cert("client-alice.pem"))
        subject = "CN=alice,OU=Payments,O=Example Corp,C=US"
        for b in res["brokers"]:
            self.assertEqual(b["status"], "ok", b["error"])
            # alice is no super user: she sees her own connections only.
            self.assertTrue(b["restricted"])
            own = own_rows(b)
            self.assertEqual(len(own), 1, b["connections"])
            self.assertEqual(own[0]["peer_certificate_subject"], subject)
            self.assertEqual(own[0]["principal"], "User:" + subject)
            self.assertEqual(own[0]["sasl_mechanism"], "MTLS")

    def test_mtls_with_separate_encrypted_key(self):
        res, _, _ = probe("--broker", "1@127.0.0.1:%d" % port(1, "SSL"), "--protocol", "SSL",
                          "--ca", cert("ca.pem"), "--cert", cert("broker.crt"),
                          "--key", cert("broker-encrypted.key"), "--key-password", "test-key-password")
        self.assertEqual(res["brokers"][0]["status"], "ok", res["brokers"][0]["error"])
        res, _, _ = probe("--broker", "1@127.0.0.1:%d" % port(1, "SSL"), "--protocol", "SSL",
                          "--ca", cert("ca.pem"), "--cert", cert("broker.crt"),
                          "--key", cert("broker-encrypted.key"), "--key-password", "Bad-Key-Pass-3")
        b = res["brokers"][0]
        self.assertEqual(b["status"], "error")
        self.assertTrue(b["error"].startswith("broker 1 (127.0.0.1:%d): cannot load client key " % port(1, "SSL")),
                        b["error"])
        self.assertNotIn("Bad-Key-Pass-3", b["error"])

    def test_wrong_password_is_unauthorized_with_the_brokers_message(self):
        for mech in ("PLAIN", "SCRAM-SHA-256"):
            with self.subTest(mechanism=mech):
                p = port(2, "SASL_PLAINTEXT")
                res, err, _ = probe("--broker", "2@127.0.0.1:%d" % p, "--protocol", "SASL_PLAINTEXT",
                                    *sasl_args("admin", mech, "Wrong-Password-1"))
                b = res["brokers"][0]
                self.assertEqual(b["status"], "unauthorized")
                self.assertEqual(b["error"], "broker 2 (127.0.0.1:%d): SASL authentication failed: "
                                             "Authentication failed: invalid credentials" % p)
                self.assertNotIn("Wrong-Password-1", json.dumps(res) + err)

    def test_unknown_mechanism_on_the_broker_is_unauthorized(self):
        p = port(2, "SASL_PLAINTEXT")
        res, _, _ = probe("--broker", "2@127.0.0.1:%d" % p, "--protocol", "SASL_PLAINTEXT",
                          *sasl_args("admin", "SCRAM-SHA-1"))
        b = res["brokers"][0]
        self.assertEqual(b["status"], "unauthorized")
        self.assertEqual(b["error"], "broker 2 (127.0.0.1:%d): SASL mechanism SCRAM-SHA-1 is not enabled on "
                                     "the broker (it offers PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)" % p)

    def test_ssl_verifies_a_dns_name(self):
        # "localhost" is checked as a DNS name (and sent as SNI); the
        # certificate names it.
        res, _, _ = probe("--broker", "1@localhost:%d" % port(1, "SSL"), "--protocol", "SSL", "--ca", cert("ca.pem"))
        self.assertEqual(res["brokers"][0]["status"], "ok", res["brokers"][0]["error"])
        p = port(9, "SSL")
        res, _, _ = probe("--broker", "9@localhost:%d" % p, "--protocol", "SSL", "--ca", cert("ca.pem"))
        self.assertTrue(res["brokers"][0]["error"].startswith(
            "broker 9 (localhost:%d): TLS certificate verification failed: hostname mismatch" % p),
            res["brokers"][0]["error"])

    def test_sni_names_the_host_but_never_an_address(self):
        rec = TlsRecorder()
        for host in ("localhost", "127.0.0.1"):
            probe("--broker", "1@%s:%d" % (host, rec.port), "--protocol", "SSL", "--ca", cert("ca.pem"),
                  "--timeout", 3000)
        self.assertEqual(rec.names, ["localhost", None])

    def test_scram_server_signature_is_verified(self):
        good = ScramBroker("good", "scram-Pass-5")
        res, _, _ = probe("--broker", "8@127.0.0.1:%d" % good.port, "--protocol", "SASL_PLAINTEXT",
                          "--mechanism", "SCRAM-SHA-256", "--user", "bob", "--password", "scram-Pass-5",
                          "--timeout", 5000)
        self.assertEqual(res["brokers"][0]["status"], "ok", res["brokers"][0]["error"])
        self.assertTrue(good.proof_ok)
        # No authorization id: Kafka takes the username as the principal.
        self.assertTrue(good.client_first.startswith("n,,n=bob,r="), good.client_first)
        forged = ScramBroker("forged", "scram-Pass-5")
        res, _, _ = probe("--broker", "8@127.0.0.1:%d" % forged.port, "--protocol", "SASL_PLAINTEXT",
                          "--mechanism", "SCRAM-SHA-256", "--user", "bob", "--password", "scram-Pass-5",
                          "--timeout", 5000)
        b = res["brokers"][0]
        self.assertEqual(b["status"], "unauthorized")
        self.assertTrue(b["error"].startswith(
            "broker 8 (127.0.0.1:%d): SASL authentication failed: the broker's SCRAM-SHA-256 answer did not "
            "verify: " % forged.port), b["error"])

    def test_unprivileged_principal_gets_a_restricted_view(self):
        res, _, _ = probe("--bootstrap", "127.0.0.1:%d" % port(1, "SASL_PLAINTEXT"), "--protocol",
                          "SASL_PLAINTEXT", *sasl_args("alice", "SCRAM-SHA-256"))
        for b in res["brokers"]:
            self.assertEqual(b["status"], "ok", b["error"])
            self.assertTrue(b["restricted"])
            self.assertTrue(b["connections"])
            self.assertEqual({c["principal"] for c in b["connections"]}, {"User:alice"})


class Failures(unittest.TestCase):
    def test_stopped_broker_is_unreachable_and_the_others_still_answer(self):
        node7 = STATE["node7"]
        p7 = node7.ports[0]
        res, _, _ = probe("--broker", "7@127.0.0.1:%d" % p7)
        self.assertEqual(res["brokers"][0]["status"], "ok")
        node7.stop()
        res, _, wall = probe("--broker", "7@127.0.0.1:%d" % p7, "--broker", "1@127.0.0.1:%d" % port(1, "PLAINTEXT"),
                             "--timeout", 10000)
        dead, alive = res["brokers"]
        self.assertEqual(dead["status"], "unreachable")
        self.assertEqual(dead["error"], "broker 7 (127.0.0.1:%d): connection refused" % p7)
        self.assertEqual(alive["status"], "ok", alive["error"])
        self.assertEqual(res["failed"], 1)
        self.assertLess(wall, 5, "a refused connection must not wait for the timeout")

    def test_silent_broker_times_out_naming_the_phase(self):
        silent = Server(None, accept=False)  # the kernel completes the handshake, nobody answers
        for protocol, phase in (("PLAINTEXT", "ApiVersions"), ("SSL", "TLS handshake")):
            with self.subTest(protocol=protocol):
                res, _, wall = probe("--broker", "5@127.0.0.1:%d" % silent.port, "--protocol", protocol,
                                     "--ca", cert("ca.pem"), "--timeout", 800)
                b = res["brokers"][0]
                self.assertEqual(b["status"], "unreachable")
                self.assertEqual(b["error"], "broker 5 (127.0.0.1:%d): timed out after 800 ms during %s"
                                 % (silent.port, phase))
                self.assertGreaterEqual(b["elapsed_ms"], 800)
                self.assertLess(wall, 5)

    def test_unanswered_connect_times_out_naming_the_connect(self):
        # A listener whose accept queue is full drops new SYNs (Linux):
        # the connect never completes, though the first requests are queued.
        full = socket.socket()
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        fillers = []
        try:
            for _ in range(2):
                f = socket.socket()
                f.settimeout(0.3)
                try:
                    f.connect(full.getsockname())
                except OSError:
                    pass
                fillers.append(f)
            res, _, wall = probe("--broker", "5@127.0.0.1:%d" % full.getsockname()[1], "--timeout", 800)
        finally:
            for f in fillers:
                f.close()
            full.close()
        b = res["brokers"][0]
        self.assertEqual(b["status"], "unreachable")
        self.assertRegex(b["error"], r"^broker 5 \(127\.0\.0\.1:\d+\): timed out after 800 ms during connect$")
        self.assertLess(wall, 5)

    def test_ipv6_broker(self):
        try:
            (p,) = free_ports_v6(1)
        except OSError:
            self.skipTest("no IPv6 loopback")
        b = Broker(STATE["work"], "v6", {"node.id": 11, "listeners": "PLAINTEXT://[::1]:%d" % p,
                                         "super.users": "User:ANONYMOUS"}, [])
        STATE["brokers"].append(b)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                res, _, _ = probe("--bootstrap", "[::1]:%d" % p, "--timeout", 5000, expect_exit=None)
                if "brokers" in res:
                    break
                time.sleep(0.1)
            self.assertEqual([(x["node_id"], x["host"], x["port"]) for x in res["brokers"]], [(11, "::1", p)])
            self.assertEqual(res["brokers"][0]["status"], "ok", res["brokers"][0]["error"])
        finally:
            b.stop()
        res, _, _ = probe("--broker", "11@[::1]:%d" % p)
        self.assertEqual(res["brokers"][0]["error"], "broker 11 ([::1]:%d): connection refused" % p)

    def test_unknown_host_is_unreachable(self):
        res, _, _ = probe("--broker", "4@no-such-host.invalid:9092")
        b = res["brokers"][0]
        self.assertEqual(b["status"], "unreachable")
        self.assertTrue(b["error"].startswith("broker 4 (no-such-host.invalid:9092): cannot resolve"), b["error"])

    def test_describe_connections_not_advertised_is_unsupported(self):
        p = port(9, "PLAINTEXT")
        res, _, _ = probe("--broker", "9@127.0.0.1:%d" % p)
        b = res["brokers"][0]
        self.assertEqual(b["status"], "unsupported")
        self.assertTrue(b["error"].startswith(
            "broker 9 (127.0.0.1:%d): DescribeConnections (API key 1000) is not advertised" % p), b["error"])
        res, _, _ = probe("--broker", "9@127.0.0.1:%d" % p, "--api-key", 1001)
        self.assertEqual(res["brokers"][0]["status"], "ok", res["brokers"][0]["error"])

    def test_old_api_versions_falls_back_then_reports_unsupported(self):
        old = OldBroker("nokey")
        res, _, _ = probe("--broker", "6@127.0.0.1:%d" % old.port, "--timeout", 5000)
        b = res["brokers"][0]
        self.assertEqual(old.seen, [(18, 3), (18, 2)])
        self.assertEqual(b["status"], "unsupported")
        self.assertIn("DescribeConnections (API key 1000) is not advertised", b["error"])

    def test_describe_connections_errors_carry_the_brokers_message(self):
        for mode, status, text in (("deny", "unauthorized", "CLUSTER_AUTHORIZATION_FAILED: no DESCRIBE on CLUSTER"),
                                   ("invalid", "error", "INVALID_REQUEST: Principals: bad entry")):
            with self.subTest(mode=mode):
                old = OldBroker(mode)
                res, _, _ = probe("--broker", "6@127.0.0.1:%d" % old.port, "--timeout", 5000)
                b = res["brokers"][0]
                self.assertEqual(b["status"], status)
                self.assertEqual(b["error"], "broker 6 (127.0.0.1:%d): DescribeConnections failed: %s"
                                 % (old.port, text))
                self.assertEqual(old.seen, [(18, 3), (18, 2), (1000, 0)])

    def test_rows_read_their_strings_by_index(self):
        old = OldBroker("index-0")
        res, _, _ = probe("--broker", "6@127.0.0.1:%d" % old.port, "--timeout", 5000)
        b = res["brokers"][0]
        self.assertEqual(b["status"], "ok", b["error"])
        self.assertEqual([(c["principal"], c["listener"], c["sasl_mechanism"], c["client_id"])
                          for c in b["connections"]], [("User:alice", "User:alice", None, None)])

    def test_an_index_outside_strings_is_a_malformed_response(self):
        old = OldBroker("index-5")
        res, _, _ = probe("--broker", "6@127.0.0.1:%d" % old.port, "--timeout", 5000)
        b = res["brokers"][0]
        self.assertEqual(b["status"], "error")
        self.assertEqual(b["error"], "broker 6 (127.0.0.1:%d): DescribeConnections: malformed response: "
                         "Connections[0].PrincipalIndex: 5 is not an index of Strings (1 entries)" % old.port)
        self.assertEqual(b["connections"], [])

    def test_real_broker_rejects_a_bad_filter_with_its_message(self):
        p = port(1, "PLAINTEXT")
        res, _, _ = probe("--broker", "1@127.0.0.1:%d" % p, "--limit", -1)
        b = res["brokers"][0]
        self.assertEqual(b["status"], "error")
        self.assertTrue(b["error"].startswith(
            "broker 1 (127.0.0.1:%d): DescribeConnections failed: INVALID_REQUEST: Limit" % p), b["error"])


class Paging(unittest.TestCase):
    def test_every_page_is_collected(self):
        p = port(3, "PLAINTEXT")
        idle = []
        try:
            for _ in range(30):
                idle.append(socket.create_connection(("127.0.0.1", p), timeout=5))
            # The broker registers connections as it accepts them.
            deadline = time.monotonic() + 10
            while True:
                whole, _, _ = probe("--broker", "3@127.0.0.1:%d" % p, "--limit", 1000)
                if whole["brokers"][0]["total_count"] >= 31 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            paged, _, _ = probe("--broker", "3@127.0.0.1:%d" % p, "--limit", 4)
        finally:
            for s in idle:
                s.close()
        w, b = whole["brokers"][0], paged["brokers"][0]
        self.assertEqual(b["status"], "ok", b["error"])
        ids = [c["connection_id"] for c in b["connections"]]
        self.assertEqual(len(ids), len(set(ids)), "a connection came twice")
        self.assertEqual(len(ids), b["total_count"])
        self.assertGreaterEqual(len(ids), 31)
        self.assertGreaterEqual(b["pages"], (len(ids) + 3) // 4)
        self.assertEqual(w["pages"], 1)
        # Both listings saw the same connections, apart from each probe's own.
        others = lambda r: {c["connection_id"] for c in r["connections"]
                            if c["client_software_name"] != "kafka-connections"}
        self.assertEqual(others(w), others(b))
        self.assertGreaterEqual(len(others(b)), 30)

    def test_max_rows_stops_paging(self):
        p = port(3, "PLAINTEXT")
        idle = [socket.create_connection(("127.0.0.1", p), timeout=5) for _ in range(8)]
        try:
            res, _, _ = probe("--broker", "3@127.0.0.1:%d" % p, "--limit", 3, "--max-rows", 5)
        finally:
            for s in idle:
                s.close()
        b = res["brokers"][0]
        self.assertEqual(b["status"], "ok", b["error"])
        self.assertEqual(len(b["connections"]), 5)
        self.assertEqual(b["pages"], 2)

    def test_summary_mode_returns_counts(self):
        res, _, _ = probe("--bootstrap", "127.0.0.1:%d" % port(1, "PLAINTEXT"), "--summary")
        for b in res["brokers"]:
            self.assertEqual(b["status"], "ok", b["error"])
            self.assertEqual(b["connections"], [])
            self.assertEqual(b["pages"], 1)
            anon = [s for s in b["summaries"] if s["principal"] == "User:ANONYMOUS"]
            self.assertTrue(anon and anon[0]["connections"] >= 1, b["summaries"])


def log_events(node, event):
    with open(os.path.join(STATE["work"], "b%d.log" % node)) as f:
        return sum(1 for line in f if " event=%s " % event in line + " ")


class Pipelining(unittest.TestCase):
    """The first DescribeConnections page sent behind ApiVersions when the
    scout has seen the cluster serve it, and the ways back to waiting."""

    def test_the_page_goes_out_unasked_only_when_told(self):
        for version, ahead in ((0, True), (-1, False)):
            with self.subTest(pipeline_version=version):
                fake = PipelineBroker()
                res, _, _ = probe("--broker", "6@127.0.0.1:%d" % fake.port, "--pipeline-version", version,
                                  "--timeout", 5000)
                b = res["brokers"][0]
                self.assertEqual(b["status"], "ok", b["error"])
                self.assertEqual(b["describe_version"], 0)
                self.assertEqual([(s["requests"], s["ahead"]) for s in fake.conns], [([(18, 3), (1000, 0)], ahead)])

    def test_a_broker_without_that_version_is_asked_again_waiting(self):
        fake = PipelineBroker(dc_range=(1, 1))
        res, _, _ = probe("--broker", "6@127.0.0.1:%d" % fake.port, "--pipeline-version", 0, "--timeout", 5000)
        b = res["brokers"][0]
        # The second connection waits for ApiVersions and sends nothing the
        # broker does not serve.
        self.assertEqual([s["requests"] for s in fake.conns], [[(18, 3), (1000, 0)], [(18, 3)]])
        self.assertEqual(b["status"], "unsupported")
        self.assertIn("serves DescribeConnections (API key 1000) versions 1-1, this client speaks 0-0", b["error"])

    def test_a_broker_that_hangs_up_is_asked_again_once(self):
        fake = PipelineBroker(hangup=True)
        res, _, _ = probe("--broker", "6@127.0.0.1:%d" % fake.port, "--pipeline-version", 0, "--timeout", 5000)
        b = res["brokers"][0]
        self.assertEqual(len(fake.conns), 2)
        self.assertEqual(b["status"], "error")
        self.assertRegex(b["error"], r"during ApiVersions$")

    def test_a_broker_without_the_api_in_a_pipelined_fan_out(self):
        # Node 9 serves DescribeConnections under key 1001: it does not
        # advertise 1000 and closes on the page sent behind (logging it).
        before = log_events(9, "unknown_api_key")
        res, _, _ = probe("--broker", "1@127.0.0.1:%d" % port(1, "PLAINTEXT"),
                          "--broker", "9@127.0.0.1:%d" % port(9, "PLAINTEXT"), "--pipeline-version", 0)
        one, nine = res["brokers"]
        self.assertEqual(one["status"], "ok", one["error"])
        self.assertEqual(nine["status"], "unsupported")
        self.assertIn("DescribeConnections (API key 1000) is not advertised", nine["error"])
        deadline = time.monotonic() + 5
        while log_events(9, "unknown_api_key") == before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(log_events(9, "unknown_api_key"), before + 1)

    def bootstrap(self):
        return ",".join("127.0.0.1:%d" % port(n, "PLAINTEXT") for n in (1, 2, 3))

    def test_the_scout_learns_the_version_from_a_real_broker(self):
        res, _, _ = probe("--bootstrap", self.bootstrap(), "--scout")
        self.assertEqual(res["pipeline_version"], 0)
        self.assertFalse(res["scout_tls"])
        self.assertEqual([(b["node_id"], b["status"], b["describe_version"]) for b in res["brokers"]],
                         [(1, "ok", 0), (2, "ok", 0), (3, "ok", 0)])

    def test_the_scout_sends_nothing_blind_to_a_cluster_without_the_api(self):
        before = [log_events(n, "unknown_api_key") for n in (1, 2, 3)]
        res, _, _ = probe("--bootstrap", self.bootstrap(), "--scout", "--api-key", 1001)
        self.assertEqual(res["pipeline_version"], -1)
        self.assertEqual({b["status"] for b in res["brokers"]}, {"unsupported"})
        time.sleep(0.2)
        self.assertEqual([log_events(n, "unknown_api_key") for n in (1, 2, 3)], before)

    def test_no_scout_with_sasl(self):
        res, _, _ = probe("--bootstrap", "127.0.0.1:%d" % port(1, "SASL_PLAINTEXT"), "--scout",
                          "--protocol", "SASL_PLAINTEXT", *sasl_args("admin", "PLAIN"))
        self.assertEqual(res["pipeline_version"], -1)
        self.assertEqual({b["status"] for b in res["brokers"]}, {"ok"})

    def test_with_sasl_over_tls_the_scout_only_builds_the_tls_context(self):
        # SASL must come first, so no ApiVersions ahead of the fan-out: the
        # only TLS sessions on node 1 are librdkafka's and the fan-out's.
        before = log_events(1, "tls_established")
        res, _, _ = probe("--bootstrap", "localhost:%d" % port(1, "SASL_SSL"), "--scout", "--protocol",
                          "SASL_SSL", "--ca", cert("ca.pem"), *sasl_args("admin", "SCRAM-SHA-512"))
        self.assertEqual(res["pipeline_version"], -1)
        self.assertTrue(res["scout_tls"])
        self.assertEqual({b["status"] for b in res["brokers"]}, {"ok"})
        self.assertEqual(log_events(1, "tls_established") - before, 2)

    def test_a_scout_stopped_while_loading_its_ca_bundle_sends_nothing_blind(self):
        # The system's CA bundle takes OpenSSL longer to load than the
        # bootstrap takes, so the scout is usually stopped before its
        # ApiVersions: that must not read as "served".
        bundle = os.path.join(STATE["work"], "bundle.pem")
        with open(bundle, "w") as out:
            for path in ("/etc/ssl/certs/ca-certificates.crt", cert("ca.pem")):  # ca-certificates
                with open(path) as f:
                    out.write(f.read())
        before = [log_events(n, "unknown_api_key") for n in (1, 2, 3)]
        res, _, _ = probe("--bootstrap", "localhost:%d" % port(1, "SSL"), "--scout", "--protocol", "SSL",
                          "--ca", bundle, "--api-key", 1001)
        self.assertEqual(res["pipeline_version"], -1)
        self.assertTrue(res["scout_tls"])
        self.assertEqual({b["status"] for b in res["brokers"]}, {"unsupported"})
        time.sleep(0.2)
        self.assertEqual([log_events(n, "unknown_api_key") for n in (1, 2, 3)], before)

    def test_the_scout_through_tls(self):
        # The scout races the bootstrap and is stopped if it loses (the
        # fan-out then waits for each ApiVersions answer): on a busy
        # machine one run may lose, so it gets a few tries to show that
        # it learns the version through TLS. Every run must answer alike.
        for attempt in range(5):
            res, _, _ = probe("--bootstrap", "localhost:%d" % port(1, "SSL"), "--scout", "--protocol",
                              "SSL", "--ca", cert("ca.pem"))
            self.assertTrue(res["scout_tls"])
            self.assertEqual({(b["status"], b["describe_version"]) for b in res["brokers"]},
                             {("ok", 0)})
            self.assertIn(res["pipeline_version"], (0, -1))
            if res["pipeline_version"] == 0:
                break
        self.assertEqual(res["pipeline_version"], 0, "the scout lost the race %d times" % (attempt + 1))


class Parallel(unittest.TestCase):
    DELAY = 0.6

    def test_three_slow_brokers_take_the_time_of_one(self):
        proxies = [DelayProxy(port(n, "PLAINTEXT"), self.DELAY) for n in (1, 2, 3)]
        args = []
        for n, px in zip((1, 2, 3), proxies):
            args += ["--broker", "%d@127.0.0.1:%d" % (n, px.port)]
        res, _, _ = probe(*args, "--timeout", 10000)
        for b in res["brokers"]:
            self.assertEqual(b["status"], "ok", b["error"])
            self.assertGreaterEqual(b["elapsed_ms"], self.DELAY * 1000)
        slowest = max(b["elapsed_ms"] for b in res["brokers"])
        total = sum(b["elapsed_ms"] for b in res["brokers"])
        print("\nparallel: fan-out %d ms, slowest broker %d ms, sum %d ms"
              % (res["fanout_ms"], slowest, total), file=sys.stderr)
        self.assertLess(res["fanout_ms"], slowest * 1.3 + 100)
        # One at a time, the same brokers take the sum: the bound holds.
        res1, _, _ = probe(*args, "--timeout", 10000, "--parallelism", 1)
        self.assertGreaterEqual(res1["fanout_ms"], 3 * self.DELAY * 1000)
        print("parallelism 1: fan-out %d ms" % res1["fanout_ms"], file=sys.stderr)


if __name__ == "__main__":
    PROBE, BROKER = sys.argv[1], sys.argv[2]
    # meson's timeout sends SIGTERM: stop the brokers on the way out.
    signal.signal(signal.SIGTERM, lambda *_: (tearDownModule(), os._exit(1)))
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
