#!/usr/bin/python3
"""A DescribeConnections client written independently of our C codec.

It encodes the request and decodes the answer from the spec alone
(protocol/messages/DescribeConnections*.json, docs/describe-connections.md)
so that the integration tests check the broker with a second decoder of
the RPC. It speaks Kafka's framing itself: request header v1/v2, KIP-482
compact types and tagged fields, ApiVersions v3, and authentication over
TLS (ssl module, optional client certificate) and SASL PLAIN or
SCRAM-SHA-256/512 (RFC 5802, client side) through SaslHandshake v1 +
SaslAuthenticate, including KIP-368 re-authentication on the same
connection.

As a library:
    with connect("127.0.0.1", 9092, security_protocol="SASL_SSL",
                 mechanism="SCRAM-SHA-512", username="admin",
                 password="...", cafile="ca.pem") as conn:
        answer = conn.describe_connections(include_closed=True)
        rows = answer["Connections"]          # dicts keyed by field name, with
                                              # each ...Index resolved to its string

As a command (JSON on stdout, one answer per broker):
    describe.py --bootstrap-server HOST:PORT [--bootstrap-server ...]
        [--security-protocol P] [--sasl-mechanism M --user U --password W]
        [--cafile CA] [--certfile PEM] [--include-closed] [--summary] ...

Standard library only (Debian's /usr/bin/python3).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import ssl
import struct
import sys

DEFAULT_API_KEY = 1000
CLIENT_ID = "describe-py"
SOFTWARE_NAME = "describe-py"
SOFTWARE_VERSION = "1.0"
MAX_FRAME = 64 << 20

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE, DESCRIBE_CLUSTER = 18, 17, 36, 60

STATES = {0: "authenticating", 1: "open", 2: "closing", 3: "closed"}
SECURITY_PROTOCOLS = {0: "PLAINTEXT", 1: "SSL", 2: "SASL_PLAINTEXT", 3: "SASL_SSL"}


class ProtocolError(Exception):
    """The broker's bytes do not follow the spec."""


class KafkaError(Exception):
    """The broker answered with an error code."""

    def __init__(self, what, code, message=None):
        super().__init__("%s: error %d%s" % (what, code, ": " + message if message else ""))
        self.code = code
        self.message = message


# ---- primitives (Kafka protocol guide; KIP-482 for the compact forms) ------

class Writer:
    def __init__(self):
        self.buf = bytearray()

    def int8(self, v):
        self.buf += struct.pack(">b", v)
        return self

    def int16(self, v):
        self.buf += struct.pack(">h", v)
        return self

    def int32(self, v):
        self.buf += struct.pack(">i", v)
        return self

    def int64(self, v):
        self.buf += struct.pack(">q", v)
        return self

    def boolean(self, v):
        return self.int8(1 if v else 0)

    def uvarint(self, v):
        while v >= 0x80:
            self.buf.append((v & 0x7F) | 0x80)
            v >>= 7
        self.buf.append(v)
        return self

    def string(self, s):
        """Classic nullable string: int16 length, -1 for null."""
        if s is None:
            return self.int16(-1)
        b = s.encode("utf-8")
        self.int16(len(b))
        self.buf += b
        return self

    def compact_bytes(self, b):
        """Compact nullable bytes: uvarint N+1, 0 for null."""
        if b is None:
            return self.uvarint(0)
        self.uvarint(len(b) + 1)
        self.buf += b
        return self

    def compact_string(self, s):
        return self.compact_bytes(None if s is None else s.encode("utf-8"))

    def compact_array(self, items, write_item):
        if items is None:
            return self.uvarint(0)
        self.uvarint(len(items) + 1)
        for item in items:
            write_item(item)
        return self

    def no_tags(self):
        return self.uvarint(0)


class Reader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, n, what):
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolError("%s: needs %d bytes at offset %d, %d left"
                                % (what, n, self.pos, len(self.data) - self.pos))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def _unpack(self, fmt, what):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def int8(self, what="int8"):
        return self._unpack(">b", what)

    def int16(self, what="int16"):
        return self._unpack(">h", what)

    def uint16(self, what="uint16"):
        return self._unpack(">H", what)

    def int32(self, what="int32"):
        return self._unpack(">i", what)

    def int64(self, what="int64"):
        return self._unpack(">q", what)

    def boolean(self, what="bool"):
        v = self.int8(what)
        if v not in (0, 1):
            raise ProtocolError("%s: bool byte %d" % (what, v))
        return v == 1

    def uvarint(self, what="uvarint"):
        value = 0
        for i in range(5):
            b = self.take(1, what)[0]
            if i == 4 and b & 0xF0:
                raise ProtocolError("%s: unsigned varint longer than 32 bits" % what)
            value |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                return value
        raise ProtocolError("%s: unsigned varint longer than 5 bytes" % what)

    def string(self, what="string"):
        n = self.int16(what)
        return None if n == -1 else self.take(n, what).decode("utf-8")

    def bytes_(self, what="bytes"):
        n = self.int32(what)
        return None if n == -1 else self.take(n, what)

    def compact_bytes(self, what="compact bytes"):
        n = self.uvarint(what)
        return None if n == 0 else self.take(n - 1, what)

    def compact_string(self, what="compact string"):
        b = self.compact_bytes(what)
        return None if b is None else b.decode("utf-8")

    def compact_array(self, read_item, what="compact array"):
        n = self.uvarint(what)
        if n == 0:
            return None
        if n - 1 > len(self.data) - self.pos:
            raise ProtocolError("%s: %d elements cannot fit in %d bytes"
                                % (what, n - 1, len(self.data) - self.pos))
        return [read_item() for _ in range(n - 1)]

    def array(self, read_item, what="array"):
        n = self.int32(what)
        if n == -1:
            return None
        if n < 0 or n > len(self.data) - self.pos:
            raise ProtocolError("%s: bad element count %d" % (what, n))
        return [read_item() for _ in range(n)]

    def tagged_fields(self, known=None, out=None, what="tagged fields"):
        """Reads a tagged-field section. known maps tag -> (name, read
        function on a Reader of the field's bytes); unknown tags are skipped
        by their size, as KIP-482 requires. Tags must ascend."""
        count = self.uvarint(what)
        last = -1
        for _ in range(count):
            tag = self.uvarint(what + " tag")
            if tag <= last:
                raise ProtocolError("%s: tag %d after tag %d" % (what, tag, last))
            last = tag
            size = self.uvarint(what + " size")
            field = Reader(self.take(size, "%s tag %d" % (what, tag)))
            if known and tag in known:
                name, read = known[tag]
                out[name] = read(field)
                if field.pos != len(field.data):
                    raise ProtocolError("%s tag %d (%s): %d bytes left over"
                                        % (what, tag, name, len(field.data) - field.pos))

    def done(self, what):
        if self.pos != len(self.data):
            raise ProtocolError("%s: %d bytes after the end" % (what, len(self.data) - self.pos))


# ---- DescribeConnections v0 (protocol/messages/DescribeConnections*.json) --

# Field order of Connection, then its tagged fields (tag -> name, type,
# default). Every string of a row but ConnectionId and ClientHost travels as
# an int32 index into the response's Strings ("index"; "nullable_index" may be -1
# for none). A decoded row holds the string itself, under the field's name
# without "Index" (row["Principal"] == "User:alice", None for -1), so that
# callers never see the indexes.
CONNECTION_FIELDS = [
    ("ConnectionId", "string"), ("State", "int8"), ("ListenerNameIndex", "index"),
    ("SecurityProtocol", "int16"), ("PrincipalIndex", "index"),
    ("SaslMechanismIndex", "nullable_index"), ("ClientHost", "string"),
    ("ClientPort", "uint16"), ("LocalHostIndex", "index"), ("LocalPort", "uint16"),
    ("ClientIdIndex", "nullable_index"),
    ("ClientSoftwareNameIndex", "index"), ("ClientSoftwareVersionIndex", "index"),
    ("ConnectedAtMs", "int64"), ("AuthenticatedAtMs", "int64"), ("LastActivityAtMs", "int64"),
    ("Requests", "int64"), ("BytesIn", "int64"), ("BytesOut", "int64"),
]
CONNECTION_TAGS = {
    0: ("CloseReasonIndex", "nullable_index", -1), 1: ("ClosedAtMs", "int64", -1),
    2: ("SessionExpiresAtMs", "int64", -1), 3: ("TlsProtocolIndex", "nullable_index", -1),
    4: ("TlsCipherIndex", "nullable_index", -1),
    5: ("PeerCertificateSubjectIndex", "nullable_index", -1),
    6: ("PeerCertificateIssuerIndex", "nullable_index", -1),
    7: ("PeerCertificateSerialIndex", "nullable_index", -1),
}
INDEX_KINDS = ("index", "nullable_index")


def _row_key(name, kind):
    """The key of a field in a decoded row: an index field is named for
    the string it stands for."""
    return name[:-len("Index")] if kind in INDEX_KINDS else name


# (wire name, row key, nullable) of every index field, in spec order.
INDEX_FIELDS = [(name, _row_key(name, kind), kind == "nullable_index")
                for name, kind in (CONNECTION_FIELDS
                                   + [(n, k) for n, k, _ in CONNECTION_TAGS.values()])
                if kind in INDEX_KINDS]


def _read_value(r, kind, what):
    if kind in ("string", "nullable_string"):
        v = r.compact_string(what)
        if v is None and kind == "string":
            raise ProtocolError("%s: null in a non-nullable string" % what)
        return v
    if kind in INDEX_KINDS:
        return r.int32(what)
    return getattr(r, kind)(what)


def _read_connection(r):
    """One row as on the wire: index fields still hold their indexes
    (under their row keys) until _resolve_strings()."""
    row = {_row_key(name, kind): _read_value(r, kind, name) for name, kind in CONNECTION_FIELDS}
    for name, kind, default in CONNECTION_TAGS.values():
        row[_row_key(name, kind)] = default
    known = {tag: (_row_key(name, kind), lambda f, k=kind, n=name: _read_value(f, k, n))
             for tag, (name, kind, _) in CONNECTION_TAGS.items()}
    r.tagged_fields(known, row, "Connection tagged fields")
    return row


def _resolve_strings(rows, strings):
    """Replaces every index of every row by the entry of strings it names
    (None for -1 where the field allows it). An index outside strings, or
    -1 where the field needs a string, is a ProtocolError naming the row and
    the field."""
    for i, row in enumerate(rows):
        for name, key, nullable in INDEX_FIELDS:
            index = row[key]
            if nullable and index == -1:
                row[key] = None
            elif 0 <= index < len(strings):
                row[key] = strings[index]
            else:
                raise ProtocolError("Connections[%d].%s: %d is not %s of Strings (%d entries)"
                                    % (i, name, index, "-1 or an index" if nullable else "an index",
                                       len(strings)))


def _read_strings(r):
    """Strings: a compact array of compact strings, none of them null."""
    def entry():
        s = r.compact_string("Strings")
        if s is None:
            raise ProtocolError("Strings: null entry")
        return s
    return r.compact_array(entry, "Strings")


def _read_count_by_name(r):
    entry = {"Name": r.compact_string("CountByName.Name"),
             "Connections": r.int32("CountByName.Connections")}
    r.tagged_fields(what="CountByName tagged fields")
    return entry


def _read_summary(r):
    s = {"Principal": r.compact_string("PrincipalSummary.Principal"),
         "Connections": r.int32("PrincipalSummary.Connections"),
         "Listeners": r.compact_array(lambda: _read_count_by_name(r), "PrincipalSummary.Listeners"),
         "ClientSoftware": r.compact_array(lambda: _read_count_by_name(r),
                                           "PrincipalSummary.ClientSoftware")}
    r.tagged_fields(what="PrincipalSummary tagged fields")
    return s


def encode_describe_connections(principals=None, listeners=None, client_addresses=None,
                                client_software=None, client_ids=None, states=None,
                                min_idle_ms=-1, include_closed=False, summary_only=False,
                                limit=0, cursor=None):
    w = Writer()
    for items in (principals, listeners, client_addresses, client_software, client_ids):
        w.compact_array(items, w.compact_string)
    w.compact_array(states, w.int8)
    w.int64(min_idle_ms)                  # MinIdleMs
    w.boolean(include_closed)             # IncludeClosed
    w.boolean(summary_only)               # SummaryOnly
    w.int32(limit)                        # Limit
    w.compact_bytes(cursor)               # Cursor
    w.no_tags()
    return bytes(w.buf)


def decode_describe_connections(body):
    """A DescribeConnections v0 answer as a dict keyed by field name; its
    rows hold their strings, resolved from the answer's Strings."""
    r = Reader(body)
    a = {"ThrottleTimeMs": r.int32("ThrottleTimeMs"), "ErrorCode": r.int16("ErrorCode"),
         "ErrorMessage": r.compact_string("ErrorMessage"), "Restricted": r.boolean("Restricted"),
         "BrokerTimeMs": r.int64("BrokerTimeMs"), "TotalCount": r.int32("TotalCount"),
         "NextCursor": r.compact_bytes("NextCursor")}
    a["Summaries"] = r.compact_array(lambda: _read_summary(r), "Summaries")
    a["Connections"] = r.compact_array(lambda: _read_connection(r), "Connections")
    strings = _read_strings(r)
    if a["Summaries"] is None or a["Connections"] is None or strings is None:
        raise ProtocolError("Summaries, Connections and Strings are not nullable")
    r.tagged_fields(what="DescribeConnectionsResponse tagged fields")
    r.done("DescribeConnectionsResponse")
    _resolve_strings(a["Connections"], strings)
    return a


# ---- SASL clients ----------------------------------------------------------

def plain_token(username, password):
    """RFC 4616: authzid NUL authcid NUL passwd, with an empty authzid."""
    return b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")


def scram_escape(name):
    """RFC 5802 saslname: '=' and ',' are written =3D and =2C."""
    return name.replace("=", "=3D").replace(",", "=2C")


class ScramClient:
    """The client side of RFC 5802 (SCRAM-SHA-256/512 of RFC 7677)."""

    HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}
    MIN_ITERATIONS = 4096  # Kafka's minimum (KIP-84)

    def __init__(self, mechanism, username, password, nonce=None):
        self.hash = self.HASHES[mechanism]
        self.username = username
        self.password = password.encode("utf-8")
        self.nonce = nonce or base64.b64encode(os.urandom(24)).decode("ascii")
        self.client_first_bare = "n=%s,r=%s" % (scram_escape(username), self.nonce)
        self.server_signature = None

    def first(self):
        return ("n,," + self.client_first_bare).encode("utf-8")

    def _hmac(self, key, msg):
        return hmac.new(key, msg, self.hash).digest()

    def final(self, server_first):
        text = server_first.decode("utf-8")
        attrs = dict(kv.split("=", 1) for kv in text.split(","))
        nonce, salt, iterations = attrs["r"], base64.b64decode(attrs["s"]), int(attrs["i"])
        if not nonce.startswith(self.nonce) or len(nonce) == len(self.nonce):
            raise ProtocolError("SCRAM: the server nonce does not extend ours")
        if iterations < self.MIN_ITERATIONS:
            raise ProtocolError("SCRAM: %d iterations, fewer than %d" % (iterations, self.MIN_ITERATIONS))
        salted = hashlib.pbkdf2_hmac(self.hash().name, self.password, salt, iterations)
        client_key = self._hmac(salted, b"Client Key")
        stored_key = self.hash(client_key).digest()
        without_proof = "c=biws,r=" + nonce  # biws = base64("n,,")
        auth_message = ",".join((self.client_first_bare, text, without_proof)).encode("utf-8")
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_signature = self._hmac(self._hmac(salted, b"Server Key"), auth_message)
        return (without_proof + ",p=" + base64.b64encode(proof).decode("ascii")).encode("utf-8")

    def verify(self, server_final):
        attrs = dict(kv.split("=", 1) for kv in server_final.decode("utf-8").split(","))
        if "e" in attrs:
            raise ProtocolError("SCRAM: server error %s" % attrs["e"])
        if base64.b64decode(attrs.get("v", "")) != self.server_signature:
            raise ProtocolError("SCRAM: wrong server signature")


# ---- the connection ----------------------------------------------------------

class Connection:
    """One Kafka connection: framing, request/answer in order, ApiVersions
    and SASL. Not thread-safe."""

    def __init__(self, host, port, ssl_context=None, server_hostname=None, timeout=10.0,
                 client_id=CLIENT_ID, api_key=DEFAULT_API_KEY):
        self.client_id = client_id
        self.api_key = api_key
        self.correlation_id = 0
        self.api_versions = {}
        self.session_lifetime_ms = 0
        self.mechanism = None
        sock = socket.create_connection((host, port), timeout=timeout)
        if ssl_context is not None:
            try:
                sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname or host)
            except BaseException:
                sock.close()
                raise
        self.sock = sock

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def send_frame(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _recv_exact(self, n):
        parts, left = [], n
        while left:
            chunk = self.sock.recv(min(left, 1 << 16))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def recv_frame(self):
        (size,) = struct.unpack(">i", self._recv_exact(4))
        if size < 0 or size > MAX_FRAME:
            raise ProtocolError("frame size %d" % size)
        return self._recv_exact(size)

    def request(self, api_key, version, body, flexible_request, flexible_response):
        """Sends one request and returns a Reader on the answer's body.
        Request header v2 when flexible (client_id keeps its int16 length,
        then a tagged-field section), v1 otherwise; response header v1
        (correlation id + tags) when flexible_response, else v0."""
        self.correlation_id += 1
        w = Writer().int16(api_key).int16(version).int32(self.correlation_id).string(self.client_id)
        if flexible_request:
            w.no_tags()
        self.send_frame(bytes(w.buf) + body)
        r = Reader(self.recv_frame())
        got = r.int32("correlation id")
        if got != self.correlation_id:
            raise ProtocolError("correlation id %d, expected %d" % (got, self.correlation_id))
        if flexible_response:
            r.tagged_fields(what="response header tagged fields")
        return r

    # ApiVersions v3: KIP-511 software name/version; the answer's header
    # stays v0 even though the body is flexible.
    def fetch_api_versions(self):
        body = Writer().compact_string(SOFTWARE_NAME).compact_string(SOFTWARE_VERSION).no_tags()
        r = self.request(API_VERSIONS, 3, bytes(body.buf), True, False)
        error = r.int16("ErrorCode")
        if error:
            raise KafkaError("ApiVersions", error)

        def entry():
            key, lo, hi = r.int16("ApiKey"), r.int16("MinVersion"), r.int16("MaxVersion")
            r.tagged_fields(what="ApiVersion tagged fields")
            return key, (lo, hi)
        self.api_versions = dict(r.compact_array(entry, "ApiKeys") or [])
        r.int32("ThrottleTimeMs")
        r.tagged_fields(what="ApiVersionsResponse tagged fields")
        r.done("ApiVersionsResponse")
        return self.api_versions

    def _sasl_handshake(self, mechanism):
        r = self.request(SASL_HANDSHAKE, 1, bytes(Writer().string(mechanism).buf), False, False)
        error = r.int16("ErrorCode")
        mechanisms = r.array(lambda: r.string("Mechanism"), "Mechanisms")
        r.done("SaslHandshakeResponse")
        if error:
            raise KafkaError("SaslHandshake %s (enabled: %s)" % (mechanism, mechanisms), error)

    def _sasl_authenticate(self, token):
        """One SaslAuthenticate round, v2 (flexible) or v1 as advertised."""
        version = min(2, self.api_versions.get(SASL_AUTHENTICATE, (0, 1))[1])
        flexible = version >= 2
        w = Writer()
        if flexible:
            w.compact_bytes(token).no_tags()
        else:
            w.int32(len(token)).buf.extend(token)
        r = self.request(SASL_AUTHENTICATE, version, bytes(w.buf), flexible, flexible)
        error = r.int16("ErrorCode")
        message = r.compact_string("ErrorMessage") if flexible else r.string("ErrorMessage")
        auth = r.compact_bytes("AuthBytes") if flexible else r.bytes_("AuthBytes")
        lifetime = r.int64("SessionLifetimeMs") if version >= 1 else 0
        if flexible:
            r.tagged_fields(what="SaslAuthenticateResponse tagged fields")
        r.done("SaslAuthenticateResponse")
        if error:
            raise KafkaError("SaslAuthenticate", error, message)
        return auth or b"", lifetime

    def authenticate(self, mechanism, username, password):
        """SaslHandshake v1 + SaslAuthenticate; also a KIP-368
        re-authentication when called again on an authenticated connection.
        Returns the session lifetime in ms (0: no limit)."""
        self._sasl_handshake(mechanism)
        if mechanism == "PLAIN":
            _, lifetime = self._sasl_authenticate(plain_token(username, password))
        elif mechanism in ScramClient.HASHES:
            scram = ScramClient(mechanism, username, password)
            server_first, _ = self._sasl_authenticate(scram.first())
            server_final, lifetime = self._sasl_authenticate(scram.final(server_first))
            scram.verify(server_final)
        else:
            raise ValueError("unsupported SASL mechanism %s" % mechanism)
        self.mechanism = mechanism
        self.session_lifetime_ms = lifetime
        return lifetime

    def describe_connections(self, **filters):
        """One page of DescribeConnections v0. Filters are the keyword
        arguments of encode_describe_connections."""
        if self.api_versions and self.api_key not in self.api_versions:
            raise KafkaError("DescribeConnections: key %d not advertised" % self.api_key, 35)
        r = self.request(self.api_key, 0, encode_describe_connections(**filters), True, True)
        answer = decode_describe_connections(r.data[r.pos:])
        if answer["ErrorCode"]:
            raise KafkaError("DescribeConnections", answer["ErrorCode"], answer["ErrorMessage"])
        return answer

    def describe_all(self, **filters):
        """Every page: the last answer with the rows of all pages in
        "Connections". Bounded by the page count the first TotalCount
        implies, plus slack for connections accepted meanwhile."""
        filters.pop("cursor", None)
        answer = self.describe_connections(**filters)
        rows = list(answer["Connections"])
        pages = 1
        while answer["NextCursor"] is not None:
            if pages > 1000 or not answer["Connections"]:
                raise ProtocolError("paging does not end (page %d)" % pages)
            answer = self.describe_connections(cursor=answer["NextCursor"], **filters)
            rows.extend(answer["Connections"])
            pages += 1
        answer["Connections"] = rows
        answer["Pages"] = pages
        return answer

    def describe_cluster(self, version=0):
        """DescribeCluster (flexible in every version) -> dict."""
        w = Writer().boolean(False)          # IncludeClusterAuthorizedOperations
        if version >= 1:
            w.int8(1)                        # EndpointType: brokers
        r = self.request(DESCRIBE_CLUSTER, version, bytes(w.no_tags().buf), True, True)
        a = {"ThrottleTimeMs": r.int32(), "ErrorCode": r.int16(), "ErrorMessage": r.compact_string()}
        if version >= 1:
            a["EndpointType"] = r.int8()
        a["ClusterId"] = r.compact_string()
        a["ControllerId"] = r.int32()

        def broker():
            b = {"BrokerId": r.int32(), "Host": r.compact_string(), "Port": r.int32(),
                 "Rack": r.compact_string()}
            r.tagged_fields()
            return b
        a["Brokers"] = r.compact_array(broker, "Brokers")
        a["ClusterAuthorizedOperations"] = r.int32()
        r.tagged_fields()
        r.done("DescribeClusterResponse")
        return a


def ssl_context(cafile, certfile=None):
    """TLS 1.2+ verifying the broker against cafile; certfile is a PEM with
    the client's key and certificate chain (mTLS)."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if certfile:
        ctx.load_cert_chain(certfile)
    return ctx


def connect(host, port, security_protocol="PLAINTEXT", mechanism=None, username=None, password=None,
            cafile=None, certfile=None, timeout=10.0, client_id=CLIENT_ID, api_key=DEFAULT_API_KEY,
            api_versions=True):
    """An open Connection, past ApiVersions and authentication."""
    tls = security_protocol in ("SSL", "SASL_SSL")
    ctx = ssl_context(cafile, certfile) if tls else None
    conn = Connection(host, port, ctx, timeout=timeout, client_id=client_id, api_key=api_key)
    try:
        if api_versions:
            conn.fetch_api_versions()
        if security_protocol.startswith("SASL_"):
            conn.authenticate(mechanism, username, password)
    except BaseException:
        conn.close()
        raise
    return conn


def describe(host, port, **kwargs):
    """All pages of DescribeConnections from one broker. kwargs: those of
    connect() and of encode_describe_connections()."""
    connect_keys = ("security_protocol", "mechanism", "username", "password", "cafile",
                    "certfile", "timeout", "client_id", "api_key")
    conn_args = {k: kwargs.pop(k) for k in connect_keys if k in kwargs}
    with connect(host, port, **conn_args) as conn:
        return conn.describe_all(**kwargs)


# ---- command line ------------------------------------------------------------

def parse_endpoint(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("%r is not HOST:PORT" % text)
    return host.strip("[]"), int(port)


def main(argv=None):
    p = argparse.ArgumentParser(description="Lists a broker's connections with DescribeConnections.")
    p.add_argument("--bootstrap-server", type=parse_endpoint, action="append", required=True,
                   help="a broker to ask (repeatable: each is asked)")
    p.add_argument("--security-protocol", default="PLAINTEXT",
                   choices=sorted(SECURITY_PROTOCOLS.values()))
    p.add_argument("--sasl-mechanism", default="PLAIN",
                   choices=["PLAIN"] + sorted(ScramClient.HASHES))
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--cafile")
    p.add_argument("--certfile", help="PEM with the client key and certificate (mTLS)")
    p.add_argument("--api-key", type=int, default=DEFAULT_API_KEY)
    p.add_argument("--principal", action="append", dest="principals")
    p.add_argument("--listener", action="append", dest="listeners")
    p.add_argument("--client-address", action="append", dest="client_addresses")
    p.add_argument("--client-software", action="append")
    p.add_argument("--client-id", action="append", dest="client_ids")
    p.add_argument("--state", type=int, action="append", dest="states")
    p.add_argument("--min-idle-ms", type=int, default=-1)
    p.add_argument("--include-closed", action="store_true")
    p.add_argument("--summary", action="store_true", dest="summary_only")
    p.add_argument("--limit", type=int, default=0)
    a = p.parse_args(argv)
    filters = {k: getattr(a, k) for k in ("principals", "listeners", "client_addresses",
                                          "client_software", "client_ids", "states",
                                          "min_idle_ms", "include_closed", "summary_only", "limit")}
    status = 0
    for host, port in a.bootstrap_server:
        try:
            answer = describe(host, port, security_protocol=a.security_protocol,
                              mechanism=a.sasl_mechanism, username=a.user, password=a.password,
                              cafile=a.cafile, certfile=a.certfile, api_key=a.api_key, **filters)
            answer["NextCursor"] = None
            print(json.dumps({"broker": "%s:%d" % (host, port), **answer}, ensure_ascii=False))
        except (OSError, ProtocolError, KafkaError) as e:
            print("describe.py: %s:%d: %s" % (host, port, e), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
