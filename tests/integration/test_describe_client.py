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


# One answer written out field by field.
ROW_FIELDS = (
    compact("127.0.0.1:9093-127.0.0.1:50000-0-7")   # ConnectionId
    + b"\x01"                                        # State: open
    + compact("SASL_SSL")                            # ListenerName
    + b"\x00\x03"                                    # SecurityProtocol
    + compact("User:josé")                           # Principal
    + compact("SCRAM-SHA-512")                       # SaslMechanism
    + compact("::1")                                 # ClientHost
    + b"\xff\xff"                                    # ClientPort 65535 (uint16)
    + compact("::1")                                 # LocalHost
    + b"\x24\x05"                                    # LocalPort 9221
    + b"\x00"                                        # ClientId: null
    + compact("librdkafka") + compact("2.0.2")       # ClientSoftwareName/Version
    + (1).to_bytes(8, "big")                         # ConnectedAtMs
    + b"\xff" * 8                                    # AuthenticatedAtMs -1
    + (2).to_bytes(8, "big")                         # LastActivityAtMs
    + (3).to_bytes(8, "big")                         # Requests
    + (300).to_bytes(8, "big")                       # BytesIn
    + (200).to_bytes(8, "big"))                      # BytesOut
ROW_TAGS = (
    b"\x03"
    + b"\x00" + bytes([len(compact("idle timeout"))]) + compact("idle timeout")  # 0 CloseReason
    + b"\x03" + bytes([len(compact("TLSv1.3"))]) + compact("TLSv1.3")            # 3 TlsProtocol
    + b"\x09\x02\xab\xcd")                                                        # 9: unknown
ANSWER = (
    b"\x00\x00\x00\x00"                    # ThrottleTimeMs
    + b"\x00\x00"                          # ErrorCode
    + b"\x00"                              # ErrorMessage: null
    + b"\x01"                              # Restricted
    + (1700000000000).to_bytes(8, "big")   # BrokerTimeMs
    + b"\x00\x00\x00\x01"                  # TotalCount
    + b"\x03\x01\x02"                      # NextCursor: 2 bytes
    + b"\x01"                              # Summaries: empty
    + b"\x02" + ROW_FIELDS + ROW_TAGS      # Connections: one
    + b"\x00")                             # tagged fields


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
