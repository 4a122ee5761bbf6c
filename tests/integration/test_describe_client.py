#!/usr/bin/python3
"""describe.py on its own, without a broker: its SCRAM client against the
RFC 7677 example exchange, and its request encoder and answer decoder
against bytes written out by hand from the spec
(protocol/messages/DescribeConnections*.json)."""

import sys
import unittest

sys.dont_write_bytecode = True
import describe  # noqa: E402


def compact(text):
    b = text.encode("utf-8")
    assert len(b) < 127
    return bytes([len(b) + 1]) + b


def compact_array(items):
    return bytes([len(items) + 1]) + b"".join(items)


class Scram(unittest.TestCase):
    def test_rfc7677_example(self):
        c = describe.ScramClient("SCRAM-SHA-256", "user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
        self.assertEqual(c.first(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        final = c.final(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                        b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        self.assertEqual(final, b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        c.verify(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        with self.assertRaises(describe.ProtocolError):
            c.verify(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")

    def test_username_escapes(self):
        c = describe.ScramClient("SCRAM-SHA-512", "a=b,c", "x", nonce="n0nce")
        self.assertEqual(c.first(), b"n,,n=a=3Db=2Cc,r=n0nce")

    def test_refuses_a_server_nonce_that_does_not_extend_ours(self):
        c = describe.ScramClient("SCRAM-SHA-256", "user", "pencil", nonce="abc")
        with self.assertRaises(describe.ProtocolError):
            c.final(b"r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        with self.assertRaises(describe.ProtocolError):
            c.final(b"r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000")


def index(i):
    return i.to_bytes(4, "big", signed=True)


# One answer written out field by field. Its Strings, in the order the row
# names them: 0 SASL_SSL, 1 User:josé, 2 SCRAM-SHA-512, 3 ::1,
# 4 librdkafka, 5 2.0.2, 6 idle timeout, 7 TLSv1.3.
STRINGS = ["SASL_SSL", "User:josé", "SCRAM-SHA-512", "::1", "librdkafka", "2.0.2",
           "idle timeout", "TLSv1.3"]


def row_fields(listener=0, principal=1):
    return (
        compact("127.0.0.1:9093-127.0.0.1:50000-0-7")   # ConnectionId
        + b"\x01"                                        # State: open
        + index(listener)                                # ListenerNameIndex
        + b"\x00\x03"                                    # SecurityProtocol
        + index(principal)                               # PrincipalIndex
        + index(2)                                       # SaslMechanismIndex
        + compact("::1")                                 # ClientHost, inline
        + b"\xff\xff"                                    # ClientPort 65535 (uint16)
        + index(3)                                       # LocalHostIndex "::1"
        + b"\x24\x05"                                    # LocalPort 9221
        + index(-1)                                      # ClientIdIndex: none
        + index(4) + index(5)                            # ClientSoftwareName/VersionIndex
        + (1).to_bytes(8, "big")                         # ConnectedAtMs
        + b"\xff" * 8                                    # AuthenticatedAtMs -1
        + (2).to_bytes(8, "big")                         # LastActivityAtMs
        + (3).to_bytes(8, "big")                         # Requests
        + (300).to_bytes(8, "big")                       # BytesIn
        + (200).to_bytes(8, "big"))                      # BytesOut


def row_tags(tls_protocol=7):
    return (b"\x03"
            + b"\x00\x04" + index(6)                     # 0 CloseReasonIndex
            + b"\x03\x04" + index(tls_protocol)          # 3 TlsProtocolIndex
            + b"\x09\x02\xab\xcd")                        # 9: unknown


def answer(**indexes):
    """The answer, with some of its row's indexes replaced."""
    tags = {k: indexes.pop(k) for k in ("tls_protocol",) if k in indexes}
    return (
        b"\x00\x00\x00\x00"                    # ThrottleTimeMs
        + b"\x00\x00"                          # ErrorCode
        + b"\x00"                              # ErrorMessage: null
        + b"\x01"                              # Restricted
        + (1700000000000).to_bytes(8, "big")   # BrokerTimeMs
        + b"\x00\x00\x00\x01"                  # TotalCount
        + b"\x03\x01\x02"                      # NextCursor: 2 bytes
        + b"\x01"                              # Summaries: empty
        + b"\x02" + row_fields(**indexes) + row_tags(**tags)   # Connections: one
        + compact_array([compact(s) for s in STRINGS])        # Strings
        + b"\x00")                             # tagged fields


ANSWER = answer()


class Codec(unittest.TestCase):
    def test_request_bytes(self):
        got = describe.encode_describe_connections(principals=["User:alice"], states=[1, 3],
                                                   include_closed=True, limit=5, cursor=b"\x07")
        want = (compact_array([compact("User:alice")]) + b"\x00" * 4   # Principals, 4 null lists
                + b"\x03\x01\x03"                                     # States [1, 3]
                + b"\xff" * 8                                         # MinIdleMs -1
                + b"\x01" + b"\x00"                                   # IncludeClosed, SummaryOnly
                + b"\x00\x00\x00\x05"                                 # Limit
                + b"\x02\x07"                                         # Cursor
                + b"\x00")                                            # tagged fields
        self.assertEqual(got, want)

    def test_answer_decoded_and_unknown_tags_skipped(self):
        a = describe.decode_describe_connections(ANSWER)
        self.assertTrue(a["Restricted"])
        self.assertEqual(a["BrokerTimeMs"], 1700000000000)
        self.assertEqual(a["NextCursor"], b"\x01\x02")
        self.assertEqual(a["Summaries"], [])
        (row,) = a["Connections"]
        self.assertEqual(row["Principal"], "User:josé")
        self.assertEqual((row["ClientPort"], row["LocalPort"]), (65535, 9221))
        self.assertIsNone(row["ClientId"])
        self.assertEqual(row["AuthenticatedAtMs"], -1)
        self.assertEqual(row["BytesIn"], 300)
        self.assertEqual(row["CloseReason"], "idle timeout")
        self.assertEqual(row["TlsProtocol"], "TLSv1.3")
        self.assertEqual(row["ClosedAtMs"], -1)   # absent tag: the default
        self.assertIsNone(row["PeerCertificateSubject"])

    def test_rows_hold_strings_not_indexes(self):
        (row,) = describe.decode_describe_connections(ANSWER)["Connections"]
        self.assertEqual((row["ListenerName"], row["SaslMechanism"]), ("SASL_SSL", "SCRAM-SHA-512"))
        self.assertEqual((row["ClientHost"], row["LocalHost"]), ("::1", "::1"))
        self.assertEqual((row["ClientSoftwareName"], row["ClientSoftwareVersion"]),
                         ("librdkafka", "2.0.2"))
        self.assertFalse([k for k in row if k.endswith("Index")])

    def test_index_outside_strings_is_an_error(self):
        for field, bad in (("PrincipalIndex", {"principal": 8}),
                           ("PrincipalIndex", {"principal": -2}),
                           ("ListenerNameIndex", {"listener": -1}),
                           ("TlsProtocolIndex", {"tls_protocol": 8})):
            with self.assertRaisesRegex(describe.ProtocolError,
                                        r"Connections\[0\]\.%s: " % field, msg=str(bad)):
                describe.decode_describe_connections(answer(**bad))

    def test_every_truncation_is_an_error(self):
        for n in range(len(ANSWER)):
            with self.assertRaises(describe.ProtocolError, msg="truncated at %d" % n):
                describe.decode_describe_connections(ANSWER[:n])

    def test_trailing_bytes_are_an_error(self):
        with self.assertRaises(describe.ProtocolError):
            describe.decode_describe_connections(ANSWER + b"\x00")

    def test_tags_out_of_order_are_an_error(self):
        swapped = ANSWER.replace(b"\x09\x02\xab\xcd", b"\x02\x02\xab\xcd")
        with self.assertRaises(describe.ProtocolError):
            describe.decode_describe_connections(swapped)

    def test_varint_longer_than_32_bits_is_an_error(self):
        with self.assertRaises(describe.ProtocolError):
            describe.Reader(b"\xff\xff\xff\xff\x1f").uvarint()
        self.assertEqual(describe.Reader(b"\xff\xff\xff\xff\x0f").uvarint(), 0xFFFFFFFF)


if __name__ == "__main__":
    unittest.main(verbosity=2)
