#!/usr/bin/python3
"""Checks golden vectors with Wireshark's Kafka dissector, written
independently of our codec.

Builds a capture file by hand (pcap, IPv4, TCP on 127.0.0.1, client port
50000 to broker port 9092) holding framed requests and answers whose bodies
are the golden vectors, runs `tshark -V` on it and checks that the dissector
reads the fields we meant and reports nothing malformed or in error.
Metadata v12 goes in a capture of its own: Wireshark 4.0 knows Metadata
v0-9 only, so there the fields laid out as in v9 are checked and only the
complaints that v9's layout explains are accepted.

Usage: /usr/bin/python3 check_tshark.py VECTORS_DIR TSHARK
Exits 77 (skipped) when TSHARK is empty.
"""

import os
import re
import struct
import subprocess
import sys
import tempfile
from collections import Counter

# Run from the source tree: leave no __pycache__ behind in it.
sys.dont_write_bytecode = True
from golden_hex import Checks, load

CLIENT = ("127.0.0.1", 50000)
BROKER = ("127.0.0.1", 9092)
CLIENT_ID = b"kafka-connections"

LINKTYPE_RAW = 101  # packets start at the IPv4 header
TCP_SYN, TCP_ACK, TCP_PSH = 0x02, 0x10, 0x08


# ---- Kafka framing (protocol guide; KIP-482 for header v2 and v1) ----------

def request_header(api_key, api_version, correlation_id, flexible):
    # ClientId keeps its int16 length in header v2 too; v2 only adds the
    # (empty) tagged-field section.
    h = struct.pack(">hhih", api_key, api_version, correlation_id, len(CLIENT_ID)) + CLIENT_ID
    return h + (b"\x00" if flexible else b"")


def response_header(correlation_id, flexible):
    return struct.pack(">i", correlation_id) + (b"\x00" if flexible else b"")


def frame(header, body):
    return struct.pack(">i", len(header) + len(body)) + header + body


# ---- IPv4 / TCP / pcap -----------------------------------------------------

def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip_bytes(addr):
    return bytes(int(x) for x in addr.split("."))


def tcp_packet(src, dst, seq, ack, flags, payload, ident):
    src_ip, dst_ip = ip_bytes(src[0]), ip_bytes(dst[0])
    tcp = struct.pack(">HHIIBBHHH", src[1], dst[1], seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = src_ip + dst_ip + struct.pack(">BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack(">H", checksum(pseudo + tcp + payload)) + tcp[18:]
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident, 0x4000, 64, 6, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack(">H", checksum(ip)) + ip[12:]
    return ip + tcp + payload


class Conversation:
    """One TCP connection from CLIENT to BROKER, as a list of raw packets."""

    def __init__(self):
        self.packets = []
        self.seq = {CLIENT: 1000, BROKER: 5000}
        self.send(CLIENT, TCP_SYN, b"")
        self.send(BROKER, TCP_SYN | TCP_ACK, b"")
        self.send(CLIENT, TCP_ACK, b"")

    def send(self, src, flags, payload):
        dst = BROKER if src == CLIENT else CLIENT
        ack = self.seq[dst] if flags & TCP_ACK else 0
        self.packets.append(tcp_packet(src, dst, self.seq[src], ack, flags, payload,
                                       len(self.packets) + 1))
        # SYN takes one sequence number, like a byte of data.
        self.seq[src] += len(payload) + (1 if flags & TCP_SYN else 0)

    def exchange(self, request, response):
        self.send(CLIENT, TCP_PSH | TCP_ACK, request)
        self.send(BROKER, TCP_PSH | TCP_ACK, response)


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        for i, p in enumerate(packets):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(p), len(p)) + p)


# ---- The exchanges ---------------------------------------------------------

# (api key, version, request vector, response vector, flexible request,
#  flexible response header). ApiVersions answers keep header v0 (KIP-511).
EXCHANGES = [
    (18, 0, "api_versions_v0_request.hex", "api_versions_v0_response.hex", False, False),
    (18, 3, "api_versions_v3_request.hex", "api_versions_v3_response.hex", True, False),
    (3, 1, "metadata_v1_request.hex", "metadata_v1_response.hex", False, False),
    (3, 1, "metadata_v1_request.hex", "metadata_v1_response_topic.hex", False, False),
    (17, 0, "sasl_handshake_v0_request.hex", "sasl_handshake_v0_response.hex", False, False),
    (17, 1, "sasl_handshake_v1_request.hex", "sasl_handshake_v1_response.hex", False, False),
]

# Kept apart: Wireshark 4.0 knows Metadata v0-9 only and reads v12 as v9.
METADATA_V12 = [
    (3, 12, "metadata_v12_request.hex", "metadata_v12_response.hex", True, True),
]


def build_capture(vectors, exchanges, path):
    conv = Conversation()
    for correlation_id, (key, version, req, resp, flex_req, flex_resp) in enumerate(exchanges, 1):
        conv.exchange(
            frame(request_header(key, version, correlation_id, flex_req), load(vectors, req)),
            frame(response_header(correlation_id, flex_resp), load(vectors, resp)))
    write_pcap(path, conv.packets)
    return len(conv.packets)


def run_tshark(tshark, pcap, home):
    # A private HOME keeps a developer's Wireshark preferences out of the run.
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home)
    out = subprocess.run([tshark, "-n", "-r", pcap, "-d", "tcp.port==9092,kafka", "-V"],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    if out.returncode != 0:
        raise RuntimeError("tshark exited %d: %s" % (out.returncode, out.stderr.strip()))
    return out.stdout


def dissect(vectors, tshark, exchanges):
    """Returns tshark's -V text for a capture of the exchanges."""
    with tempfile.TemporaryDirectory(prefix="golden-tshark-") as tmp:
        pcap = os.path.join(tmp, "golden.pcap")
        build_capture(vectors, exchanges, pcap)
        return run_tshark(tshark, pcap, tmp)


# ---- What the dissector must show -------------------------------------------

def expect_lines(text, patterns, count=1):
    for p in patterns:
        found = len(re.findall(p, text, re.MULTILINE))
        if found != count:
            raise AssertionError("expected %d lines matching %r, found %d" % (count, p, found))


def problems(text):
    return [l.strip() for l in text.splitlines() if "Malformed" in l or "Expert Info (Error" in l]


def no_errors(text):
    bad = problems(text)
    if bad:
        raise AssertionError("dissector reported: %s" % "; ".join(bad[:5]))


API_NAMES = {3: "Metadata", 17: "SaslHandshake", 18: "ApiVersions"}


def every_exchange_decoded(text):
    want = Counter()
    for key, version, *_ in EXCHANGES:
        for kind in ("Request", "Response"):
            want[(API_NAMES[key], str(version), kind)] += 1
    got = Counter(re.findall(r"^Kafka \((\w+) v(\d+) (Request|Response)\)$", text, re.MULTILINE))
    if got != want:
        raise AssertionError("Kafka PDUs: got %s, want %s"
                             % (sorted(got.items()), sorted(want.items())))
    for i in range(1, len(EXCHANGES) + 1):
        # Once in the request, once in the answer matched to it.
        expect_lines(text, [r"^\s*Correlation ID: %d$" % i], count=2)


def api_versions(text):
    expect_lines(text, [r"^\s*Client Software Name: kafka-connections$",
                        r"^\s*Client Software Version: 0\.1\.0$",
                        r"^\s*Throttle time: 100$"])
    # Both the v0 and the v3 answer list the same five APIs.
    expect_lines(text, [r"^\s*API Version Metadata \(v0-12\)",
                        r"^\s*API Version SaslHandshake \(v0-1\)",
                        r"^\s*API Version ApiVersions \(v0-4\)",
                        r"^\s*API Version SaslAuthenticate \(v0-2\)",
                        r"^\s*API Version Unknown 1000 \(v0\)"], count=2)


def brokers_v1(text):
    # Nodes 1 and 2 are in both v1 answers; three racks are null.
    expect_lines(text, [r"^\s*Broker \(node 1: 127\.0\.0\.1:9092\)$",
                        r"^\s*Broker \(node 2: 127\.0\.0\.1:9093\)$"], count=2)
    expect_lines(text, [r"^\s*Rack: \[ Null \]$"], count=3)
    expect_lines(text, [r"^\s*Broker \(node 3: 127\.0\.0\.1:9094\)$",
                        r"^\s*Rack: rack-a$", r"^\s*Rack: rack-b$",
                        r"^\s*Controller ID: 2$", r"^\s*Controller ID: 1$"])


def topic_v1(text):
    expect_lines(text, [r"^\s*Topic \(orders\)$", r"^\s*Is Internal: False$",
                        r"^\s*Partition \(ID=0\)$", r"^\s*Leader ID: 1$",
                        r"^\s*Replica ID: 2$", r"^\s*Caught-Up Replica ID: 1$"])
    # Both v1 requests name the topic.
    expect_lines(text, [r"^\s*Topic Name: orders$"], count=3)


def sasl_handshake(text):
    expect_lines(text, [r"^\s*SASL Mechanism: SCRAM-SHA-512$",
                        r"^\s*Error: Unsupported SASL mechanism \(33\)$"])
    # PLAIN: the v0 request and both answers; SCRAM-SHA-256: both answers.
    expect_lines(text, [r"^\s*SASL Mechanism: PLAIN$"], count=3)
    expect_lines(text, [r"^\s*SASL Mechanism: SCRAM-SHA-256$"], count=2)


def metadata_v12(text):
    """The v12 answer's brokers, cluster id and controller id are laid out as
    in v9, so even a dissector that stops at v9 must read them right."""
    expect_lines(text, [r"^Kafka \(Metadata v12 Request\)$",
                        r"^Kafka \(Metadata v12 Response\)$",
                        r"^\s*Broker \(node 1: 127\.0\.0\.1:9092\)$",
                        r"^\s*Broker \(node 2: 127\.0\.0\.1:9093\)$",
                        r"^\s*Broker \(node 3: 127\.0\.0\.1:9094\)$",
                        r"^\s*Rack: rack-a$", r"^\s*Rack: \[ Null \]$", r"^\s*Rack: rack-b$",
                        r"^\s*Cluster ID: MkU3OEVBNTcwNTJENDM2Qk$",
                        r"^\s*Controller ID: 2$"])
    if "Supports v0-9." not in text:
        no_errors(text)
        return
    # Read as v9, the request's TopicId is taken for topic fields, leaving
    # bytes over; the answer ends where v9 still has ClusterAuthorizedOperations
    # (dropped in v11 by KIP-700). Those two complaints, and nothing else.
    frames = re.split(r"^Frame \d+:", text, flags=re.MULTILINE)
    request = [f for f in frames if "Kafka (Metadata v12 Request)" in f]
    response = [f for f in frames if "Kafka (Metadata v12 Response)" in f]
    if len(request) != 1 or len(response) != 1:
        raise AssertionError("expected one v12 request and one answer frame")
    leftover = "Dissected message does not end at the pdu length offset"
    if any(leftover not in l and "Group: Malformed" not in l for l in problems(request[0])):
        raise AssertionError("v12 request: %s" % problems(request[0]))
    tail = response[0].split("Topic Metadata", 1)
    if len(tail) != 2 or problems(tail[0]) or "Malformed Packet: Kafka" not in tail[1]:
        raise AssertionError("v12 answer: %s" % problems(response[0]))
    others = [f for f in frames if f is not request[0] and f is not response[0]]
    for f in others:
        no_errors(f)


def main():
    if len(sys.argv) != 3:
        print("usage: %s VECTORS_DIR TSHARK" % sys.argv[0], file=sys.stderr)
        return 2
    vectors, tshark = sys.argv[1], sys.argv[2]
    if not tshark:
        print("check_tshark: tshark is not installed, skipping")
        return 77
    text = dissect(vectors, tshark, EXCHANGES)
    v12 = dissect(vectors, tshark, METADATA_V12)

    c = Checks("check_tshark")
    c.run("no malformed packet or error", no_errors, text)
    c.run("every exchange decoded as Kafka", every_exchange_decoded, text)
    c.run("ApiVersions v0 and v3: software name, api keys", api_versions, text)
    c.run("Metadata v1 brokers and controller", brokers_v1, text)
    c.run("Metadata v1 topic and partition", topic_v1, text)
    c.run("SaslHandshake v0 and v1", sasl_handshake, text)
    c.run("Metadata v12 brokers, cluster id, controller", metadata_v12, v12)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
