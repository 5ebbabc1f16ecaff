#!/usr/bin/env python3
"""Builds the seed corpora under tests/fuzz/corpus/<target>/ (run once, from
anywhere; the output is committed). Sources: the MS-NLMP 4.2 messages in
tests/unit/vectors.h, the captured client messages under
tests/ntlmtool/golden/, hand-built ntlmd frames, the lines of
tests/ntlmtool/golden/accounts.smbpasswd, etc/ntlmd.conf.in and the
sambaSamAccount entries of ldap/samba-sample.ldif."""

import base64
import binascii
import hashlib
import os
import re
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
GOLDEN = os.path.join(TOP, "tests", "ntlmtool", "golden")
OUT = os.path.join(HERE, "corpus")
TARGETS = ["negotiate", "challenge", "authenticate", "av_pairs", "v2_blob", "verify",
           "spnego", "frame", "smbpasswd_line", "config", "ldap_entry"]

corpus = {t: {} for t in TARGETS}


def add(target, name, data):
    """Adds data once per target (by content), under a readable name."""
    digest = hashlib.sha1(data).hexdigest()[:8]
    if any(d == data for d in corpus[target].values()):
        return
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    corpus[target]["%s-%s" % (safe, digest)] = data


def decode_token(text):
    """A token as ntlmtool reads it: an optional header name and scheme, or a
    two-letter helper prefix, then base64 or hex."""
    text = text.strip()
    if not text:
        return None
    words = text.split()
    value = words[-1]
    if re.fullmatch(r"[0-9a-fA-F]+", value) and len(value) % 2 == 0:
        return binascii.unhexlify(value)
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return None


def u16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def u32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def field(msg, off):
    """An NTLMSSP (len, maxlen, offset) field, or b"" when out of bounds."""
    if len(msg) < off + 8:
        return b""
    ln, fo = u16(msg, off), u32(msg, off + 4)
    return msg[fo:fo + ln] if fo + ln <= len(msg) else b""


def add_ntlm(name, msg):
    """Routes a message to its decoder's corpus and its parts to the others."""
    add("spnego", name, msg)
    if len(msg) < 12 or msg[:8] != b"NTLMSSP\0":
        return
    mtype = u32(msg, 8)
    if mtype == 1:
        add("negotiate", name, msg)
    elif mtype == 2:
        add("challenge", name, msg)
        ti = field(msg, 40)
        if ti:
            add("av_pairs", name + "-target-info", ti)
    elif mtype == 3:
        add("authenticate", name, msg)
        nt = field(msg, 20)
        if len(nt) > 24:
            add("v2_blob", name + "-blob", nt[16:])
            add("av_pairs", name + "-blob-av", nt[16 + 28:])


def find_ntlm(data):
    """The NTLMSSP message inside a SPNEGO token (its signature to the end,
    trimmed by the message's own fields), or None."""
    i = data.find(b"NTLMSSP\0")
    return data[i:] if i >= 0 else None


def verify_input(mode, neg, chal, auth):
    return bytes([mode]) + struct.pack("<H", len(neg)) + neg + struct.pack("<H", len(chal)) + chal + auth


# MS-NLMP 4.2 vectors
with open(os.path.join(TOP, "tests", "unit", "vectors.h")) as f:
    src = f.read()
defines = {}
for m in re.finditer(r"#define\s+(\w+)\s+(?:\\\s*)?((?:\"[^\"]*\"\s*(?:\\\s*)?)+)", src):
    defines[m.group(1)] = re.sub(r"[^0-9a-fA-F]", "", "".join(re.findall(r"\"([^\"]*)\"", m.group(2))))
for prefix in ("V1", "V1ESS", "V2"):
    chal = binascii.unhexlify(defines[prefix + "_CHALLENGE_MSG"])
    auth = binascii.unhexlify(defines[prefix + "_AUTHENTICATE_MSG"])
    add_ntlm("msnlmp-%s-challenge" % prefix.lower(), chal)
    add_ntlm("msnlmp-%s-authenticate" % prefix.lower(), auth)
    for mode in (2, 3):
        add("verify", "msnlmp-%s-mode%d" % (prefix.lower(), mode), verify_input(mode, b"", chal, auth))
temp = binascii.unhexlify(defines["V2_TEMP"])
add("v2_blob", "msnlmp-v2-temp", temp)
add("av_pairs", "msnlmp-v2-temp-av", temp[28:])

# ntlmtool golden inputs
decode_dir = os.path.join(GOLDEN, "decode")
for fn in sorted(os.listdir(decode_dir)):
    if not fn.endswith(".in"):
        continue
    with open(os.path.join(decode_dir, fn)) as f:
        data = decode_token(f.read())
    if data is None:
        continue
    name = fn[:-3]
    add_ntlm(name, data)
    inner = find_ntlm(data)
    if inner is not None and inner != data:
        add_ntlm(name + "-inner", inner)

# whole exchanges for the acceptor
ex_dir = os.path.join(GOLDEN, "exchanges")
for fn in sorted(os.listdir(ex_dir)):
    msgs = {}
    with open(os.path.join(ex_dir, fn)) as f:
        for line in f:
            parts = line.split(None, 1)
            if len(parts) == 2 and parts[0] in ("negotiate", "challenge", "authenticate"):
                msgs[parts[0]] = decode_token(parts[1])
    if len(msgs) != 3 or None in msgs.values():
        continue
    name = fn[:-4]
    for kind, data in msgs.items():
        add_ntlm("%s-%s" % (name, kind), data)
        if not data.startswith(b"NTLMSSP\0"):
            msgs[kind] = find_ntlm(data) or data  # SPNEGO-wrapped: the acceptor takes the bare message
    for mode in (0, 1):
        add("verify", "%s-mode%d" % (name, mode),
            verify_input(mode, msgs["negotiate"], msgs["challenge"], msgs["authenticate"]))


# ntlmd frames, by hand (common/protocol.h)
def frame(ftype, fields):
    payload = b"".join(struct.pack("<HI", tag, len(v)) + v for tag, v in fields)
    return b"NTD\x01" + struct.pack("<HHI", ftype, 0, len(payload)) + payload


neg = corpus["negotiate"][sorted(corpus["negotiate"])[0]]
chal = corpus["challenge"][sorted(corpus["challenge"])[0]]
auth = corpus["authenticate"][sorted(corpus["authenticate"])[0]]
add("frame", "ping", frame(1, []))
add("frame", "challenge", frame(2, [(10, b"squid"), (20, neg)]))
add("frame", "verify", frame(3, [(10, b"squid"), (11, b"192.0.2.1"), (20, neg), (21, chal), (22, auth),
                                 (23, b"tls-server-end-point:" + bytes(32))]))
add("frame", "verify-response", frame(4, [(10, b"radius"), (30, b"alice"), (31, b"TESTDOM"),
                                          (33, bytes(range(8))), (35, bytes(24)), (38, b"\x01")]))
add("frame", "check-password", frame(5, [(10, b"sshd"), (30, b"alice"), (36, b"Password")]))
add("frame", "account-status", frame(6, [(30, b"alice")]))
add("frame", "change-password", frame(7, [(30, b"alice"), (36, b"old"), (37, b"new")]))
add("frame", "reply-ok", frame(0x8003, [(1, struct.pack("<I", 0)), (2, b"STATUS_SUCCESS"), (50, b"alice"),
                                        (52, b"NTLMv2"), (53, struct.pack("<I", 0xe2888235)),
                                        (54, b"valid"), (58, bytes(16)), (61, struct.pack("<I", 1000))]))
add("frame", "reply-error", frame(0x8003, [(1, struct.pack("<I", 0xc000006a)),
                                           (2, b"STATUS_WRONG_PASSWORD"), (3, b"wrong password")]))
add("frame", "reply-ping", frame(0x8001, [(1, struct.pack("<I", 0)), (60, b"1.0"),
                                          (70, struct.pack("<Q", 5)), (71, struct.pack("<Q", 7))]))
add("frame", "unknown-tag", frame(1, [(1000, b"future")]))


# STATS records (common/stats.h): text = u16 length + UTF-8
def text(s):
    return struct.pack("<H", len(s)) + s


def counts(*pairs):
    return b"".join(text(k) + struct.pack("<Q", v) for k, v in pairs)


add("frame", "stats", frame(10, []))
add("frame", "reply-stats", frame(0x800a, [
    (1, struct.pack("<I", 0)), (2, b"STATUS_SUCCESS"), (3, b"the request succeeded"), (60, b"1.0"),
    (90, counts((b"VERIFY", 6), (b"CHALLENGE", 7), (b"STATS", 1))),
    (91, counts((b"success", 11), (b"failure", 3), (b"malformed", 0), (b"error", 0))),
    (92, counts((b"STATUS_SUCCESS", 11), (b"STATUS_WRONG_PASSWORD", 2))),
    (93, counts((b"NTLMv2", 6), (b"MS-CHAPv2", 0))),
    (94, counts((b"absent", 1), (b"valid", 5))),
    (95, counts((b"absent", 6))),
    (96, struct.pack("<QQB", 2, 4335, 2) + struct.pack("<QQQQ", 500, 1, 5000, 2)),
    (97, struct.pack("<QQB", 3, 900, 1) + struct.pack("<QQ", 500, 3)),
    (98, text(b"ldap") + text(b"cache_hits_total") + text(b"") + text(b"") + struct.pack("<Q", 1) +
     text(b"ldap") + text(b"server_last_error") + text(b"ldap://dc1") + text(b"Can't contact LDAP server") +
     struct.pack("<Q", 1)),
    (99, struct.pack("<Q", 4000000))]))

# smbpasswd lines
with open(os.path.join(GOLDEN, "accounts.smbpasswd"), "rb") as f:
    for i, line in enumerate(f.read().splitlines()):
        if line:
            add("smbpasswd_line", "accounts-%d" % (i + 1), line)
add("smbpasswd_line", "no-password",
    b"guest:65534:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:NO PASSWORDXXXXXXXXXXXXXXXXXXXXX:[NU         ]:LCT-00000000:")
add("smbpasswd_line", "short", b"eve:1005:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:FC525C9683E8FE067095BA2DDC971889:[U]:")

# ntlmd.conf
with open(os.path.join(TOP, "etc", "ntlmd.conf.in"), "rb") as f:
    add("config", "ntlmd.conf", f.read())
add("config", "services", b"""# policy and services
ntlm_auth ntlmv1-permitted
lanman_auth yes
lmv2 yes
require_mic yes
target_names HTTP/web.example.test host/web.example.test
accepted_domains TESTDOM
max_clock_skew 300
user_name_format user@domain
netbios_name TESTSRV
netbios_domain TESTDOM
uri ldap://ldap.example.test
service sshd
\tchannel_bindings required
\tuser_name_case upper
""")

# ldap entries (fuzz_ldap_entry: lines "name:value", a name repeated for
# each value of a multi-valued attribute)
def ldif_entries(path):
    """The entries of an LDIF file as lists of (name, value bytes)."""
    with open(path, "rb") as f:
        lines = f.read().decode().replace("\n ", "").splitlines()
    entry = []
    for line in lines + [""]:
        if not line.strip():
            if entry:
                yield entry
            entry = []
        elif not line.startswith("#"):
            name, _, value = line.partition(":")
            if value.startswith(":"):
                entry.append((name, base64.b64decode(value[1:].strip())))
            else:
                entry.append((name, value.strip().encode()))


for entry in ldif_entries(os.path.join(TOP, "ldap", "samba-sample.ldif")):
    if ("objectClass", b"sambaSamAccount") in entry:
        uid = dict(entry).get("uid", b"entry").decode()
        add("ldap_entry", "sample-" + uid.rstrip("$"),
            b"".join(n.encode() + b":" + v + b"\n" for n, v in entry))
add("ldap_entry", "flags-blanks", b"uid:lock\nsambaAcctFlags:[UL   ]\nsambaBadPasswordCount:3\n"
    b"sambaBadPasswordTime:1700000000\n")
add("ldap_entry", "bad-hex", b"uid:eve\nsambaNTPassword:G846F7EAEE8FB117AD06BDD830B7586C\n")
add("ldap_entry", "multi-valued", b"uid:multi\nuid:second\nsambaNTPassword:8846F7EAEE8FB117AD06BDD830B7586C\n"
    b"sambaNTPassword:XX\nsambaUserWorkstations:ws1, ws2,,ws3\n")
add("ldap_entry", "huge-numbers", b"uid:big\nuidNumber:4294967296\nsambaPwdLastSet:99999999999999999999\n"
    b"sambaBadPasswordCount:-1\n")
add("ldap_entry", "nul-in-value", b"uid:al\0ice\nsambaSID:S-1-5-21-1-2-3-1001\n")

if os.path.isdir(OUT):
    shutil.rmtree(OUT)
total = 0
for target in TARGETS:
    d = os.path.join(OUT, target)
    os.makedirs(d)
    for name, data in sorted(corpus[target].items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        total += len(data)
    print("%-15s %3d files" % (target, len(corpus[target])))
print("total %d bytes" % total)
