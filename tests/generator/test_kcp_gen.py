#!/usr/bin/env python3
"""Spec validation of protocol/generator/kcp_gen.py.

Each case writes a small request/response pair of message specs (the
generator needs both halves of an API) into a temporary directory, breaks one
rule of Kafka's message-spec format, and checks that the generator refuses
it: non-zero exit, no output files, and an error naming the file and the
field. Also checks `//` comment handling and byte-for-byte reproducible
output.

Usage: test_kcp_gen.py [path/to/kcp_gen.py] [unittest options]
Python standard library only.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "protocol", "generator", "kcp_gen.py")
OUTPUTS = ("kcp_messages.h", "kcp_messages.c", "test_messages.c")
TIMEOUT = 60


def field(name, type_, versions="0+", **extra):
    f = {"name": name, "type": type_, "versions": versions, "about": "The %s." % name}
    f.update(extra)
    return f


def spec(kind, fields, valid="0-2", flexible="1+", name="Probe", key=999):
    s = {"apiKey": key, "type": kind, "name": name + kind.capitalize(),
         "validVersions": valid, "flexibleVersions": flexible, "fields": fields}
    return s


def pair(request_fields, valid="0-2", flexible="1+"):
    """A valid request/response pair; the request carries the fields."""
    ok = [field("ErrorCode", "int16")]
    return {
        "ProbeRequest.json": spec("request", request_fields, valid, flexible),
        "ProbeResponse.json": spec("response", ok, valid, flexible),
    }


def run_gen(files, env=None, order=None):
    """Writes files (name -> dict or text) and runs the generator on them.
    Returns (returncode, stderr, {output name: bytes})."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, content in files.items():
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(content if isinstance(content, str) else json.dumps(content, indent=2))
            paths.append(path)
        if order is not None:
            paths = order(paths)
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        proc = subprocess.run([sys.executable, GEN, out] + paths, capture_output=True,
                              text=True, timeout=TIMEOUT, env=env)
        outputs = {}
        for name in OUTPUTS:
            p = os.path.join(out, name)
            if os.path.exists(p):
                with open(p, "rb") as fh:
                    outputs[name] = fh.read()
        return proc.returncode, proc.stderr, outputs


class BrokenSpecs(unittest.TestCase):
    def assert_refused(self, files, filename, *needles):
        rc, err, outputs = run_gen(files)
        self.assertNotEqual(rc, 0, "generator accepted the spec; stderr: %r" % err)
        self.assertNotIn("Traceback", err, "generator crashed instead of reporting")
        self.assertIn("kcp_gen: error:", err)
        self.assertIn(filename, err, "error does not name the file")
        for needle in needles:
            self.assertIn(needle, err)
        self.assertEqual(outputs, {}, "a refused spec still produced output")

    def test_tagged_versions_outside_versions(self):
        files = pair([field("BrokerEpoch", "int32", "2+", tag=0, taggedVersions="1+")])
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "taggedVersions")

    def test_nullable_versions_on_int32(self):
        files = pair([field("BrokerEpoch", "int32", nullableVersions="0+")])
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "nullableVersions")

    def test_nullable_versions_on_int32_in_a_nested_struct(self):
        inner = [field("PartitionCount", "int32", nullableVersions="1+")]
        files = pair([field("Topics", "[]Topic", fields=inner)])
        self.assert_refused(files, "ProbeRequest.json", "Topic.PartitionCount", "nullableVersions")

    def test_tag_without_tagged_versions(self):
        files = pair([field("BrokerEpoch", "int32", "1+", tag=0)])
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "taggedVersions")

    def test_tagged_versions_without_tag(self):
        files = pair([field("BrokerEpoch", "int32", "1+", taggedVersions="1+")])
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "tag")

    def test_duplicate_tag(self):
        files = pair([field("BrokerEpoch", "int32", "1+", tag=3, taggedVersions="1+"),
                      field("RackName", "string", "1+", tag=3, taggedVersions="1+")])
        self.assert_refused(files, "ProbeRequest.json", "RackName", "tag 3", "BrokerEpoch")

    def test_duplicate_field_name(self):
        files = pair([field("BrokerEpoch", "int32"), field("BrokerEpoch", "int64")])
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "duplicate")

    def test_unknown_primitive_type(self):
        files = pair([field("BrokerEpoch", "int128")])
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "int128")

    def test_unknown_array_element_type(self):
        files = pair([field("ReplicaNodes", "[]int33")])
        self.assert_refused(files, "ProbeRequest.json", "ReplicaNodes", "int33")

    def test_struct_type_defined_nowhere(self):
        files = pair([field("Topics", "[]MissingTopic")])
        self.assert_refused(files, "ProbeRequest.json", "Topics", "MissingTopic")

    def test_unknown_field_key(self):
        files = pair([field("BrokerEpoch", "int32", nullible="0+")])
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "nullible")

    def test_invalid_json(self):
        files = pair([field("BrokerEpoch", "int32")])
        files["ProbeRequest.json"] = json.dumps(files["ProbeRequest.json"])[:-2]
        self.assert_refused(files, "ProbeRequest.json", "JSON")

    def test_versions_starting_after_valid_versions(self):
        files = pair([field("BrokerEpoch", "int32", "3-5")], valid="0-2")
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "validVersions")

    def test_versions_ending_after_valid_versions(self):
        files = pair([field("BrokerEpoch", "int32", "1-4")], valid="0-2")
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "validVersions")

    def test_tagged_versions_in_a_non_flexible_version(self):
        files = pair([field("BrokerEpoch", "int32", "0+", tag=0, taggedVersions="1+")],
                     flexible="2+")
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "flexibleVersions")

    def test_tagged_field_in_a_never_flexible_message(self):
        files = pair([field("BrokerEpoch", "int32", "0+", tag=0, taggedVersions="0+")],
                     flexible="none")
        self.assert_refused(files, "ProbeRequest.json", "BrokerEpoch", "flexibleVersions")


class AcceptedSpecs(unittest.TestCase):
    def test_open_ended_versions_are_not_outside_valid_versions(self):
        # Kafka's own specs write "0+" for fields of messages whose
        # validVersions end (or even start) elsewhere.
        files = pair([field("BrokerEpoch", "int32", "0+"), field("RackName", "string", "2+")],
                     valid="1-2")
        rc, err, outputs = run_gen(files)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(outputs), sorted(OUTPUTS))

    def test_comments_are_stripped_but_not_inside_strings(self):
        text = "\n".join([
            "// Leading comment with a \"quote\" and an apostrophe: don't.",
            "{",
            '  "apiKey": 999, // trailing comment',
            '  "type": "request",',
            '  "name": "ProbeRequest",',
            '  "validVersions": "0-2", "flexibleVersions": "1+",',
            '  "fields": [',
            '    // a comment between fields',
            '    { "name": "Url", "type": "string", "versions": "0+",',
            '      "about": "see http://x and a // b" },',
            '    { "name": "Quoted", "type": "string", "versions": "0+",',
            '      "about": "say \\"hi\\" // still text" } // after the last field',
            "  ]",
            "}",
            "// final comment without a newline at the end"])
        files = pair([])
        files["ProbeRequest.json"] = text
        rc, err, outputs = run_gen(files)
        self.assertEqual(rc, 0, err)
        header = outputs["kcp_messages.h"].decode("utf-8")
        self.assertIn("see http://x and a // b", header)
        self.assertIn('say "hi" // still text', header)
        self.assertIn("url;", header)
        self.assertIn("quoted;", header)
        self.assertNotIn("trailing comment", header)


class Determinism(unittest.TestCase):
    def real_specs(self):
        specs_dir = os.path.join(os.path.dirname(os.path.abspath(GEN)), "..", "messages")
        files = {}
        for name in sorted(os.listdir(specs_dir)):
            if name.endswith(".json"):
                with open(os.path.join(specs_dir, name), encoding="utf-8") as fh:
                    files[name] = fh.read()
        self.assertTrue(files, "no specs found in %s" % specs_dir)
        return files

    def test_output_is_byte_for_byte_reproducible(self):
        files = self.real_specs()
        runs = []
        # Different hash seeds and argument orders must not change a byte.
        for seed, order in (("1", None), ("2", None), ("3", lambda p: list(reversed(p)))):
            env = dict(os.environ, PYTHONHASHSEED=seed)
            rc, err, outputs = run_gen(copy.deepcopy(files), env=env, order=order)
            self.assertEqual(rc, 0, err)
            self.assertEqual(sorted(outputs), sorted(OUTPUTS))
            runs.append(outputs)
        for other in runs[1:]:
            for name in OUTPUTS:
                self.assertEqual(runs[0][name], other[name], "%s differs between runs" % name)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].endswith(".py"):
        GEN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
