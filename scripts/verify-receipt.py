#!/usr/bin/env python3
"""Checks a ZecCloud Consent receipt against the consent log, with nothing but Python 3's
standard library (docs/verify-a-receipt.md walks through the same steps by hand).

    scripts/verify-receipt.py RECEIPT.json [--key VERIFIER_KEY]
    scripts/verify-receipt.py RECEIPT.json --inclusion INCLUSION.json --key VERIFIER_KEY
    scripts/verify-receipt.py --self-test

RECEIPT.json is the answer of GET /api/v1/consent/{id}/receipt (or its "receipt" object). The
script fetches the receipt's log.inclusion URL (unless --inclusion names a saved answer) and,
unless --key gives the log's verifier key, the keys the same service publishes at
/api/v1/log/key. It checks, printing each step:

  1. the record is this receipt's decision (its "id" is the receipt's record_id);
  2. SHA-256(salt || record) is the commitment on line 4 of the leaf data, and line 3 is the
     record's created_at;
  3. SHA-256(0x00 || leaf data) is the leaf hash (RFC 9162 section 2.1.1);
  4. the audit path leads from the leaf hash at leaf_index to the root hash (RFC 9162 section
     2.1.3.2);
  5. the checkpoint names that tree size and root hash;
  6. the checkpoint's Ed25519 signature verifies with the log's key (C2SP signed note).

Exit status 0 when every step holds, 1 otherwise (2 for a usage error).
"""

import argparse
import base64
import hashlib
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

LEAF_FORMAT = "zeccloud-consent-log/v1"

# ---------------------------------------------------------------------------------------------
# Ed25519 verification: the reference implementation of RFC 8032 section 6 ("Ed25519 Python
# Illustration"), unchanged but for names and the signing half kept for the self-test. Not
# constant-time, which verifying public data does not need.
# ---------------------------------------------------------------------------------------------

_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493  # the group order


def _inv(x):
    return pow(x, _P - 2, _P)


_D = -121665 * _inv(121666) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(P, Q):
    # Extended coordinates (X, Y, Z, T): x = X/Z, y = Y/Z, x*y = T/Z.
    A, B = (P[1] - P[0]) * (Q[1] - Q[0]) % _P, (P[1] + P[0]) * (Q[1] + Q[0]) % _P
    C, D = 2 * P[3] * Q[3] * _D % _P, 2 * P[2] * Q[2] % _P
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F, G * H, F * G, E * H)


def _mul(s, P):
    Q = (0, 1, 1, 0)  # the neutral element
    while s > 0:
        if s & 1:
            Q = _add(Q, P)
        P = _add(P, P)
        s >>= 1
    return Q


def _equal(P, Q):
    return (P[0] * Q[2] - Q[0] * P[2]) % _P == 0 and (P[1] * Q[2] - Q[1] * P[2]) % _P == 0


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * _inv(_D * y * y + 1) % _P
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


_GY = 4 * _inv(5) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _compress(P):
    zinv = _inv(P[2])
    x, y = P[0] * zinv % _P, P[1] * zinv % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


def _sha512_modq(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % _Q


def ed25519_verify(public, message, signature):
    """RFC 8032 section 6, verify: whether `signature` (64 bytes) is `public`'s (32 bytes)
    signature of `message`."""
    if len(public) != 32 or len(signature) != 64:
        return False
    A = _decompress(public)
    if A is None:
        return False
    R = _decompress(signature[:32])
    if R is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False
    h = _sha512_modq(signature[:32] + public + message)
    return _equal(_mul(s, _G), _add(R, _mul(h, A)))


def _ed25519_sign(secret, message):
    """RFC 8032 section 6, sign; only the self-test signs."""
    digest = hashlib.sha512(secret).digest()
    a = int.from_bytes(digest[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    public = _compress(_mul(a, _G))
    r = _sha512_modq(digest[32:] + message)
    R = _compress(_mul(r, _G))
    h = _sha512_modq(R + public + message)
    s = (r + h * a) % _Q
    return public, R + int.to_bytes(s, 32, "little")


# ---------------------------------------------------------------------------------------------
# RFC 9162 Merkle tree hashing and inclusion proofs.
# ---------------------------------------------------------------------------------------------


def leaf_hash(data):
    """RFC 9162 section 2.1.1: SHA-256(0x00 || leaf data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    """RFC 9162 section 2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_root(leaf_hashes):
    """RFC 9162 section 2.1.1, MTH: the root of a list of leaf hashes (for the self-test)."""
    n = len(leaf_hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while 2 * k < n:
        k *= 2
    return node_hash(tree_root(leaf_hashes[:k]), tree_root(leaf_hashes[k:]))


def root_from_inclusion(leaf_index, tree_size, leaf, audit_path):
    """RFC 9162 section 2.1.3.2: the root the audit path leads to from `leaf` at `leaf_index`
    in a tree of `tree_size` leaves, or None when the path cannot be of that leaf."""
    if leaf_index >= tree_size:
        return None
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in audit_path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# ---------------------------------------------------------------------------------------------
# Signed notes (c2sp.org/signed-note) carrying checkpoints (c2sp.org/tlog-checkpoint).
# ---------------------------------------------------------------------------------------------


class Failed(Exception):
    pass


def key_id(name, public):
    """c2sp.org/signed-note: the first 4 bytes of SHA-256(name || "\\n" || 0x01 || key)."""
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public).digest()[:4]


def parse_verifier_key(text):
    """A verifier key `name+keyid+base64(0x01 || public key)` as (name, key id, public key)."""
    parts = text.strip().split("+", 2)  # from the left: a name has no "+", base64 may
    if len(parts) != 3:
        raise Failed(f"not a verifier key: {text!r}")
    name, id_hex, encoded = parts
    try:
        typed = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise Failed(f"the verifier key's key is not base64: {text!r}") from None
    if len(typed) != 33 or typed[0] != 0x01:
        raise Failed(f"not an Ed25519 verifier key: {text!r}")
    public = typed[1:]
    if key_id(name, public).hex() != id_hex:
        raise Failed(f"the verifier key's id {id_hex} is not {key_id(name, public).hex()}")
    return name, bytes.fromhex(id_hex), public


def open_checkpoint(note, keys):
    """Opens a signed note with one of `keys` [(name, key id, public key)]: returns the
    checkpoint's (origin, tree size, root hash, extension lines, signing key's name)."""
    text, sep, signatures = note.partition("\n\n")
    if not sep:
        raise Failed("the checkpoint has no blank line before its signatures")
    lines = text.split("\n")
    if len(lines) < 3 or not lines[0]:
        raise Failed(f"a checkpoint has an origin, a size and a root: {text!r}")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size.startswith("0") and size != "0"):
        raise Failed(f"bad tree size in the checkpoint: {size!r}")
    root = b64_hash(root, "the checkpoint's root")
    signed = (text + "\n").encode()
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            raise Failed(f"not a signature line: {line!r}")
        name, _, encoded = line[2:].rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise Failed(f"signature not base64: {line!r}") from None
        if len(blob) != 4 + 64:
            continue
        for key_name, kid, public in keys:
            if key_name == name and kid == blob[:4]:
                if not ed25519_verify(public, signed, blob[4:]):
                    raise Failed(f"the signature of {name} (key id {kid.hex()}) does not verify")
                return origin, int(size), root, lines[3:], name
    raise Failed("no signature by the log's key (name and key id) on the checkpoint")


def b64_hash(text, what):
    try:
        value = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise Failed(f"{what} is not base64: {text!r}") from None
    if len(value) != 32:
        raise Failed(f"{what} is not 32 bytes: {text!r}")
    return value


# ---------------------------------------------------------------------------------------------
# The receipt check.
# ---------------------------------------------------------------------------------------------


# Where the steps are reported; the self-test silences the checks it expects to fail.
say = print


def step(ok, message):
    say(f"  {'ok  ' if ok else 'FAIL'} {message}")
    if not ok:
        raise Failed(message)


def fetch_json(url, attempts=6):
    """GET `url` as JSON; waits out a 409 (the decision is not in a signed head yet) as long
    as its Retry-After asks, a few times."""
    for attempt in range(attempts):
        request = urllib.request.Request(url, headers={"accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as err:
            body = err.read().decode("utf-8", "replace")[:300]
            if err.code == 409 and attempt + 1 < attempts:
                wait = min(int(err.headers.get("retry-after") or 5), 30)
                say(f"  .... not in a signed head yet ({body.strip()}); retrying in {wait} s")
                time.sleep(wait)
                continue
            raise Failed(f"GET {url}: {err.code} {body}") from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise Failed(f"GET {url}: {err}") from None
    raise Failed(f"GET {url}: no answer")


def keys_from_answer(answer):
    keys = []
    for key in answer.get("keys", []):
        name, kid, public = parse_verifier_key(key["verifier_key"])
        if base64.b64decode(key["public_key"]) != public or key.get("key_id") != kid.hex():
            raise Failed(f"the key answer's fields disagree with its verifier key: {key}")
        keys.append((name, kid, public))
    if not keys:
        raise Failed("the service publishes no log key")
    return keys


def service_url(inclusion_url, path):
    """The URL of `path` on the service the inclusion URL is of."""
    marker = "/api/v1/log/inclusion"
    if marker in inclusion_url:
        return inclusion_url.split(marker, 1)[0] + path
    parts = urllib.parse.urlsplit(inclusion_url)
    return f"{parts.scheme}://{parts.netloc}{path}"


def verify(receipt_answer, inclusion=None, keys=None, key_source="given"):
    """Checks a receipt; raises Failed at the first step that does not hold. `inclusion` is
    the inclusion answer (fetched when None); `keys` a list of parsed verifier keys (fetched
    from the service when None)."""
    receipt = receipt_answer.get("receipt", receipt_answer)
    if not isinstance(receipt, dict) or not isinstance(receipt.get("log"), dict):
        raise Failed("the receipt has no log entry")
    log = receipt["log"]
    event_id = receipt.get("record_id")
    say(f"receipt of decision {event_id}, leaf {log.get('leaf_index')} of the consent log")

    record_text = log["record"]
    record = json.loads(record_text)
    step(record.get("id") == event_id,
         f"the record's id {record.get('id')} is the receipt's record_id")

    leaf_data = log["leaf_data"]
    lines = leaf_data.split("\n")
    step(len(lines) == 5 and lines[4] == "" and lines[0] == LEAF_FORMAT and lines[1] == "consent",
         f"the leaf data is four lines, {LEAF_FORMAT} and consent first")
    # No salt (null): a decision an older release wrote during the upgrade that added the
    # log, logged unsalted.
    salt = bytes.fromhex(log["salt"]) if log.get("salt") is not None else b""
    commitment = hashlib.sha256(salt + record_text.encode()).hexdigest()
    step(commitment == lines[3],
         f"SHA-256(salt || record) = {commitment} is line 4 of the leaf data")
    step(record.get("created_at") == lines[2],
         f"line 3 of the leaf data, {lines[2]}, is the record's created_at")

    leaf = leaf_hash(leaf_data.encode())
    step(base64.b64encode(leaf).decode() == log["leaf_hash"],
         f"SHA-256(0x00 || leaf data) = {base64.b64encode(leaf).decode()} is the leaf hash")

    if inclusion is None:
        say(f"fetching {log['inclusion']}")
        inclusion = fetch_json(log["inclusion"])
    step(inclusion.get("event_id") == event_id
         and inclusion.get("leaf_index") == log["leaf_index"]
         and inclusion.get("leaf_hash") == log["leaf_hash"]
         and inclusion.get("leaf_data") == leaf_data,
         "the inclusion proof is of this decision's leaf")
    tree_size = inclusion["tree_size"]
    root_hash = b64_hash(inclusion["root_hash"], "root_hash")
    path = [b64_hash(hash_, "an audit path hash") for hash_ in inclusion["audit_path"]]
    root = root_from_inclusion(log["leaf_index"], tree_size, leaf, path)
    step(root == root_hash,
         f"the audit path ({len(path)} hashes) leads from leaf {log['leaf_index']} to the root "
         f"{inclusion['root_hash']} of the tree of {tree_size} leaves")

    if keys is None:
        url = service_url(log["inclusion"], "/api/v1/log/key")
        say(f"fetching {url} (pass --key to check against a key you got elsewhere)")
        keys = keys_from_answer(fetch_json(url))
        key_source = "served by the same service"
    try:
        origin, size, signed_root, extensions, signer = open_checkpoint(
            inclusion["checkpoint"], keys)
    except Failed as err:
        step(False, f"the checkpoint's signature: {err}")
    step(size == tree_size and signed_root == root_hash,
         f"the checkpoint of {origin} names that size and root ({size}, "
         f"{base64.b64encode(signed_root).decode()})")
    kid = next(kid for name, kid, _ in keys if name == signer)
    step(True, f"the checkpoint's Ed25519 signature verifies with the key {signer} "
               f"(key id {kid.hex()}, {key_source})")
    for line in extensions:
        say(f"       checkpoint {line}")
    return size, signed_root


# ---------------------------------------------------------------------------------------------
# Self-test: RFC 6962 reference vectors, RFC 8032 test vectors, and a receipt made here.
# ---------------------------------------------------------------------------------------------

RFC6962_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                  "606162636465666768696a6b6c6d6e6f"]
RFC6962_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
RFC6962_PATHS = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
# RFC 8032 section 7.1, tests 1 and 2: (secret key, public key, message, signature).
RFC8032_VECTORS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


def _self_test_receipt():
    """A receipt, its inclusion answer and key, made here: leaf 8 of a log of the RFC 6962
    leaves and it, the head signed with the RFC 8032 test key 2."""
    event_id = "0190f0e0-0000-7000-8000-000000000001"
    record = json.dumps({"id": event_id, "created_at": "2026-12-08T01:02:03.123456Z"},
                        separators=(",", ":"))
    salt = bytes(range(16))
    commitment = hashlib.sha256(salt + record.encode()).hexdigest()
    leaf_data = f"{LEAF_FORMAT}\nconsent\n2026-12-08T01:02:03.123456Z\n{commitment}\n"
    leaves = [leaf_hash(bytes.fromhex(leaf)) for leaf in RFC6962_LEAVES]
    leaves.append(leaf_hash(leaf_data.encode()))
    root = tree_root(leaves)
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    name = "consent.example/log"
    text = f"{name}\n9\n{b64(root)}\ntimestamp 2026-12-08T01:02:04.000Z\n"
    public, signature = _ed25519_sign(bytes.fromhex(RFC8032_VECTORS[1][0]), text.encode())
    kid = key_id(name, public)
    note = f"{text}\n\u2014 {name} {b64(kid + signature)}\n"
    log = {"leaf_index": 8, "leaf_hash": b64(leaves[8]), "leaf_data": leaf_data,
           "record": record, "salt": salt.hex(),
           "inclusion": f"https://consent.example/api/v1/log/inclusion?event_id={event_id}"}
    receipt = {"receipt": {"record_id": event_id, "log": log}}
    inclusion = {"event_id": event_id, "leaf_index": 8, "leaf_hash": log["leaf_hash"],
                 "leaf_data": leaf_data, "tree_size": 9, "root_hash": b64(root),
                 "audit_path": [b64(tree_root(leaves[:8]))], "checkpoint": note}
    typed = b"\x01" + public
    verifier_key = f"{name}+{kid.hex()}+{b64(typed)}"
    return receipt, inclusion, verifier_key


def self_test():
    failures = 0

    def check(ok, message):
        nonlocal failures
        print(f"  {'ok  ' if ok else 'FAIL'} {message}")
        failures += not ok

    print("RFC 6962 reference tree (RFC 9162 hashing)")
    leaves = [leaf_hash(bytes.fromhex(leaf)) for leaf in RFC6962_LEAVES]
    for size, root in RFC6962_ROOTS.items():
        check(tree_root(leaves[:size]).hex() == root, f"root of {size} leaves {root[:16]}…")
    for index, size, path in RFC6962_PATHS:
        path = [bytes.fromhex(hash_) for hash_ in path]
        root = bytes.fromhex(RFC6962_ROOTS[size])
        check(root_from_inclusion(index, size, leaves[index], path) == root,
              f"inclusion of leaf {index} in the tree of {size}")
        # The same path for another leaf, index, or tree size (against that size's root),
        # or cut short, proves nothing.
        check(root_from_inclusion(index, size, leaves[(index + 1) % 8], path) != root
              and root_from_inclusion(index ^ 1, size, leaves[index], path) != root
              and all(root_from_inclusion(index, other, leaves[index], path)
                      != bytes.fromhex(RFC6962_ROOTS[other])
                      for other in RFC6962_ROOTS if other != size)
              and root_from_inclusion(index, size, leaves[index], path[:-1]) != root,
              "  … and not of another leaf, index, tree size, or with a shorter path")

    print("RFC 8032 Ed25519 test vectors 1 and 2")
    for number, (secret, public, message, signature) in enumerate(RFC8032_VECTORS, 1):
        public, message = bytes.fromhex(public), bytes.fromhex(message)
        signature = bytes.fromhex(signature)
        check(ed25519_verify(public, message, signature), f"test {number} verifies")
        check(not ed25519_verify(public, message + b"x", signature),
              f"test {number} with another message does not")
        check(_ed25519_sign(bytes.fromhex(secret), message) == (public, signature),
              f"test {number} signs to the same signature")

    print("verifier keys")
    plus = "zeccloud-consent/log+dafb7c2c+AWa+fjMsekUzMr2dCn99sFX1xe8aBq2mbZizn7aBDEc6"
    try:
        check(parse_verifier_key(plus)[1].hex() == "dafb7c2c",
              "a key whose base64 holds a '+' reads, and its key id is the name's and key's")
    except Failed as err:
        check(False, f"a key whose base64 holds a '+' reads: {err}")
    try:
        parse_verifier_key(plus.replace("dafb7c2c", "dafb7c2d"))
        check(False, "a key with another key id is refused")
    except Failed:
        check(True, "a key with another key id is refused")

    print("a receipt made here, checked end to end")
    receipt, inclusion, verifier_key = _self_test_receipt()
    keys = [parse_verifier_key(verifier_key)]
    try:
        verify(receipt, inclusion, keys)
        check(True, "the receipt verifies")
    except Failed as err:
        check(False, f"the receipt verifies: {err}")
    tampered = [
        ("record", lambda r, i: r["receipt"]["log"].update(
            record=r["receipt"]["log"]["record"].replace("123456", "123457"))),
        ("salt", lambda r, i: r["receipt"]["log"].update(salt="00" * 16)),
        ("event id", lambda r, i: r["receipt"].update(record_id="another")),
        ("audit path", lambda r, i: i.update(audit_path=[RFC6962_ROOTS[7]])),
        ("signed size", lambda r, i: i.update(
            checkpoint=i["checkpoint"].replace("\n9\n", "\n10\n", 1))),
    ]
    global say
    for what, change in tampered:
        receipt, inclusion, _ = _self_test_receipt()
        change(receipt, inclusion)
        say = lambda *_: None  # noqa: E731
        try:
            verify(receipt, inclusion, keys)
            caught = False
        except (Failed, ValueError, KeyError):
            caught = True
        say = print
        check(caught, f"a changed {what} is caught")
    receipt, inclusion, _ = _self_test_receipt()
    other = _ed25519_sign(bytes.fromhex(RFC8032_VECTORS[0][0]), b"")[0]
    name = "consent.example/log"
    say = lambda *_: None  # noqa: E731
    try:
        verify(receipt, inclusion, [(name, key_id(name, other), other)])
        caught = False
    except Failed:
        caught = True
    say = print
    check(caught, "a checkpoint signed by another key is refused")
    print("self-test " + ("passed" if failures == 0 else f"FAILED ({failures})"))
    return 0 if failures == 0 else 1


def main(argv):
    parser = argparse.ArgumentParser(
        description="Check a consent receipt against the service's signed consent log.")
    parser.add_argument("receipt", nargs="?",
                        help="the receipt JSON file (the receipt endpoint's answer), - for stdin")
    parser.add_argument("--key", action="append", metavar="VERIFIER_KEY",
                        help="the log's verifier key (name+keyid+base64), as published; "
                             "repeat for keys before a rotation. Default: the keys the "
                             "service serves at /api/v1/log/key")
    parser.add_argument("--inclusion", metavar="FILE",
                        help="a saved answer of the receipt's inclusion URL instead of "
                             "fetching it")
    parser.add_argument("--self-test", action="store_true",
                        help="check this script on the RFC 6962 and RFC 8032 vectors")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.receipt:
        parser.error("a receipt file is needed (or --self-test)")
    try:
        if args.receipt == "-":
            receipt = json.load(sys.stdin)
        else:
            with open(args.receipt, encoding="utf-8") as file:
                receipt = json.load(file)
        inclusion = None
        if args.inclusion:
            with open(args.inclusion, encoding="utf-8") as file:
                inclusion = json.load(file)
        keys = [parse_verifier_key(key) for key in args.key] if args.key else None
        verify(receipt, inclusion, keys)
    except Failed as err:
        print(f"NOT VERIFIED: {err}")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"NOT VERIFIED: {type(err).__name__}: {err}")
        return 1
    print("VERIFIED: the receipt's decision is in the consent log under a head signed by the "
          "log's key")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
