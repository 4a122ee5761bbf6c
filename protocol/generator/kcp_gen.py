#!/usr/bin/env python3
"""Generates C codecs from Kafka message specs.

Reads message specs written in Apache Kafka's JSON message-spec format
(clients/src/main/resources/common/message/*.json: apiKey, type, name,
validVersions, flexibleVersions, fields, commonStructs; `//` comments allowed)
and writes:

  kcp_messages.h         structs and size/encode/decode/validate/free functions
  kcp_messages.c         their definitions, on top of kcp_wire.h
  test_messages.c        cmocka tests: round trip, truncation and unknown
                         tags for every message x version

Python standard library only. Inputs are sorted and nothing depends on dict
order or time, so the output is byte-for-byte reproducible.

Usage: kcp_gen.py OUTDIR SPEC.json...
"""

import json
import os
import re
import sys

MAX_VERSION = 0x7FFF

PRIMITIVES = {
    # type: (C type, fixed wire size or None, default literal)
    "bool": ("bool", 1, "false"),
    "int8": ("int8_t", 1, "0"),
    "int16": ("int16_t", 2, "0"),
    "uint16": ("uint16_t", 2, "0"),
    "int32": ("int32_t", 4, "0"),
    "uint32": ("uint32_t", 4, "0"),
    "int64": ("int64_t", 8, "0"),
    "float64": ("double", 8, "0"),
    "uuid": ("kcp_uuid", 16, None),
    "string": ("kcp_str", None, None),
    "bytes": ("kcp_bytes", None, None),
    "records": ("kcp_bytes", None, None),
}
INT_LIMITS = {
    "int8": (-(1 << 7), (1 << 7) - 1),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "uint16": (0, (1 << 16) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "uint32": (0, (1 << 32) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
}
NULLABLE_TYPES = ("string", "bytes", "records")
# Types held as a view (ptr, len) into the decoded buffer.
VIEW_TYPES = ("string", "bytes", "records")
FIELD_KEYS = {"name", "type", "versions", "nullableVersions", "taggedVersions", "tag",
              "default", "ignorable", "mapKey", "entityType", "about", "fields",
              "zeroCopy", "flexibleVersions"}
TOP_KEYS = {"apiKey", "type", "name", "validVersions", "flexibleVersions", "fields",
            "commonStructs", "listeners", "latestVersionUnstable", "deprecatedVersions"}
C_KEYWORDS = {"default", "auto", "break", "case", "char", "const", "continue", "do",
              "double", "else", "enum", "extern", "float", "for", "goto", "if", "int",
              "long", "register", "return", "short", "signed", "sizeof", "static",
              "struct", "switch", "typedef", "union", "unsigned", "void", "volatile",
              "while", "bool", "inline", "restrict"}

# Kafka quirk (KIP-511): ApiVersions responses keep response header v0 in every
# version, so that a client can read the answer of a broker that does not know
# the version it asked for.
API_VERSIONS_KEY = 18


class SpecError(Exception):
    pass


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.lower()
    return s + "_" if s in C_KEYWORDS else s


def strip_comments(text):
    """Removes // comments outside JSON strings (Kafka's files carry them)."""
    out, i, n, in_str = [], 0, len(text), False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Versions:
    """An inclusive version range; empty when lo > hi."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text, where):
        if text is None:
            return None
        t = str(text).strip()
        if t == "none":
            return Versions(1, 0)
        m = re.fullmatch(r"(\d+)\+", t)
        if m:
            return Versions(int(m.group(1)), MAX_VERSION)
        m = re.fullmatch(r"(\d+)-(\d+)", t)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise SpecError("%s: version range %r is backwards" % (where, t))
            return Versions(lo, hi)
        m = re.fullmatch(r"\d+", t)
        if m:
            return Versions(int(t), int(t))
        raise SpecError("%s: cannot parse version range %r" % (where, t))

    def empty(self):
        return self.lo > self.hi

    def contains(self, v):
        return self.lo <= v <= self.hi

    def within(self, other):
        return self.empty() or (not other.empty() and other.lo <= self.lo and self.hi <= other.hi)

    def intersect(self, other):
        return Versions(max(self.lo, other.lo), min(self.hi, other.hi))

    def cond(self, valid, var="v"):
        """C condition for `var` in this range, given var is within valid."""
        r = self.intersect(valid)
        if r.empty():
            return "0"
        parts = []
        if r.lo > valid.lo:
            parts.append("%s >= %d" % (var, r.lo))
        if r.hi < valid.hi:
            parts.append("%s <= %d" % (var, r.hi))
        return " && ".join(parts) if parts else "1"


class Field:
    def __init__(self, spec, owner, raw, where):
        self.spec = spec
        unknown = set(raw) - FIELD_KEYS
        if unknown:
            raise SpecError("%s: unknown key(s) %s" % (where, ", ".join(sorted(unknown))))
        for key in ("name", "type", "versions"):
            if key not in raw:
                raise SpecError("%s: field has no %r" % (where, key))
        self.name = raw["name"]
        self.where = "%s field %s" % (spec.path, self.name if owner.top else owner.name + "." + self.name)
        self.errname = self.name if owner.top else owner.name + "." + self.name
        self.cname = snake(self.name)
        self.raw_type = raw["type"]
        self.is_array = self.raw_type.startswith("[]")
        self.base = self.raw_type[2:] if self.is_array else self.raw_type
        self.versions = Versions.parse(raw["versions"], self.where)
        self.nullable = Versions.parse(raw.get("nullableVersions"), self.where)
        self.tagged = Versions.parse(raw.get("taggedVersions"), self.where)
        self.tag = raw.get("tag")
        self.ignorable = bool(raw.get("ignorable", False))
        self.about = raw.get("about", "")
        self.default = raw.get("default")
        self.struct = None
        if self.base not in PRIMITIVES:
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", self.base):
                raise SpecError("%s: unknown type %r" % (self.where, self.raw_type))
            if "fields" in raw:
                self.struct = spec.add_struct(self.base, raw["fields"], self.versions, self.where)
            else:
                self.struct_ref = self.base  # resolved against commonStructs later
        elif "fields" in raw:
            raise SpecError("%s: primitive type %r cannot have fields" % (self.where, self.raw_type))
        self.validate(spec)

    def validate(self, spec):
        w = self.where
        valid = spec.valid
        v = self.versions
        if not v.empty() and (v.lo > valid.hi or (v.hi != MAX_VERSION and v.hi > valid.hi)):
            raise SpecError("%s: versions outside validVersions" % w)
        if self.nullable is not None and not self.nullable.empty():
            if not (self.is_array or self.base in NULLABLE_TYPES):
                raise SpecError("%s: nullableVersions set, but type %s cannot be null"
                                % (w, self.raw_type))
            if not self.nullable.within(self.versions):
                raise SpecError("%s: nullableVersions outside versions" % w)
        if (self.tag is None) != (self.tagged is None):
            raise SpecError("%s: tag and taggedVersions must be given together" % w)
        if self.tagged is not None:
            if not isinstance(self.tag, int) or self.tag < 0:
                raise SpecError("%s: tag must be a non-negative integer" % w)
            if not self.tagged.within(self.versions):
                raise SpecError("%s: taggedVersions outside versions" % w)
            if self.tagged.hi != MAX_VERSION:
                raise SpecError("%s: taggedVersions must be open-ended (N+)" % w)
            if spec.flexible is None or not self.tagged.within(spec.flexible):
                raise SpecError("%s: taggedVersions outside flexibleVersions" % w)
            if self.nullable is not None and not self.nullable.empty():
                both = self.nullable.intersect(self.tagged)
                if not both.empty() and (both.lo, both.hi) != (self.tagged.lo, self.tagged.hi):
                    raise SpecError("%s: a tagged field must be nullable in all its tagged "
                                    "versions or in none" % w)
        if self.default is not None:
            self.check_default()

    def check_default(self):
        d, w = str(self.default), self.where
        if d == "null":
            if self.nullable is None or not self.versions.within(self.nullable):
                raise SpecError("%s: default null, but not every version of the field is nullable" % w)
            return
        if self.is_array or self.struct is not None:
            raise SpecError("%s: arrays and structs take no default but null" % w)
        if self.base in INT_LIMITS:
            try:
                val = int(d, 0)
            except ValueError:
                raise SpecError("%s: default %r is not an integer" % (w, d))
            lo, hi = INT_LIMITS[self.base]
            if not lo <= val <= hi:
                raise SpecError("%s: default %s does not fit %s" % (w, d, self.base))
        elif self.base == "bool" and d not in ("true", "false"):
            raise SpecError("%s: default %r is not true or false" % (w, d))
        elif self.base == "float64":
            try:
                float(d)
            except ValueError:
                raise SpecError("%s: default %r is not a number" % (w, d))

    # --- C helpers --------------------------------------------------------
    def elem_ctype(self):
        if self.struct is not None:
            return self.struct.cname
        return PRIMITIVES[self.base][0]

    def default_expr(self):
        """C expression of the default of a scalar (non-array) field."""
        d = self.default
        if self.base in ("string",):
            if d == "null":
                return "KCP_STR_NULL"
            return "kcp_str_c(%s)" % json.dumps(d if d is not None else "")
        if self.base in ("bytes", "records"):
            return "KCP_BYTES_NULL" if d == "null" else "((kcp_bytes){NULL, 0})"
        if self.base == "bool":
            return d if d in ("true", "false") else "false"
        if self.base in INT_LIMITS:
            if d is None:
                return "0"
            val = int(str(d), 0)
            if self.base == "int64":
                return "INT64_C(%d)" % val if val != INT_LIMITS["int64"][0] else "INT64_MIN"
            if self.base == "uint32":
                return "%dU" % val
            if self.base == "int32" and val == INT_LIMITS["int32"][0]:
                return "INT32_MIN"
            return str(val)
        if self.base == "float64":
            return repr(float(d)) if d is not None else "0.0"
        return None


class Struct:
    def __init__(self, spec, name, raw_fields, versions, top=False):
        self.spec = spec
        self.name = name
        self.top = top
        self.versions = versions
        self.cname = spec.cprefix if top else "%s_%s" % (spec.cprefix, snake(name).rstrip("_"))
        self.raw_fields = raw_fields
        self.fields = []

    def build(self):
        seen_names, seen_tags = set(), {}
        for i, raw in enumerate(self.raw_fields):
            where = "%s struct %s field #%d" % (self.spec.path, self.name, i)
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                where = "%s field %s" % (self.spec.path, raw["name"] if self.top
                                         else self.name + "." + raw["name"])
            if not isinstance(raw, dict):
                raise SpecError("%s: not an object" % where)
            f = Field(self.spec, self, raw, where)
            if f.name in seen_names:
                raise SpecError("%s: duplicate field name" % f.where)
            seen_names.add(f.name)
            if f.tag is not None:
                if f.tag in seen_tags:
                    raise SpecError("%s: tag %d already used by %s" % (f.where, f.tag, seen_tags[f.tag]))
                seen_tags[f.tag] = f.name
            self.fields.append(f)

    def tagged_fields(self):
        return sorted((f for f in self.fields if f.tagged is not None), key=lambda f: f.tag)


class Spec:
    def __init__(self, path):
        self.path = os.path.basename(path)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        try:
            raw = json.loads(strip_comments(text))
        except json.JSONDecodeError as e:
            raise SpecError("%s: invalid JSON: %s" % (self.path, e))
        unknown = set(raw) - TOP_KEYS
        if unknown:
            raise SpecError("%s: unknown top-level key(s) %s" % (self.path, ", ".join(sorted(unknown))))
        for key in ("apiKey", "type", "name", "validVersions", "fields"):
            if key not in raw:
                raise SpecError("%s: missing %r" % (self.path, key))
        self.name = raw["name"]
        if self.name + ".json" != self.path:
            raise SpecError("%s: name %r does not match the file name" % (self.path, self.name))
        self.api_key = raw["apiKey"]
        if not isinstance(self.api_key, int) or not 0 <= self.api_key <= 0x7FFF:
            raise SpecError("%s: apiKey must be an integer 0..32767" % self.path)
        self.kind = raw["type"]
        if self.kind not in ("request", "response"):
            raise SpecError("%s: type must be request or response" % self.path)
        self.valid = Versions.parse(raw["validVersions"], self.path + " validVersions")
        if self.valid.empty():
            raise SpecError("%s: validVersions is empty" % self.path)
        self.flexible = Versions.parse(raw.get("flexibleVersions", "none"), self.path + " flexibleVersions")
        if self.flexible.empty():
            self.flexible = None
        elif self.flexible.hi != MAX_VERSION:
            raise SpecError("%s: flexibleVersions must be open-ended (N+)" % self.path)
        self.cprefix = "kcp_" + snake(self.name).rstrip("_")
        self.structs = []
        self.common = {}
        for cs in raw.get("commonStructs", []):
            st = Struct(self, cs["name"], cs["fields"], self.valid)
            self.common[cs["name"]] = st
        self.top = Struct(self, self.name, raw["fields"], self.valid, top=True)
        self.struct_names = {}
        self.top.build()
        for st in sorted(self.common.values(), key=lambda s: s.name):
            self.register(st)
            st.build()
        self.resolve(self.top)

    def register(self, st):
        if st.name in self.struct_names:
            raise SpecError("%s: struct %s defined twice" % (self.path, st.name))
        self.struct_names[st.name] = st
        self.structs.append(st)

    def add_struct(self, name, raw_fields, versions, where):
        if name in self.common:
            raise SpecError("%s: struct %s is also a common struct" % (where, name))
        st = Struct(self, name, raw_fields, versions)
        self.register(st)
        st.build()
        return st

    def resolve(self, top):
        """Points every field whose type names a common struct at it."""
        for st in [top] + self.structs:
            for f in st.fields:
                if f.struct is None and f.base not in PRIMITIVES:
                    if f.base not in self.common:
                        raise SpecError("%s: type %s is neither defined inline nor in commonStructs"
                                        % (f.where, f.base))
                    f.struct = self.common[f.base]

    def flex_cond(self, var="v"):
        if self.flexible is None:
            return "0"
        return Versions(self.flexible.lo, MAX_VERSION).cond(self.valid, var)

    def is_flex(self, v):
        return self.flexible is not None and self.flexible.contains(v)

    def all_structs(self):
        """Nested structs in dependency order (children before parents)."""
        order, seen = [], set()

        def visit(st):
            if st.name in seen:
                return
            seen.add(st.name)
            for f in st.fields:
                if f.struct is not None:
                    visit(f.struct)
            order.append(st)

        for st in self.structs:
            visit(st)
        return order


class Out:
    def __init__(self):
        self.lines = []

    def __call__(self, text=""):
        self.lines.append(text)

    def text(self):
        return "\n".join(self.lines) + "\n"

    def function(self, signature, *body):
        """A C function definition, body lines indented once, then a blank line."""
        self(signature)
        self("{")
        for line in body:
            self("    " + line)
        self("}")
        self()


def c_comment(text):
    return text.replace("*/", "* /")


# ---------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------

def emit_struct_def(o, spec, st):
    o("/* %s%s */" % (st.name, "" if st.top else " (in %s)" % spec.name))
    o("typedef struct %s {" % st.cname)
    for f in st.fields:
        about = " /* %s: %s */" % (f.name, c_comment(f.about)) if f.about else " /* %s */" % f.name
        if f.is_array:
            o("    struct {")
            o("        int32_t n; /* element count; -1 = null */")
            o("        %s *v;" % f.elem_ctype())
            o("    } %s;%s" % (f.cname, about))
        else:
            o("    %s %s;%s" % (f.elem_ctype(), f.cname, about))
    if spec.flexible is not None:
        o("    kcp_raw_tags unknown_tags; /* tagged fields this code does not know */")
    if st.top:
        o("    kcp_arena arena; /* owns decoded arrays; freed by %s_free() */" % st.cname)
    o("} %s;" % st.cname)
    o()


def emit_header(specs):
    o = Out()
    o("/* Generated by protocol/generator/kcp_gen.py from the JSON specs in protocol/messages/.")
    o(" * Do not edit. Specs follow Apache Kafka's JSON message-spec format. */")
    o("#ifndef KCP_MESSAGES_H")
    o("#define KCP_MESSAGES_H")
    o()
    o('#include "kcp_wire.h"')
    o()
    o("#ifdef __cplusplus")
    o('extern "C" {')
    o("#endif")
    o()
    o("/* Called by the _views() functions on one string or bytes view (ptr,")
    o(" * len; len < 0 for null); returns the pointer the view is to hold. */")
    o("typedef const void *(*kcp_view_fn)(void *opaque, const void *ptr, int32_t len);")
    o()
    apis = api_list(specs)
    o("/* APIs known to this build, in apiKey order. */")
    o("typedef enum kcp_api_id {")
    for i, (name, req, resp) in enumerate(apis):
        o("    KCP_API_%s = %d," % (snake(name).upper(), i))
    o("    KCP_API__COUNT = %d" % len(apis))
    o("} kcp_api_id;")
    o()
    for name, req, resp in apis:
        o("#define KCP_API_KEY_%s %d" % (snake(name).upper(), req.api_key))
    o()
    o("typedef struct kcp_api_info {")
    o("    const char *name;      /* Kafka's name, e.g. \"ApiVersions\" */")
    o("    int16_t api_key;       /* the spec's apiKey (a host may override it) */")
    o("    int16_t min_version;")
    o("    int16_t max_version;")
    o("    int16_t flexible_from; /* first flexible version, -1 if none */")
    o("} kcp_api_info;")
    o()
    o("/* Static description of an API; id must be below KCP_API__COUNT. */")
    o("const kcp_api_info *kcp_api_info_get(kcp_api_id id);")
    o("/* Finds an API by its spec apiKey; returns -1 when unknown. */")
    o("int kcp_api_id_for_key(int16_t api_key);")
    o("/* Request header version (1 or 2) for a version of an API. */")
    o("int16_t kcp_api_request_header_version(kcp_api_id id, int16_t version);")
    o("/* Response header version (0 or 1); ApiVersions always uses 0 (KIP-511). */")
    o("int16_t kcp_api_response_header_version(kcp_api_id id, int16_t version);")
    o()
    for spec in specs:
        o("/* ---- %s: apiKey %d, versions %d-%d, flexible %s ---- */"
          % (spec.name, spec.api_key, spec.valid.lo, spec.valid.hi,
             "%d+" % spec.flexible.lo if spec.flexible else "never"))
        o("#define %s_MIN_VERSION %d" % (spec.cprefix.upper(), spec.valid.lo))
        o("#define %s_MAX_VERSION %d" % (spec.cprefix.upper(), spec.valid.hi))
        o()
        for st in spec.all_structs():
            emit_struct_def(o, spec, st)
        emit_struct_def(o, spec, spec.top)
        p = spec.cprefix
        for st in spec.all_structs():
            o("/* Sets every field of a %s to its default. */" % st.name)
            o("void %s_init(%s *s);" % (st.cname, st.cname))
            # Exported so that a producer of a large array can encode its
            # elements one at a time and splice them into the encoded parent.
            o("/* Exact encoded size of one %s at version, as inside its parent. */" % st.name)
            o("size_t %s_size(const %s *s, int16_t version);" % (st.cname, st.cname))
            o("/* Writes one %s at version (a valid one of %s, unchecked); errors" % (st.name, spec.name))
            o(" * stick in w->err. Does not validate. */")
            o("void %s_encode(kcp_writer *w, const %s *s, int16_t version);" % (st.cname, st.cname))
        o("/* Sets every field to its default; the message owns nothing yet. */")
        o("void %s_init(%s *m);" % (p, p))
        o("/* Frees what decoding (or kcp_arena_alloc on m->arena) allocated. */")
        o("void %s_free(%s *m);" % (p, p))
        o("/* Exact encoded size of m at version (body only, no header). */")
        o("size_t %s_size(const %s *m, int16_t version);" % (p, p))
        o("/* Writes m at version; returns 0 or a kcp_err (w->err on overflow).")
        o(" * Does not validate: call %s_validate() on untrusted input. */" % p)
        o("int %s_encode(kcp_writer *w, const %s *m, int16_t version);" % (p, p))
        o("/* Decodes into m (initialised here); strings and bytes are views into")
        o(" * r's buffer, arrays live in m->arena. Always call %s_free(m)." % p)
        o(" * Returns 0, or a kcp_err with r->errstr naming the field and offset. */")
        o("int %s_decode(kcp_reader *r, %s *m, int16_t version);" % (p, p))
        o("/* Like %s_decode(), for a message decoded (or initialised) before:" % p)
        o(" * its arena's memory is reused instead of freed, and every view into")
        o(" * the earlier message becomes invalid. Still call %s_free(m) at the end. */" % p)
        o("int %s_decode_reuse(kcp_reader *r, %s *m, int16_t version);" % (p, p))
        o("/* Checks that m can be encoded at version: nulls only where nullable,")
        o(" * no non-default value in a field the version lacks. 0 or a kcp_err. */")
        o("int %s_validate(const %s *m, int16_t version, char *errstr, size_t errstr_size);" % (p, p))
        o("/* Calls fn on every string and bytes view of m, nested ones and unknown")
        o(" * tagged fields included, and stores what it returns: e.g. to move the")
        o(" * views out of the buffer m was decoded from before that buffer goes. */")
        o("void %s_views(%s *m, kcp_view_fn fn, void *opaque);" % (p, p))
        o()
    o("/* Generic access to every message, for fuzzing and tests. */")
    o("typedef struct kcp_message_desc {")
    o("    const char *name;")
    o("    kcp_api_id api;")
    o("    bool is_request;")
    o("    int16_t min_version, max_version;")
    o("    size_t struct_size;")
    o("    void (*init)(void *m);")
    o("    void (*free)(void *m);")
    o("    size_t (*size)(const void *m, int16_t version);")
    o("    int (*encode)(kcp_writer *w, const void *m, int16_t version);")
    o("    int (*decode)(kcp_reader *r, void *m, int16_t version);")
    o("} kcp_message_desc;")
    o()
    o("extern const kcp_message_desc kcp_messages[];")
    o("extern const size_t kcp_messages_count;")
    o()
    o("#ifdef __cplusplus")
    o("}")
    o("#endif")
    o("#endif")
    return o.text()


def api_list(specs):
    by_name = {}
    for s in specs:
        base = s.name[:-len("Request")] if s.kind == "request" else s.name[:-len("Response")]
        if not (s.name.endswith("Request") or s.name.endswith("Response")):
            raise SpecError("%s: message name must end in Request or Response" % s.path)
        by_name.setdefault(base, {})[s.kind] = s
    apis = []
    for base, pair in by_name.items():
        if set(pair) != {"request", "response"}:
            raise SpecError("%s: needs both a request and a response spec" % base)
        req, resp = pair["request"], pair["response"]
        if req.api_key != resp.api_key:
            raise SpecError("%s: request and response apiKey differ" % base)
        if (req.valid.lo, req.valid.hi) != (resp.valid.lo, resp.valid.hi):
            raise SpecError("%s: request and response validVersions differ" % base)
        if (req.flexible.lo if req.flexible else None) != (resp.flexible.lo if resp.flexible else None):
            raise SpecError("%s: request and response flexibleVersions differ" % base)
        apis.append((base, req, resp))
    apis.sort(key=lambda a: a[1].api_key)
    keys = [a[1].api_key for a in apis]
    if len(set(keys)) != len(keys):
        raise SpecError("two APIs share an apiKey")
    return apis


# ---------------------------------------------------------------------------
# Codec
# ---------------------------------------------------------------------------

def min_wire_size(spec, f, depth=0):
    """Smallest encoding of one element of field f's type in any valid
    version: the bound used to refuse array counts before allocating."""
    if f.struct is None:
        size = PRIMITIVES[f.base][1]
        return size if size is not None else 1  # a compact null or empty length
    if depth > 8:
        return 1
    best = None
    for v in range(spec.valid.lo, spec.valid.hi + 1):
        if not f.versions.contains(v):
            continue  # the array is never read in this version
        total = 1 if spec.is_flex(v) else 0  # the element's tagged-field count
        for g in f.struct.fields:
            if g.versions.contains(v) and not (g.tagged and g.tagged.contains(v)):
                total += 1 if g.is_array else min_wire_size(spec, g, depth + 1)
        best = total if best is None else min(best, total)
    return max(1, best or 0)


class CodecEmitter:
    def __init__(self, spec, o):
        self.spec, self.o = spec, o
        self.valid = spec.valid

    def ver(self, vr):
        return vr.cond(self.valid)

    def nullable_cond(self, f):
        if f.nullable is None or f.nullable.empty():
            return "false"
        c = self.ver(f.nullable)
        return "true" if c == "1" else "(%s)" % c

    def flex(self):
        c = self.spec.flex_cond()
        return {"0": "false", "1": "true"}.get(c, "(%s)" % c)

    def tag_cond(self, f, acc):
        """C condition for writing tagged field f (value at acc): a version
        that tags it, and a value other than its default, which KIP-482
        leaves out."""
        return "(%s) && (%s)" % (self.ver(f.tagged), self.tag_present(f, acc))

    def emit_fields(self, st, emit_value, decls=(), unused=()):
        """The common start of the size, write and read functions: the flex
        flag and the function's other locals, then every field the body
        (not the tagged section) holds in some version, under the condition
        of those versions. emit_value(f, acc, indent, flex) emits one field;
        unused names what a struct without fields never reads."""
        o = self.o
        o("    const bool flex = %s;" % self.flex())
        for d in decls:
            o("    " + d)
        for name in ("flex",) + unused:
            o("    (void)%s;" % name)
        for f in st.fields:
            c = self.ver(f.versions)
            if c == "0":
                continue
            tc = self.ver(f.tagged) if f.tagged is not None else "0"
            cond = c if tc == "0" else "(%s) && !(%s)" % (c, tc)
            o("    if (%s) { /* %s */" % (cond, f.name))
            emit_value(f, "m->" + f.cname, 8, "flex")
            o("    }")

    # ---- init ------------------------------------------------------------
    def emit_init(self, st):
        """X_init zeroes and sets defaults; X_set_defaults sets only the
        defaults that are not zero, for memory known to be zeroed (arena
        allocations), so decoding a large array does not clear it twice."""
        o = self.o
        o("static void %s_set_defaults(%s *s)" % (st.cname, st.cname))
        o("{")
        o("    (void)s;")
        for f in st.fields:
            if f.is_array:
                if f.default == "null":
                    o("    s->%s.n = -1;" % f.cname)
            elif f.struct is not None:
                o("    %s_set_defaults(&s->%s);" % (f.struct.cname, f.cname))
            else:
                d = f.default_expr()
                if d not in (None, "0", "false", "0.0", "((kcp_bytes){NULL, 0})"):
                    o("    s->%s = %s;" % (f.cname, d))
                elif f.base == "string":
                    o("    s->%s = %s;" % (f.cname, d))
        o("}")
        o()
        o("void %s_init(%s *s)" % (st.cname, st.cname))
        o("{")
        o("    memset(s, 0, sizeof *s);")
        o("    %s_set_defaults(s);" % st.cname)
        o("}")
        o()

    # ---- size ------------------------------------------------------------
    def scalar_size(self, f, expr, flex):
        if f.struct is not None:
            return "%s_size_v(&%s, v)" % (f.struct.cname, expr)
        size = PRIMITIVES[f.base][1]
        if size is not None:
            return str(size)
        if f.base == "string":
            return "kcp_string_size(%s, %s)" % (flex, expr)
        return "kcp_bytes_size(%s, %s)" % (flex, expr)

    def value_size(self, f, acc, indent, flex):
        """Lines adding the size of field f (value expression acc) to `s`."""
        o, pad = self.o, " " * indent
        if not f.is_array:
            o("%ss += %s;" % (pad, self.scalar_size(f, acc, flex)))
            return
        o("%ss += kcp_len32_size(%s, %s.n);" % (pad, flex, acc))
        fixed = PRIMITIVES.get(f.base, (None, None))[1] if f.struct is None else None
        if fixed is not None:
            o("%sif (%s.n > 0) s += (size_t)%s.n * %d;" % (pad, acc, acc, fixed))
        else:
            o("%sfor (int32_t i = 0; i < %s.n; i++)" % (pad, acc))
            o("%s    s += %s;" % (pad, self.scalar_size(f, acc + ".v[i]", flex)))

    def tag_present(self, f, acc):
        if f.is_array:
            return "%s.n != %s" % (acc, "-1" if f.default == "null" else "0")
        if f.struct is not None:
            return "1"
        if f.base == "string":
            return "!kcp_str_eq(%s, %s)" % (acc, f.default_expr())
        if f.base in ("bytes", "records"):
            return "!kcp_bytes_eq(%s, %s)" % (acc, f.default_expr())
        if f.base == "uuid":
            return "memcmp(%s.b, (uint8_t[16]){0}, 16) != 0" % acc
        return "%s != %s" % (acc, f.default_expr())

    def emit_size(self, st):
        o, spec = self.o, self.spec
        o("static size_t %s_size_v(const %s *m, int16_t v)" % (st.cname, st.cname))
        o("{")
        self.emit_fields(st, self.value_size, decls=("size_t s = 0;",), unused=("m", "v"))
        if spec.flexible is not None:
            o("    if (flex) {")
            o("        uint32_t count = m->unknown_tags.n;")
            for f in st.tagged_fields():
                acc = "m->" + f.cname
                o("        if (%s) {" % self.tag_cond(f, acc))
                o("            size_t s0 = s;")
                self.value_size(f, acc, 12, "true")
                o("            s += kcp_uvarint_size(%d) + kcp_uvarint_size((uint32_t)(s - s0));" % f.tag)
                o("            count++;")
                o("        }")
            o("        s += kcp_uvarint_size(count);")
            o("        if (m->unknown_tags.n)")
            o("            s += kcp_raw_tags_size(&m->unknown_tags);")
            o("    }")
        o("    return s;")
        o("}")
        o()

    # ---- write -----------------------------------------------------------
    def scalar_write(self, f, expr, flex, pad):
        o = self.o
        if f.struct is not None:
            self.synced_call("%s_write(wp, &%s, v);" % (f.struct.cname, expr), pad)
        elif f.base == "string":
            o("%skcp_write_string(w, %s, %s);" % (pad, flex, expr))
        elif f.base in ("bytes", "records"):
            o("%skcp_write_bytes(w, %s, %s);" % (pad, flex, expr))
        elif f.base == "uuid":
            o("%skcp_write_uuid(w, &%s);" % (pad, expr))
        else:
            o("%skcp_write_%s(w, %s);" % (pad, f.base, expr))

    def value_write(self, f, acc, indent, flex):
        o, pad = self.o, " " * indent
        if not f.is_array:
            self.scalar_write(f, acc, flex, pad)
            return
        o("%skcp_write_array_len(w, %s, %s.n);" % (pad, flex, acc))
        o("%sfor (int32_t i = 0; i < %s.n; i++) {" % (pad, acc))
        self.scalar_write(f, acc + ".v[i]", flex, pad + "    ")
        o("%s}" % pad)

    def synced_call(self, call, pad):
        """A call that is not inlined gets the caller's writer, brought up to
        date before and read back after (see emit_write)."""
        o = self.o
        o("%s*wp = wl;" % pad)
        o("%s%s" % (pad, call))
        o("%swl = *wp;" % pad)

    def emit_write(self, st):
        o, spec = self.o, self.spec
        o("static void %s_write(kcp_writer *wp, const %s *m, int16_t v)" % (st.cname, st.cname))
        o("{")
        o("    /* A local copy of the writer: the bytes written could alias *wp, so")
        o("     * writing through wp would reload pos and cap after every store. */")
        o("    kcp_writer wl = *wp, *const w = &wl;")
        self.emit_fields(st, self.value_write, unused=("w", "m", "v"))
        if spec.flexible is not None:
            tagged = st.tagged_fields()
            o("    if (flex) {")
            o("        uint32_t count = m->unknown_tags.n, next = 0;")
            for f in tagged:
                o("        if (%s)" % self.tag_cond(f, "m->" + f.cname))
                o("            count++;")
            o("        kcp_write_uvarint(w, count);")
            for f in tagged:
                acc = "m->" + f.cname
                o("        if (next < m->unknown_tags.n) {")
                self.synced_call("kcp_raw_tags_write_below(wp, &m->unknown_tags, &next, %d);" % f.tag, " " * 12)
                o("        }")
                o("        if (%s) { /* %s, tag %d */" % (self.tag_cond(f, acc), f.name, f.tag))
                o("            size_t s = 0;")
                self.value_size(f, acc, 12, "true")
                o("            kcp_write_uvarint(w, %d);" % f.tag)
                o("            kcp_write_uvarint(w, (uint32_t)s);")
                self.value_write(f, acc, 12, "true")
                o("        }")
            o("        if (next < m->unknown_tags.n) {")
            self.synced_call("kcp_raw_tags_write_below(wp, &m->unknown_tags, &next, UINT64_MAX);", " " * 12)
            o("        }")
            o("    }")
        o("    *wp = wl;")
        o("}")
        o()

    # ---- read ------------------------------------------------------------
    def scalar_read(self, f, expr, flex, nullable, pad, zeroed=False):
        o = self.o
        name = json.dumps(f.errname)
        if f.struct is not None:
            o("%s%s_%s(&%s);" % (pad, f.struct.cname, "set_defaults" if zeroed else "init", expr))
            call = "%s_read(r, a, &%s, v)" % (f.struct.cname, expr)
        elif f.base in NULLABLE_TYPES:
            call = "kcp_read_%s(r, %s, %s, %s, &%s)" % (
                "string" if f.base == "string" else "bytes", name, flex, nullable, expr)
        else:
            call = "kcp_read_%s(r, %s, &%s)" % (f.base, name, expr)
        o("%sif (%s)" % (pad, call))
        o("%s    return r->err;" % pad)

    def value_read(self, f, acc, indent, flex):
        o, pad = self.o, " " * indent
        nullable = self.nullable_cond(f)
        if not f.is_array:
            self.scalar_read(f, acc, flex, "false" if f.struct else nullable, pad)
            return
        name = json.dumps(f.errname)
        o("%sif (kcp_read_array_len(r, %s, %s, %s, %d, &%s.n))"
          % (pad, name, flex, nullable, min_wire_size(self.spec, f), acc))
        o("%s    return r->err;" % pad)
        o("%sif (%s.n > 0) {" % (pad, acc))
        o("%s    %s.v = kcp_arena_alloc(a, (size_t)%s.n * sizeof *%s.v);" % (pad, acc, acc, acc))
        o("%s    if (!%s.v)" % (pad, acc))
        o('%s        return kcp_reader_fail(r, KCP_ERR_NOMEM, %s, "out of memory for %%d elements", (int)%s.n);'
          % (pad, name, acc))
        o("%s    for (int32_t i = 0; i < %s.n; i++) {" % (pad, acc))
        # kcp_arena_alloc returns zeroed memory: only non-zero defaults remain.
        self.scalar_read(f, acc + ".v[i]", flex, "false", pad + "        ", zeroed=True)
        o("%s    }" % pad)
        o("%s}" % pad)

    def emit_read(self, st):
        o, spec = self.o, self.spec
        # restrict: stores into m (int8_t fields may alias anything) would
        # otherwise make the compiler reload the reader's position after each.
        o("static int %s_read(kcp_reader *restrict r, kcp_arena *a, %s *restrict m, int16_t v)" % (st.cname, st.cname))
        o("{")
        self.emit_fields(st, self.value_read, unused=("a", "m", "v"))
        if spec.flexible is not None:
            tagged = st.tagged_fields()
            section = json.dumps(("" if st.top else st.name + ".") + "_tagged_fields")
            o("    if (flex) {")
            o("        uint32_t count, prev = 0;")
            o("        if (kcp_read_uvarint(r, %s, &count))" % section)
            o("            return r->err;")
            o("        if (count > kcp_reader_left(r) / 2)")
            o('            return kcp_reader_fail(r, KCP_ERR_LENGTH, %s, "%%u tagged fields cannot fit in the %%zu bytes left", (unsigned)count, kcp_reader_left(r));' % section)
            o("        for (uint32_t t = 0; t < count; t++) {")
            o("            uint32_t tag, size;")
            o("            if (kcp_read_tag_header(r, %s, &tag, &size))" % section)
            o("                return r->err;")
            o("            if (t > 0 && tag <= prev)")
            o('                return kcp_reader_fail(r, KCP_ERR_TAGS, %s, "tag %%u follows tag %%u", (unsigned)tag, (unsigned)prev);' % section)
            o("            prev = tag;")
            if tagged:
                o("            switch (tag) {")
                for f in tagged:
                    o("            case %d: /* %s */" % (f.tag, f.name))
                    o("                if (%s) {" % self.ver(f.tagged))
                    o("                    kcp_reader sub;")
                    o("                    kcp_reader_sub(r, &sub, size);")
                    # Always join: it carries the sub-reader's error out.
                    o("                    %s_read_tag%d(&sub, a, m, v);" % (st.cname, f.tag))
                    o("                    if (kcp_reader_join(r, &sub, %s))" % json.dumps(f.errname))
                    o("                        return r->err;")
                    o("                    continue;")
                    o("                }")
                    o("                break;")
                o("            default:")
                o("                break;")
                o("            }")
            o("            kcp_bytes data;")
            o("            if (kcp_read_skip(r, %s, size, &data) || kcp_raw_tags_add(r, a, &m->unknown_tags, tag, data))" % section)
            o("                return r->err;")
            o("        }")
            o("    }")
        o("    return 0;")
        o("}")
        o()

    def emit_tag_readers(self, st):
        """One reader per known tagged field, run on a sub-reader of its size."""
        o = self.o
        for f in st.tagged_fields():
            o("static int %s_read_tag%d(kcp_reader *r, kcp_arena *a, %s *m, int16_t v)"
              % (st.cname, f.tag, st.cname))
            o("{")
            o("    (void)a;")
            o("    (void)v;")
            self.value_read(f, "m->" + f.cname, 4, "true")
            o("    return 0;")
            o("}")
            o()

    # ---- validate --------------------------------------------------------
    def emit_views(self, st):
        """Every view of st, whatever the version: fields a version lacks
        hold their defaults, which fn sees like any other view."""
        o = self.o
        o("static void %s_visit(%s *m, kcp_view_fn fn, void *opaque)" % (st.cname, st.cname))
        o("{")
        o("    (void)m; (void)fn; (void)opaque;")
        for f in st.fields:
            acc = "m->" + f.cname
            if f.is_array and (f.struct is not None or f.base in VIEW_TYPES):
                o("    for (int32_t i = 0; i < %s.n; i++)" % acc)
                if f.struct is not None:
                    o("        %s_visit(&%s.v[i], fn, opaque);" % (f.struct.cname, acc))
                else:
                    o("        %s.v[i].ptr = fn(opaque, %s.v[i].ptr, %s.v[i].len);" % (acc, acc, acc))
            elif f.struct is not None:
                o("    %s_visit(&%s, fn, opaque);" % (f.struct.cname, acc))
            elif f.base in VIEW_TYPES and not f.is_array:
                o("    %s.ptr = fn(opaque, %s.ptr, %s.len);" % (acc, acc, acc))
        if self.spec.flexible is not None:
            o("    for (uint32_t i = 0; i < m->unknown_tags.n; i++)")
            o("        m->unknown_tags.v[i].data.ptr = fn(opaque, m->unknown_tags.v[i].data.ptr,")
            o("                                           m->unknown_tags.v[i].data.len);")
        o("}")
        o()

    def emit_validate(self, st):
        o = self.o
        o("static int %s_check(const %s *m, int16_t v, char *errstr, size_t errstr_size)"
          % (st.cname, st.cname))
        o("{")
        o("    (void)m; (void)v; (void)errstr; (void)errstr_size;")
        for f in st.fields:
            acc = "m->" + f.cname
            c = self.ver(f.versions)
            name = f.errname

            def fail(pad, err, why):
                o('%sreturn check_fail(errstr, errstr_size, %s, "%s", v, "%s");' % (pad, err, name, why))

            if c != "0":
                o("    if (%s) {" % c)
                if f.is_array or f.base in NULLABLE_TYPES:
                    o("        if (%s.%s < 0 && !(%s))" % (acc, "n" if f.is_array else "len",
                                                          self.nullable_cond(f)))
                    fail(" " * 12, "KCP_ERR_NULL", "is null")
                if f.is_array:
                    o("        if (%s.n > 0 && !%s.v)" % (acc, acc))
                    fail(" " * 12, "KCP_ERR_NULL", "has elements but no storage")
                    if f.struct is not None:
                        o("        for (int32_t i = 0; i < %s.n; i++)" % acc)
                        o("            if (%s_check(&%s.v[i], v, errstr, errstr_size))" % (f.struct.cname, acc))
                        o("                return KCP_ERR_UNSUPPORTED;")
                    elif f.base == "string":
                        o("        for (int32_t i = 0; i < %s.n; i++)" % acc)
                        o("            if (%s.v[i].len < 0 || %s.v[i].len > INT16_MAX)" % (acc, acc))
                        fail(" " * 16, "KCP_ERR_LENGTH", "holds a null or over-long string")
                elif f.struct is not None:
                    o("        if (%s_check(&%s, v, errstr, errstr_size))" % (f.struct.cname, acc))
                    o("            return KCP_ERR_UNSUPPORTED;")
                elif f.base == "string":
                    o("        if (%s.len > INT16_MAX)" % acc)
                    fail(" " * 12, "KCP_ERR_LENGTH", "is longer than 32767 bytes")
                o("    }")
            # A single struct has no default to compare with: it is never
            # refused for being set.
            if not f.ignorable and c != "1" and (f.is_array or f.struct is None):
                absent = "!(%s)" % c if c != "0" else "1"
                o("    if (%s && (%s))" % (absent, self.tag_present(f, acc)))
                fail(" " * 8, "KCP_ERR_UNSUPPORTED", "is set, but this version does not have it")
        o("    return 0;")
        o("}")
        o()


def emit_source(specs):
    o = Out()
    o("/* Generated by protocol/generator/kcp_gen.py from the JSON specs in protocol/messages/.")
    o(" * Do not edit. */")
    o('#include "kcp_messages.h"')
    o()
    o("#include <stdio.h>")
    o("#include <stdlib.h>")
    o()
    o.function("static int check_fail(char *errstr, size_t errstr_size, int err, const char *field, int16_t v, const char *why)",
               "if (errstr && errstr_size)",
               '    snprintf(errstr, errstr_size, "field %s %s in version %d", field, why, (int)v);',
               "return err;")
    apis = api_list(specs)
    o("static const kcp_api_info api_table[KCP_API__COUNT] = {")
    for name, req, resp in apis:
        o('    {"%s", %d, %d, %d, %d},' % (name, req.api_key, req.valid.lo, req.valid.hi,
                                          req.flexible.lo if req.flexible else -1))
    o("};")
    o()
    o.function("const kcp_api_info *kcp_api_info_get(kcp_api_id id)",
               "return (unsigned)id < KCP_API__COUNT ? &api_table[id] : NULL;")
    o.function("int kcp_api_id_for_key(int16_t api_key)",
               "for (int i = 0; i < KCP_API__COUNT; i++)",
               "    if (api_table[i].api_key == api_key)",
               "        return i;",
               "return -1;")
    o.function("static bool api_flexible(kcp_api_id id, int16_t version)",
               "const kcp_api_info *a = kcp_api_info_get(id);",
               "return a && a->flexible_from >= 0 && version >= a->flexible_from;")
    o.function("int16_t kcp_api_request_header_version(kcp_api_id id, int16_t version)",
               "return api_flexible(id, version) ? 2 : 1;")
    o.function("int16_t kcp_api_response_header_version(kcp_api_id id, int16_t version)",
               "const kcp_api_info *a = kcp_api_info_get(id);",
               "if (a && a->api_key == %d) /* ApiVersions: header v0 always (KIP-511) */" % API_VERSIONS_KEY,
               "    return 0;",
               "return api_flexible(id, version) ? 1 : 0;")
    for spec in specs:
        o("/* ======== %s ======== */" % spec.name)
        o()
        em = CodecEmitter(spec, o)
        structs = spec.all_structs() + [spec.top]
        o("static int %s_decode_into(kcp_reader *r, %s *m, int16_t version);" % (spec.cprefix, spec.cprefix))
        for st in structs:
            o("static size_t %s_size_v(const %s *m, int16_t v);" % (st.cname, st.cname))
            o("static void %s_write(kcp_writer *w, const %s *m, int16_t v);" % (st.cname, st.cname))
            o("static int %s_read(kcp_reader *restrict r, kcp_arena *a, %s *restrict m, int16_t v);" % (st.cname, st.cname))
            o("static int %s_check(const %s *m, int16_t v, char *errstr, size_t errstr_size);" % (st.cname, st.cname))
            o("static void %s_visit(%s *m, kcp_view_fn fn, void *opaque);" % (st.cname, st.cname))
        o()
        for st in structs:
            em.emit_init(st)
            em.emit_size(st)
            em.emit_write(st)
            em.emit_tag_readers(st)
            em.emit_read(st)
            em.emit_validate(st)
            em.emit_views(st)
        for st in spec.all_structs():
            o.function("size_t %s_size(const %s *s, int16_t version)" % (st.cname, st.cname),
                       "return %s_size_v(s, version);" % st.cname)
            o.function("void %s_encode(kcp_writer *w, const %s *s, int16_t version)" % (st.cname, st.cname),
                       "%s_write(w, s, version);" % st.cname)
        p = spec.cprefix
        lo, hi = spec.valid.lo, spec.valid.hi
        outside = "if (version < %d || version > %d)" % (lo, hi)
        o.function("void %s_free(%s *m)" % (p, p),
                   "kcp_arena_free(&m->arena);")
        o.function("size_t %s_size(const %s *m, int16_t version)" % (p, p),
                   "return %s_size_v(m, version);" % p)
        o.function("int %s_encode(kcp_writer *w, const %s *m, int16_t version)" % (p, p),
                   outside,
                   "    return KCP_ERR_VERSION;",
                   "%s_write(w, m, version);" % p,
                   "return w->err;")
        o.function("int %s_decode(kcp_reader *r, %s *m, int16_t version)" % (p, p),
                   "%s_init(m);" % p,
                   "return %s_decode_into(r, m, version);" % p)
        o.function("int %s_decode_reuse(kcp_reader *r, %s *m, int16_t version)" % (p, p),
                   "kcp_arena kept = m->arena;",
                   "kcp_arena_reset(&kept);",
                   "%s_init(m);" % p,
                   "m->arena = kept;",
                   "return %s_decode_into(r, m, version);" % p)
        o("/* Decodes into m, already initialised with an empty or reset arena. */")
        o.function("static int %s_decode_into(kcp_reader *r, %s *m, int16_t version)" % (p, p),
                   "static const char *const names[] = {%s};"
                   % ", ".join('"%s v%d"' % (spec.name, v) for v in range(lo, hi + 1)),
                   outside,
                   '    return kcp_reader_fail(r, KCP_ERR_VERSION, "%s", "version %%d is outside %d-%d", (int)version);'
                   % (spec.name, lo, hi),
                   "r->what = names[version - %d];" % lo,
                   "return %s_read(r, &m->arena, m, version);" % p)
        o.function("void %s_views(%s *m, kcp_view_fn fn, void *opaque)" % (p, p),
                   "%s_visit(m, fn, opaque);" % p)
        o.function("int %s_validate(const %s *m, int16_t version, char *errstr, size_t errstr_size)" % (p, p),
                   outside,
                   '    return check_fail(errstr, errstr_size, KCP_ERR_VERSION, "%s", version, "is outside the valid versions");' % spec.name,
                   "return %s_check(m, version, errstr, errstr_size);" % p)
        for fn, sig in (("init", "void *m"), ("free", "void *m")):
            o("static void %s_g_%s(%s) { %s_%s(m); }" % (p, fn, sig, p, fn))
        o("static size_t %s_g_size(const void *m, int16_t v) { return %s_size(m, v); }" % (p, p))
        o("static int %s_g_encode(kcp_writer *w, const void *m, int16_t v) { return %s_encode(w, m, v); }" % (p, p))
        o("static int %s_g_decode(kcp_reader *r, void *m, int16_t v) { return %s_decode(r, m, v); }" % (p, p))
        o()
    o("const kcp_message_desc kcp_messages[] = {")
    for name, req, resp in apis:
        for spec in (req, resp):
            p = spec.cprefix
            o('    {"%s", KCP_API_%s, %s, %d, %d, sizeof(%s), %s_g_init, %s_g_free, %s_g_size, %s_g_encode, %s_g_decode},'
              % (spec.name, snake(name).upper(), "true" if spec.kind == "request" else "false",
                 spec.valid.lo, spec.valid.hi, p, p, p, p, p, p))
    o("};")
    o("const size_t kcp_messages_count = sizeof kcp_messages / sizeof kcp_messages[0];")
    return o.text()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: kcp_gen.py OUTDIR SPEC.json...\n")
        return 2
    outdir = argv[1]
    try:
        specs = [Spec(p) for p in sorted(argv[2:], key=os.path.basename)]
        header = emit_header(specs)
        source = emit_source(specs)
        from kcp_gen_tests import emit_tests
        tests = emit_tests(specs)
    except SpecError as e:
        sys.stderr.write("kcp_gen: error: %s\n" % e)
        return 1
    for name, text in (("kcp_messages.h", header), ("kcp_messages.c", source),
                       ("test_messages.c", tests)):
        path = os.path.join(outdir, name)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv))
