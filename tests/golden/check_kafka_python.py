#!/usr/bin/python3
"""Checks the non-flexible golden vectors with kafka-python's own protocol
classes (python3-kafka), a decoder written independently of ours.

Each response vector is decoded, every byte must be used, the values must be
the ones test_golden.c asserts, and kafka-python must encode the decoded
object back to the same bytes. Each request vector must equal what
kafka-python encodes for the same request.

Usage: /usr/bin/python3 check_kafka_python.py VECTORS_DIR
"""

import io
import sys

# Run from the source tree: leave no __pycache__ behind in it.
sys.dont_write_bytecode = True
from golden_hex import Checks, expect, load

from kafka.protocol.api import RequestHeader
from kafka.protocol.admin import (ApiVersionRequest_v0, ApiVersionResponse_v0,
                                  SaslHandShakeRequest_v0, SaslHandShakeRequest_v1,
                                  SaslHandShakeResponse_v0, SaslHandShakeResponse_v1)
from kafka.protocol.metadata import MetadataRequest_v1, MetadataResponse_v1

# (ApiKey, MinVersion, MaxVersion) as the broker vectors advertise them.
BROKER_APIS = [(3, 0, 12), (17, 0, 1), (18, 0, 4), (36, 0, 2), (1000, 0, 0)]
MECHANISMS = ["PLAIN", "SCRAM-SHA-256"]

vectors = None


def decode_whole(cls, data):
    """Decodes data as cls; kafka-python ignores trailing bytes, we do not."""
    stream = io.BytesIO(data)
    obj = cls.decode(stream)
    expect(stream.tell(), len(data), "%s bytes used" % cls.__name__)
    return obj


def check_response(name, cls, want):
    """want maps field names of cls.SCHEMA to expected decoded values."""
    data = load(vectors, name)
    obj = decode_whole(cls, data)
    for field, value in want.items():
        expect(obj.get_item(field), value, field)
    expect(obj.encode(), data, "%s re-encoded" % cls.__name__)


def check_request(name, obj):
    data = load(vectors, name)
    expect(obj.encode(), data, "%s encoded" % type(obj).__name__)
    expect(decode_whole(type(obj), data), obj, "%s decoded" % type(obj).__name__)


def check_request_header():
    # kafka-python only has header v1 (it never sends a flexible version).
    data = load(vectors, "request_header_v1_metadata_v1.hex")
    header = RequestHeader(MetadataRequest_v1(topics=["orders"]), correlation_id=8,
                           client_id="kafka-python")
    expect(header.encode(), data, "RequestHeader encoded")
    stream = io.BytesIO(data)
    expect(tuple(RequestHeader.SCHEMA.decode(stream)), (3, 1, 8, "kafka-python"),
           "RequestHeader decoded")
    expect(stream.tell(), len(data), "RequestHeader bytes used")


def main():
    global vectors
    if len(sys.argv) != 2:
        print("usage: %s VECTORS_DIR" % sys.argv[0], file=sys.stderr)
        return 2
    vectors = sys.argv[1]
    c = Checks("check_kafka_python")

    c.run("ApiVersions v0 request", check_request,
          "api_versions_v0_request.hex", ApiVersionRequest_v0())
    c.run("ApiVersions v0 response", check_response,
          "api_versions_v0_response.hex", ApiVersionResponse_v0,
          {"error_code": 0, "api_versions": BROKER_APIS})
    # KIP-511: the answer to a too-new ApiVersions is a v0 body.
    c.run("ApiVersions UNSUPPORTED_VERSION answer", check_response,
          "api_versions_v0_response_unsupported.hex", ApiVersionResponse_v0,
          {"error_code": 35, "api_versions": [(18, 0, 4)]})

    c.run("Metadata v1 request", check_request,
          "metadata_v1_request.hex", MetadataRequest_v1(topics=["orders"]))
    c.run("Request header v1", check_request_header)
    c.run("Metadata v1 response", check_response,
          "metadata_v1_response.hex", MetadataResponse_v1,
          {"brokers": [(1, "127.0.0.1", 9092, "rack-a"),
                       (2, "127.0.0.1", 9093, None),
                       (3, "127.0.0.1", 9094, "rack-b")],
           "controller_id": 2,
           "topics": []})
    # Topic: (error_code, topic, is_internal, partitions); partition:
    # (error_code, partition, leader, replicas, isr).
    c.run("Metadata v1 response with a topic", check_response,
          "metadata_v1_response_topic.hex", MetadataResponse_v1,
          {"brokers": [(1, "127.0.0.1", 9092, None), (2, "127.0.0.1", 9093, None)],
           "controller_id": 1,
           "topics": [(0, "orders", False, [(0, 0, 1, [1, 2], [1])])]})

    c.run("SaslHandshake v0 request", check_request,
          "sasl_handshake_v0_request.hex", SaslHandShakeRequest_v0(mechanism="PLAIN"))
    c.run("SaslHandshake v0 response", check_response,
          "sasl_handshake_v0_response.hex", SaslHandShakeResponse_v0,
          {"error_code": 0, "enabled_mechanisms": MECHANISMS})
    c.run("SaslHandshake v1 request", check_request,
          "sasl_handshake_v1_request.hex", SaslHandShakeRequest_v1(mechanism="SCRAM-SHA-512"))
    c.run("SaslHandshake v1 response", check_response,
          "sasl_handshake_v1_response.hex", SaslHandShakeResponse_v1,
          {"error_code": 33, "enabled_mechanisms": MECHANISMS})
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
