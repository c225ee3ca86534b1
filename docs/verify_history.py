#!/usr/bin/env python3
"""Verify a Switchyard history export offline, independently of Switchyard's own code.

    python3 verify_history.py --file history.ndjson --checkpoint checkpoints.ndjson --public-key checkpoint-key.pub [--json]

Written from docs/history.md alone, in another language, with the Python standard library only
(3.8 or newer): the canonical JSON encoding, both hash schemes, the checkpoint signing input and
the Ed25519 signature check (RFC 8032, section 5.1.7, in pure Python below: Ed25519 is not in the
standard library). It checks every checkpoint's signature with the public key you hold, then walks
the export line by line: positions from the header's start without a gap, each row's link to the
one before and its hash, and that the chain reaches every checkpoint with that checkpoint's hash.

Exit status: 0 verified, 5 does not verify (the verdict says why), 2 usage (a file missing, a
checkpoint or key that cannot be read). The verdict is printed as text, or as JSON with --json,
with the same words as `switchyard verify-history`.
"""

import argparse
import base64
import hashlib
import json
import re
import sys

GENESIS_HASH = "0" * 64
V2_PREFIX = "switchyard-history-v2\n"
CHECKPOINT_SCHEME = "switchyard-checkpoint-v1"
EXPORT_FORMAT = "switchyard-history-export"
POSITION = re.compile(r"^[1-9][0-9]{0,18}$")
CHECKPOINT_PATTERNS = {
    "position": POSITION,
    "headHash": re.compile(r"^[0-9a-f]{64}$"),
    "signedAt": re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"),
    "keyId": re.compile(r"^[0-9a-f]{32}$"),
    "signature": re.compile(r"^[A-Za-z0-9+/]{86}==$"),
}

# ---------------------------------------------------------------------------------------------
# Canonical JSON: what JavaScript's JSON.stringify writes, with object keys sorted by UTF-16 code
# units at every level and no white space (docs/history.md, "Canonical JSON").


def js_number(value):
    """A JSON number as JavaScript writes it (Number::toString): every number is a double there."""
    x = float(value)
    if x != x or x in (float("inf"), float("-inf")):
        return "null"
    if x == 0:
        return "0"  # -0 included
    sign = "-" if x < 0 else ""
    # repr gives the shortest digits that read back as the same double, as JavaScript picks them.
    text = repr(abs(x))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    e10 = (int(exponent) if exponent else 0) - len(fraction)
    stripped = digits.rstrip("0")
    e10 += len(digits) - len(stripped)
    s = stripped.lstrip("0")
    k = len(s)
    n = k + e10  # the value is 0.s times 10**n
    if k <= n <= 21:
        return sign + s + "0" * (n - k)
    if 0 < n <= 21:
        return sign + s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + s
    e = n - 1
    exp = ("+" if e >= 0 else "-") + str(abs(e))
    return sign + (s if k == 1 else s[0] + "." + s[1:]) + "e" + exp


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def js_string(text):
    """A JSON string as JSON.stringify writes it: only quotes, backslashes, controls and lone surrogates escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            out.append("\\u%04x" % code)
        else:
            out.append(ch)  # U+2028, U+2029, "</", DEL, every other character as it is
    out.append('"')
    return "".join(out)


def utf16_order(key):
    return key.encode("utf-16-be", "surrogatepass")


def canonical_json(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value.keys(), key=utf16_order)
        return "{" + ",".join(js_string(k) + ":" + canonical_json(value[k]) for k in keys) + "}"
    raise TypeError("not a JSON value: %r" % (value,))


# ---------------------------------------------------------------------------------------------
# Row hashes (docs/history.md, "Hash schemes").

V1_FIELDS = ("sequence", "sliceKey", "segmentKey", "action", "before", "after", "actor", "reason",
             "idempotencyKey", "requestId", "recordedAt", "prevHash")


def row_hash(row):
    fields = {name: row[name] for name in V1_FIELDS}
    if row["scheme"] == 1:
        text = row["prevHash"] + "\n" + canonical_json(fields)
    elif row["scheme"] == 2:
        fields["position"] = row["position"]
        fields["scheme"] = 2
        text = V2_PREFIX + canonical_json(fields)
    else:
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Ed25519 signature verification, RFC 8032 section 5.1.7 (the reference arithmetic of section 6).

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _add(a, b):  # extended homogeneous coordinates (X, Y, Z, T)
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    pa = (y1 - x1) * (y2 - x2) % _P
    pb = (y1 + x1) * (y2 + x2) % _P
    pc = 2 * t1 * t2 * _D % _P
    pd = 2 * z1 * z2 % _P
    e, f, g, h = pb - pa, pd - pc, pd + pc, pb + pa
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(scalar, point):
    result = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _decompress(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % _P)


def ed25519_verify(public_key, message, signature):
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decompress(public_key)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


# ---------------------------------------------------------------------------------------------
# Keys and checkpoints (docs/history.md, "Checkpoints").

_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")  # SubjectPublicKeyInfo of an Ed25519 key


def read_public_key(text):
    """The raw 32-byte key from SubjectPublicKeyInfo PEM, or base64 of the raw key or of the DER."""
    text = text.strip()
    if text.startswith("-----BEGIN PUBLIC KEY-----"):
        body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
        data = base64.b64decode(body, validate=True)
    else:
        data = base64.b64decode("".join(text.split()), validate=True)
    if len(data) == 32:
        return data
    if len(data) == 44 and data.startswith(_SPKI_PREFIX):
        return data[12:]
    raise ValueError("not an Ed25519 public key")


def key_id(raw_public_key):
    return hashlib.sha256(raw_public_key).hexdigest()[:32]


def checkpoint_problems(value):
    if not isinstance(value, dict):
        return ["not a JSON object"]
    problems = [] if value.get("scheme") == CHECKPOINT_SCHEME else ["scheme"]
    for name, pattern in CHECKPOINT_PATTERNS.items():
        if not isinstance(value.get(name), str) or not pattern.match(value[name]):
            problems.append(name)
    return problems


def signing_input(c):
    return ("%s\nposition=%s\nhead=%s\nsigned-at=%s\nkey=%s\n" % (
        CHECKPOINT_SCHEME, c["position"], c["headHash"], c["signedAt"], c["keyId"])).encode("ascii")


def check_signature(c, raw_public_key):
    if c["keyId"] != key_id(raw_public_key):
        return "WRONG_KEY"
    ok = ed25519_verify(raw_public_key, signing_input(c), base64.b64decode(c["signature"]))
    return "OK" if ok else "BAD_SIGNATURE"


# ---------------------------------------------------------------------------------------------
# The export (docs/history.md, "Export format") and the verdict.

TEXT_FIELDS = ("sequence", "action", "actor", "recordedAt", "prevHash", "hash")
NULLABLE_TEXT_FIELDS = ("sliceKey", "segmentKey", "reason", "idempotencyKey", "requestId")


def row_problem(v):
    if not isinstance(v, dict):
        return "not a JSON object"
    if v.get("type") != "row":
        return 'type is not "row"'
    if not isinstance(v.get("position"), str) or not POSITION.match(v["position"]):
        return "position is not a decimal string"
    if type(v.get("scheme")) is not int:
        return "scheme is not an integer"
    for name in TEXT_FIELDS:
        if not isinstance(v.get(name), str):
            return "%s is not a string" % name
    for name in NULLABLE_TEXT_FIELDS:
        if name not in v or not (v[name] is None or isinstance(v[name], str)):
            return "%s is neither a string nor null" % name
    if "before" not in v or "after" not in v:
        return "before or after is missing"
    return None


def header_problem(v):
    if not isinstance(v, dict) or v.get("type") != "header" or v.get("format") != EXPORT_FORMAT:
        return "the first line is not a %s header" % EXPORT_FORMAT
    if v.get("version") != 1:
        return "export version %r is not supported (this verifier reads 1)" % (v.get("version"),)
    if not isinstance(v.get("fromPosition"), str) or not POSITION.match(v["fromPosition"]):
        return "fromPosition is not a decimal string"
    to = v.get("toPosition")
    if to is not None and (not isinstance(to, str) or not POSITION.match(to)):
        return "toPosition is neither a decimal string nor null"
    return None


def verify(lines, checkpoints, raw_public_key):
    """The verdict over an iterable of export lines, as a dict (the keys of `switchyard verify-history --json`)."""
    state = {"checked": 0, "head_position": 0, "head_hash": GENESIS_HASH, "highest_held": None}
    pending = {}  # checkpoint position -> the hashes checkpoints there say it has
    for c in checkpoints:
        pending.setdefault(int(c["position"]), []).append(c["headHash"])

    def verdict(code, position=None, sequence=None, line=None, problem=None):
        ok = code == "OK"
        return {
            "ok": ok, "verdict": code, "checkedRows": state["checked"],
            "firstBrokenPosition": None if position is None else str(position), "firstBrokenSequence": sequence,
            "headPosition": str(state["head_position"]), "headHash": state["head_hash"],
            "checkpointPosition": str(state["highest_held"]) if ok and state["highest_held"] is not None else None,
            "line": None if ok else line, "problem": problem, "checkpoints": len(checkpoints),
        }

    for c in checkpoints:
        signature = check_signature(c, raw_public_key)
        if signature != "OK":
            return verdict(signature)

    def holds(position, hash_):
        expected = pending.pop(position, None)
        if expected is None:
            return True
        if any(h != hash_ for h in expected):
            return False
        if state["highest_held"] is None or position > state["highest_held"]:
            state["highest_held"] = position
        return True

    header = None
    expected_position = prev_hash = to_position = None
    seen_v2 = False
    number = 0
    for number, line in enumerate(lines, start=1):
        if line.strip() == "":
            continue
        try:
            value = json.loads(line)
        except ValueError:
            return verdict("MALFORMED", line=number, problem="not JSON")
        if header is None:
            problem = header_problem(value)
            if problem:
                return verdict("MALFORMED", line=number, problem=problem)
            header = value
            start = int(value["fromPosition"])
            to_position = None if value["toPosition"] is None else int(value["toPosition"])
            expected_position = start
            state["head_position"] = start - 1
            prev_hash = GENESIS_HASH if start == 1 else None
            state["head_hash"] = prev_hash
            if any(p < start - 1 for p in pending):
                return verdict("CHECKPOINT_OUT_OF_RANGE")
            continue
        problem = row_problem(value)
        if problem:
            return verdict("MALFORMED", line=number, problem=problem)
        position = int(value["position"])
        if to_position is not None and position > to_position:
            return verdict("MALFORMED", line=number, problem="a row beyond the header's toPosition")
        state["checked"] += 1
        sequence = value["sequence"]
        if position != expected_position:
            return verdict("MISMATCH_AT_POSITION", expected_position, sequence, number)
        if prev_hash is None:
            if not holds(position - 1, value["prevHash"]):
                return verdict("CHECKPOINT_MISMATCH", sequence=sequence, line=number)
        elif value["prevHash"] != prev_hash:
            return verdict("MISMATCH_AT_POSITION", position, sequence, number)
        if value["scheme"] == 1 and seen_v2:
            return verdict("MISMATCH_AT_POSITION", position, sequence, number)
        if row_hash(value) != value["hash"]:
            return verdict("MISMATCH_AT_POSITION", position, sequence, number)
        if not holds(position, value["hash"]):
            return verdict("CHECKPOINT_MISMATCH", line=number)
        seen_v2 = seen_v2 or value["scheme"] == 2
        prev_hash = state["head_hash"] = value["hash"]
        state["head_position"] = position
        expected_position = position + 1
    if header is None:
        return verdict("MALFORMED", line=number + 1, problem="no header line")
    if pending:
        within = to_position is None or any(p <= to_position for p in pending)
        return verdict("TRUNCATED" if within else "CHECKPOINT_OUT_OF_RANGE")
    return verdict("OK")


def read_checkpoints(path):
    text = path if path.lstrip().startswith("{") else open(path, encoding="utf-8").read()
    try:
        whole = json.loads(text)
        values = whole if isinstance(whole, list) else [whole]
    except ValueError:
        values = [json.loads(line) for line in text.splitlines() if line.strip()]
    for i, value in enumerate(values, start=1):
        problems = checkpoint_problems(value)
        if problems:
            raise ValueError("checkpoint %d is malformed: %s" % (i, ", ".join(problems)))
    if not values:
        raise ValueError("no checkpoint in %s" % path)
    return values


def main(argv):
    parser = argparse.ArgumentParser(description="Verify a Switchyard history export offline (docs/history.md).")
    parser.add_argument("--file", required=True, help="the export (switchyard history export)")
    parser.add_argument("--checkpoint", required=True, help="checkpoint file: one JSON checkpoint, or one per line")
    parser.add_argument("--public-key", required=True, help="PEM file of the public key, or the key itself (base64)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    args = parser.parse_args(argv)
    try:
        checkpoints = read_checkpoints(args.checkpoint)
        try:
            key_text = open(args.public_key, encoding="utf-8").read()
        except OSError:
            key_text = args.public_key
        raw_public_key = read_public_key(key_text)
        with open(args.file, encoding="utf-8", newline="") as export:
            result = verify((line.rstrip("\r\n") for line in export), checkpoints, raw_public_key)
    except (OSError, ValueError) as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    elif result["ok"]:
        print("verified: %d rows up to position %s; the chain extends every checkpoint given (up to position %s)"
              % (result["checkedRows"], result["headPosition"], result["checkpointPosition"]))
    else:
        where = " at position %s" % result["firstBrokenPosition"] if result["firstBrokenPosition"] else ""
        line = " (export line %s%s)" % (result["line"], ": " + result["problem"] if result["problem"] else "") if result["line"] else ""
        print("NOT VERIFIED: %s%s%s" % (result["verdict"], where, line))
    return 0 if result["ok"] else 5


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
