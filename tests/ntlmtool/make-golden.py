#!/usr/bin/python3
"""Captures the golden inputs of test-ntlmtool.sh from real clients, and
writes the expected decode outputs. Run by a developer, not by make check:

    make-golden.py capture --acceptor PATH [--dir DIR]   # new exchanges (new timestamps)
    make-golden.py outputs --ntlmtool PATH [--dir DIR]   # the *.out files from the inputs

capture drives python3-ntlm-auth, python3-impacket, Samba's ntlm_auth
(ntlmssp-client-1 and gss-spnego-client) and curl (through a loopback HTTP
server) against ntlm-test-acceptor, the line front end of the libntlmssp
acceptor, and writes each exchange to DIR/exchanges/NAME.txt:

    # what it is
    client  NAME VERSION
    user    USER
    at      ISO-8601 time of the CHALLENGE (verify --at)
    negotiate     TEXT   (as the client sent it: base64, header line, Squid line)
    challenge     TEXT
    authenticate  TEXT

It also builds Kerberos Negotiate tokens with impacket's ASN.1 (a made-up
ticket: there is no KDC here), a few tampered copies, and DIR/decode/*.in,
the decode inputs (with *.args, the decode options). outputs runs
"ntlmtool decode" on every DIR/decode/*.in and writes *.out: review them
before committing.

The accounts are throwaway test values that exist only in these files.
"""

import argparse
import base64
import datetime
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
import clients  # noqa: E402  (line-protocol helpers of the interop tests)

DOMAIN = clients.DOMAIN
# user: (uid, password, flags, store LM hash, store NT hash)
ACCOUNTS = {
    "alice": (1000, "Passw0rd!", "U", True, True),
    "bob": (1001, "Bobpass1!", "DU", False, True),
    "carol": (1002, "Carolpass1!", "LU", False, True),
    "dave": (1003, "Davepass1!", "U", False, False),
    "wks$": (1004, "Wkspass1!", "W", False, True),
}


def msnlmp_messages():
    """The MS-NLMP 4.2 messages, as hex, from tests/unit/vectors.h."""
    import re

    with open(os.path.join(HERE, "..", "unit", "vectors.h")) as f:
        text = f.read()
    names = {
        "V1_CHALLENGE_MSG": "msnlmp-v1-challenge",
        "V1_AUTHENTICATE_MSG": "msnlmp-v1-authenticate",
        "V1ESS_CHALLENGE_MSG": "msnlmp-ess-challenge",
        "V1ESS_AUTHENTICATE_MSG": "msnlmp-ess-authenticate",
        "V2_CHALLENGE_MSG": "msnlmp-v2-challenge",
        "V2_AUTHENTICATE_MSG": "msnlmp-v2-authenticate",
    }
    out = {}
    for macro, name in names.items():
        m = re.search(r"#define " + macro + r"\s+\\?\s*((?:\"[^\"]*\"\s*\\?\s*)+)", text)
        out[name] = "".join(re.findall(r'"([^"]*)"', m.group(1))).replace(" ", "")
    return out


CB_GOOD = clients.CB_GOOD
CB_OTHER = clients.CB_OTHER


def b64(data):
    return base64.b64encode(data).decode("ascii")


def filetime_to_iso(ft):
    secs, ticks = divmod(ft, 10_000_000)
    t = datetime.datetime(1601, 1, 1) + datetime.timedelta(seconds=secs)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def av_pairs(data):
    """{id: value} of an AV_PAIR list."""
    out, pos = {}, 0
    while pos + 4 <= len(data):
        av_id, av_len = struct.unpack_from("<HH", data, pos)
        if av_id == 0:
            break
        out[av_id] = data[pos + 4 : pos + 4 + av_len]
        pos += 4 + av_len
    return out


def challenge_target_info(chal):
    ti_len, _, ti_off = struct.unpack_from("<HHI", chal, 40)
    return ti_off, chal[ti_off : ti_off + ti_len]


def challenge_time(chal):
    _, info = challenge_target_info(chal)
    ts = av_pairs(info).get(7)
    return struct.unpack("<Q", ts)[0] if ts else None


def write_accounts(path):
    lines = []
    for user, (uid, password, flags, store_lm, store_nt) in ACCOUNTS.items():
        lm = clients.lm_hash(password).hex().upper() if store_lm else "X" * 32
        nt = clients.nt_hash(password).hex().upper() if store_nt else "X" * 32
        lines.append(f"{user}:{uid}:{lm}:{nt}:[{flags.ljust(11)}]:LCT-65000000:\n")
    with open(path, "w") as f:
        f.writelines(lines)
    os.chmod(path, 0o600)


# ---------------------------------------------------------------------------
# Exchanges


class Exchange:
    def __init__(self, name, comment, client, user):
        self.name, self.comment, self.client, self.user = name, comment, client, user
        self.negotiate = self.challenge = self.authenticate = None  # texts
        self.at = None

    def set_time_from(self, chal_bytes, fallback=None):
        ft = challenge_time(chal_bytes)
        self.at = filetime_to_iso(ft) if ft is not None else fallback

    def blob_time(self):
        """The FILETIME in the AUTHENTICATE's NTLMv2 blob, or None."""
        try:
            text = self.authenticate.split()[-1]
            tok = base64.b64decode(text)
            auth = tok[tok.index(b"NTLMSSP\0") :]
        except (ValueError, IndexError):
            return None
        nt_len, _, nt_off = struct.unpack_from("<HHI", auth, 20)
        return struct.unpack_from("<Q", auth, nt_off + 24)[0] if nt_len > 24 else None

    def write(self, directory):
        with open(os.path.join(directory, self.name + ".txt"), "w") as f:
            f.write(f"# {self.comment}\n")
            f.write(f"client {self.client}\nuser {self.user}\nat {self.at}\n")
            if self.blob_time() is not None:
                f.write(f"blob_time {self.blob_time()}\n")
            for key in ("negotiate", "challenge", "authenticate"):
                if getattr(self, key) is not None:
                    f.write(f"{key} {getattr(self, key)}\n")


def package_version(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    return f"{pkg} {out.stdout.strip()}"


def new_acceptor(args, hashes, options=()):
    return clients.Acceptor(args.acceptor, hashes, list(options))


def close_acceptor(acc):
    rc, err = acc.close()
    if rc != 0:
        raise SystemExit(f"acceptor exited with {rc}: {err}")


def run_ntlm_auth(args, hashes, name, comment, user, password, compat=3, cb=None, no_timestamp=False):
    from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct
    from ntlm_auth.ntlm import NtlmContext

    cbt = None
    if cb is not None:
        cbt = GssChannelBindingsStruct()
        cbt[cbt.APPLICATION_DATA] = cb
    ctx = NtlmContext(user, password, domain=DOMAIN, workstation="CLIENT1", cbt_data=cbt, ntlm_compatibility=compat)
    acc = new_acceptor(args, hashes)
    neg = ctx.step()
    chal = acc.challenge(neg)
    if no_timestamp:
        chal = strip_timestamp(chal)
    auth = ctx.step(chal)
    close_acceptor(acc)
    ex = Exchange(name, comment, package_version("python3-ntlm-auth"), user)
    ex.negotiate, ex.challenge, ex.authenticate = b64(neg), b64(chal), b64(auth)
    ex.set_time_from(chal, filetime_to_iso(int((time.time() + 11644473600) * 10_000_000)))
    return ex, (neg, chal, auth)


def strip_timestamp(chal):
    """A CHALLENGE without MsvAvTimestamp: clients then put their own clock in the blob."""
    ti_off, info = challenge_target_info(chal)
    pairs, pos = b"", 0
    while pos + 4 <= len(info):
        av_id, av_len = struct.unpack_from("<HH", info, pos)
        if av_id not in (0, 7):
            pairs += info[pos : pos + 4 + av_len]
        pos += 4 + av_len
        if av_id == 0:
            break
    pairs += b"\0\0\0\0"
    out = bytearray(chal[:ti_off] + pairs)
    struct.pack_into("<HHI", out, 40, len(pairs), len(pairs), ti_off)
    return bytes(out)


def run_impacket(args, hashes, name, comment, user, password, v2=True, spnego=False):
    from impacket import ntlm
    from impacket.spnego import SPNEGO_NegTokenInit, SPNEGO_NegTokenResp, TypesMech

    acc = new_acceptor(args, hashes)
    type1 = ntlm.getNTLMSSPType1("", "", use_ntlmv2=v2)
    neg = type1.getData()
    chal = acc.challenge(neg)
    type3, _key = ntlm.getNTLMSSPType3(type1, chal, user, password, DOMAIN if user else "", use_ntlmv2=v2)
    auth = type3.getData()
    close_acceptor(acc)
    ex = Exchange(name, comment, package_version("python3-impacket"), user)
    ex.set_time_from(chal)
    if spnego:
        init = SPNEGO_NegTokenInit()
        init["MechTypes"] = [TypesMech["NTLMSSP - Microsoft NTLM Security Support Provider"]]
        init["MechToken"] = neg
        resp_chal = SPNEGO_NegTokenResp()
        resp_chal["NegState"] = b"\x01"
        resp_chal["SupportedMech"] = TypesMech["NTLMSSP - Microsoft NTLM Security Support Provider"]
        resp_chal["ResponseToken"] = chal
        resp_auth = SPNEGO_NegTokenResp()
        resp_auth["ResponseToken"] = auth
        ex.negotiate = "Authorization: Negotiate " + b64(init.getData())
        ex.challenge = "WWW-Authenticate: Negotiate " + b64(resp_chal.getData())
        ex.authenticate = "Authorization: Negotiate " + b64(resp_auth.getData())
    else:
        ex.negotiate, ex.challenge, ex.authenticate = b64(neg), b64(chal), b64(auth)
    return ex, (neg, chal, auth)


def run_samba(args, hashes, confdir, name, comment, user, password, options=()):
    acc = new_acceptor(args, hashes)
    client = clients.SambaClient(confdir, user, password, DOMAIN, list(options))
    try:
        client.give_password()
        yr = client.request("YR")
        neg = clients.unb64(yr[3:])
        chal = acc.challenge(neg)
        reply = client.request("TT " + b64(chal))
        if reply == "PW":
            client.give_password()
            reply = client.request("TT " + b64(chal))
        auth = clients.unb64(reply[3:])
    finally:
        client.close()
    close_acceptor(acc)
    ex = Exchange(name, comment, package_version("samba"), user)
    ex.negotiate, ex.challenge, ex.authenticate = yr, "TT " + b64(chal), reply
    ex.set_time_from(chal)
    return ex, (neg, chal, auth)


def run_samba_spnego(args, hashes, confdir, name, comment, user, password):
    """ntlm_auth --helper-protocol=gss-spnego-client: SPNEGO around NTLMSSP."""
    from impacket.spnego import SPNEGO_NegTokenResp, TypesMech

    acc = new_acceptor(args, hashes)
    argv = [
        "ntlm_auth",
        f"--configfile={confdir}/smb.conf",
        "--helper-protocol=gss-spnego-client",
        f"--username={user}",
        f"--domain={DOMAIN}",
    ]
    proc = clients.LineProcess(argv, "ntlm_auth")
    try:
        proc.request("PW " + b64(password.encode()))
        yr = proc.request("YR")
        init = clients.unb64(yr.split(" ", 1)[1])
        neg = init[init.index(b"NTLMSSP\0") :]
        chal = acc.challenge(neg)
        resp = SPNEGO_NegTokenResp()
        resp["NegState"] = b"\x01"
        resp["SupportedMech"] = TypesMech["NTLMSSP - Microsoft NTLM Security Support Provider"]
        resp["ResponseToken"] = chal
        kk = proc.request("TT " + b64(resp.getData()))
        auth_tok = clients.unb64(kk.split(" ", 1)[1])
        auth = auth_tok[auth_tok.index(b"NTLMSSP\0") :]
    finally:
        proc.close()
    close_acceptor(acc)
    ex = Exchange(name, comment, package_version("samba") + " (gss-spnego-client)", user)
    ex.negotiate, ex.challenge, ex.authenticate = yr, "TT " + b64(resp.getData()), kk
    ex.set_time_from(chal)
    return ex, (neg, chal, auth)


class CaptureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        srv = self.server
        if not auth.startswith("NTLM "):
            self.reply(401, "NTLM")
            return
        token = auth[5:].strip()
        msg = clients.unb64(token)
        if msg[8] == 1:
            srv.lines["negotiate"] = "Authorization: " + auth
            chal = srv.acceptor.request("NEGOTIATE " + token)[len("CHALLENGE ") :]
            srv.lines["challenge"] = "WWW-Authenticate: NTLM " + chal
            srv.chal = clients.unb64(chal)
            self.reply(401, "NTLM " + chal)
        else:
            srv.lines["authenticate"] = "Authorization: " + auth
            srv.verdict = srv.acceptor.request("AUTHENTICATE " + token)
            self.reply(200 if srv.verdict.startswith("OK") else 401, None)

    def reply(self, code, www):
        body = b"x\n"
        self.send_response(code)
        if www:
            self.send_header("WWW-Authenticate", www)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def run_curl(args, hashes, workdir, name, comment, user, password):
    acc = new_acceptor(args, hashes)
    server = HTTPServer(("127.0.0.1", 0), CaptureHandler)
    server.acceptor, server.lines, server.verdict = acc, {}, None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    netrc = os.path.join(workdir, "netrc")
    fd = os.open(netrc, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"machine 127.0.0.1 login {DOMAIN}\\{user} password {password}\n")
    port = server.server_address[1]
    subprocess.run(["curl", "-sS", "--ntlm", "--netrc-file", netrc, "-o", "/dev/null", f"http://127.0.0.1:{port}/"],
                   check=True, timeout=20)
    server.shutdown()
    server.server_close()
    close_acceptor(acc)
    version = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()[1]
    ex = Exchange(name, comment, f"curl {version}", user)
    ex.negotiate, ex.challenge, ex.authenticate = (
        server.lines["negotiate"],
        server.lines["challenge"],
        server.lines["authenticate"],
    )
    ex.set_time_from(server.chal)
    return ex, None


# ---------------------------------------------------------------------------
# Kerberos tokens (impacket's ASN.1; a made-up ticket and keys)


def kerberos_tokens():
    from impacket.krb5 import constants
    from impacket.krb5.asn1 import AP_REQ, Authenticator, seq_set
    from impacket.krb5.crypto import Key, _enctype_table
    from impacket.krb5.types import KerberosTime, Principal
    from impacket.spnego import SPNEGO_NegTokenInit, TypesMech
    from pyasn1.codec.der import encoder
    from pyasn1.type.univ import noValue

    cipher = _enctype_table[constants.EncryptionTypes.aes256_cts_hmac_sha1_96.value]
    service_key = Key(cipher.enctype, os.urandom(32))
    session_key = Key(cipher.enctype, os.urandom(32))
    server = Principal("HTTP/web01.example.test", type=constants.PrincipalNameType.NT_SRV_INST.value)

    def build_ticket(ticket):
        ticket["tkt-vno"] = 5
        ticket["realm"] = "EXAMPLE.TEST"
        seq_set(ticket, "sname", server.components_to_asn1)
        ticket["enc-part"] = noValue
        ticket["enc-part"]["etype"] = cipher.enctype
        ticket["enc-part"]["kvno"] = 2
        ticket["enc-part"]["cipher"] = cipher.encrypt(service_key, 2, b"made-up EncTicketPart for a test", None)
        return ticket

    ap_req = AP_REQ()
    ap_req["pvno"] = 5
    ap_req["msg-type"] = int(constants.ApplicationTagNumbers.AP_REQ.value)
    ap_req["ap-options"] = constants.encodeFlags([constants.APOptions.mutual_required.value])
    seq_set(ap_req, "ticket", build_ticket)
    auth = Authenticator()
    auth["authenticator-vno"] = 5
    auth["crealm"] = "EXAMPLE.TEST"
    seq_set(auth, "cname", Principal("alice", type=constants.PrincipalNameType.NT_PRINCIPAL.value).components_to_asn1)
    now = datetime.datetime.utcnow()
    auth["cusec"] = now.microsecond
    auth["ctime"] = KerberosTime.to_asn1(now)
    ap_req["authenticator"] = noValue
    ap_req["authenticator"]["etype"] = cipher.enctype
    ap_req["authenticator"]["cipher"] = cipher.encrypt(session_key, 11, encoder.encode(auth), None)
    raw = encoder.encode(ap_req)

    def der_len(n):
        if n < 0x80:
            return bytes([n])
        body = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(body)]) + body

    krb5_oid = TypesMech["KRB5 - Kerberos 5"]
    inner = b"\x06" + der_len(len(krb5_oid)) + krb5_oid + b"\x01\x00" + raw
    gss_krb5 = b"\x60" + der_len(len(inner)) + inner

    init = SPNEGO_NegTokenInit()
    init["MechTypes"] = [
        TypesMech["MS KRB5 - Microsoft Kerberos 5"],
        TypesMech["KRB5 - Kerberos 5"],
        TypesMech["NTLMSSP - Microsoft NTLM Security Support Provider"],
    ]
    init["MechToken"] = gss_krb5
    windows_form = init.getData()
    init2 = SPNEGO_NegTokenInit()
    init2["MechTypes"] = [TypesMech["MS KRB5 - Microsoft Kerberos 5"]]
    init2["MechToken"] = raw
    raw_in_spnego = init2.getData()
    return {
        "krb-spnego-gss": (
            "Kerberos AP-REQ, GSS-wrapped, in a SPNEGO NegTokenInit offering Kerberos then NTLM (the form "
            "Windows browsers send)",
            "Authorization: Negotiate " + b64(windows_form),
        ),
        "krb-spnego-raw": (
            "bare Kerberos AP-REQ as the mechToken of a NegTokenInit",
            "Proxy-Authorization: Negotiate " + b64(raw_in_spnego),
        ),
        "krb-gss": ("bare GSS-API krb5 token (RFC 1964), no SPNEGO", b64(gss_krb5)),
        "krb-truncated": (
            "the Windows form cut at 201 bytes, as a log line truncates it",
            "Authorization: Negotiate " + b64(windows_form[:201]),
        ),
    }


# ---------------------------------------------------------------------------
# Tampering


def tamper_negotiate_seal(ex):
    """NEGOTIATE_SEAL cleared in the NEGOTIATE the server got: the MIC no longer matches."""
    neg = bytearray(base64.b64decode(ex.negotiate))
    struct.pack_into("<I", neg, 12, struct.unpack_from("<I", neg, 12)[0] & ~0x20)
    t = Exchange(ex.name + "-negotiate-altered", "NEGOTIATE_SEAL removed from the NEGOTIATE in transit",
                 ex.client, ex.user)
    t.at, t.negotiate, t.challenge, t.authenticate = ex.at, b64(bytes(neg)), ex.challenge, ex.authenticate
    return t


def tamper_challenge_name(ex):
    """The server name in the CHALLENGE's TargetInfo changed: the AV pairs no longer match."""
    chal = bytearray(base64.b64decode(ex.challenge))
    ti_off, info = challenge_target_info(chal)
    pos = 0
    while pos + 4 <= len(info):
        av_id, av_len = struct.unpack_from("<HH", info, pos)
        if av_id == 1:  # MsvAvNbComputerName: first letter to 'X'
            chal[ti_off + pos + 4] = ord("X")
            break
        pos += 4 + av_len
    t = Exchange(ex.name + "-challenge-names-altered", "the server name in the CHALLENGE changed after the client "
                 "answered it", ex.client, ex.user)
    t.at, t.negotiate, t.challenge, t.authenticate = ex.at, ex.negotiate, b64(bytes(chal)), ex.authenticate
    return t


def tamper_challenge_time(ex):
    """Another MsvAvTimestamp in the CHALLENGE: the response answers another challenge."""
    chal = bytearray(base64.b64decode(ex.challenge))
    ti_off, info = challenge_target_info(chal)
    pos = 0
    while pos + 4 <= len(info):
        av_id, av_len = struct.unpack_from("<HH", info, pos)
        if av_id == 7:
            ts = struct.unpack_from("<Q", chal, ti_off + pos + 4)[0]
            struct.pack_into("<Q", chal, ti_off + pos + 4, ts + 10_000_000)
            break
        pos += 4 + av_len
    t = Exchange(ex.name + "-challenge-time-altered", "the CHALLENGE's MsvAvTimestamp one second later",
                 ex.client, ex.user)
    t.at, t.negotiate, t.challenge, t.authenticate = ex.at, ex.negotiate, b64(bytes(chal)), ex.authenticate
    return t


# ---------------------------------------------------------------------------


def capture(args):
    exdir = os.path.join(args.dir, "exchanges")
    decdir = os.path.join(args.dir, "decode")
    os.makedirs(exdir, exist_ok=True)
    os.makedirs(decdir, exist_ok=True)
    hashes = os.path.join(args.dir, "accounts.smbpasswd")
    write_accounts(hashes)
    clients.enable_md4_for_ntlm_auth()
    work = tempfile.mkdtemp(prefix="ntlmtool-golden-")
    confdir = os.path.join(work, "samba")
    os.makedirs(confdir)
    clients.write_samba_conf(confdir)
    a = ACCOUNTS
    exchanges = []
    try:
        na = lambda *x, **k: run_ntlm_auth(args, hashes, *x, **k)[0]  # noqa: E731
        exchanges += [
            na("ntlmauth-v2-cb", "NTLMv2 with MIC and channel bindings (CB_GOOD)", "alice", a["alice"][1],
               cb=CB_GOOD),
            na("ntlmauth-v2", "NTLMv2 with MIC, all-zero channel bindings", "alice", a["alice"][1]),
            na("ntlmauth-v1", "NTLMv1 (LmCompatibilityLevel 0)", "alice", a["alice"][1], compat=0),
            na("ntlmauth-ess", "NTLMv1 with extended session security (level 1)", "alice", a["alice"][1], compat=1),
            na("ntlmauth-bob", "NTLMv2, disabled account", "bob", a["bob"][1]),
            na("ntlmauth-carol", "NTLMv2, locked account", "carol", a["carol"][1]),
            na("ntlmauth-dave", "NTLMv2, account without an NT hash", "dave", a["dave"][1]),
            na("ntlmauth-wks", "NTLMv2, workstation trust account", "wks$", a["wks$"][1]),
            na("ntlmauth-unknown", "NTLMv2, no such user", "nosuchuser", "Nobody123!"),
            na("ntlmauth-notime", "NTLMv2 answering a CHALLENGE without MsvAvTimestamp: the client's clock "
               "is in the blob", "alice", a["alice"][1], no_timestamp=True),
        ]
        im = lambda *x, **k: run_impacket(args, hashes, *x, **k)[0]  # noqa: E731
        exchanges += [
            im("impacket-v2", "NTLMv2 without MIC, MsvAvTargetName cifs/TESTSRV", "alice", a["alice"][1]),
            im("impacket-ess", "NTLMv1-ESS", "alice", a["alice"][1], v2=False),
            im("impacket-anonymous", "anonymous (null session)", "", ""),
            im("impacket-spnego", "NTLMv2 inside SPNEGO NegTokenInit / NegTokenResp, as HTTP Negotiate headers",
               "alice", a["alice"][1], spnego=True),
        ]
        exchanges += [
            run_samba(args, hashes, confdir, "samba-v2", "ntlmssp-client-1 lines (YR, TT, KK)", "alice",
                      a["alice"][1])[0],
            run_samba(args, hashes, confdir, "samba-ess", "ntlmssp-client-1, client ntlmv2 auth = no", "alice",
                      a["alice"][1], options=["client ntlmv2 auth = no", "client lanman auth = no"])[0],
            run_samba_spnego(args, hashes, confdir, "samba-spnego", "gss-spnego-client: NTLMSSP in SPNEGO",
                             "alice", a["alice"][1])[0],
            run_curl(args, hashes, work, "curl-v2", "curl --ntlm: Authorization / WWW-Authenticate headers",
                     "alice", a["alice"][1])[0],
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    by_name = {e.name: e for e in exchanges}
    exchanges += [
        tamper_negotiate_seal(by_name["ntlmauth-v2-cb"]),
        tamper_challenge_name(by_name["ntlmauth-v2"]),
        tamper_challenge_time(by_name["ntlmauth-v2"]),
    ]
    for e in exchanges:
        e.write(exdir)

    def decode_input(name, text, at, json=False):
        with open(os.path.join(decdir, name + ".in"), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(decdir, name + ".args"), "w") as f:
            f.write(f"--at {at}" + (" --json" if json else "") + "\n")

    for e in exchanges:
        if "altered" in e.name:
            continue
        for key in ("negotiate", "challenge", "authenticate"):
            if e.name in ("ntlmauth-bob", "ntlmauth-carol", "ntlmauth-dave", "ntlmauth-wks", "ntlmauth-unknown") \
                    and key != "authenticate":
                continue
            decode_input(f"{e.name}-{key}", getattr(e, key), e.at)
    decode_input("ntlmauth-v2-cb-authenticate-json", by_name["ntlmauth-v2-cb"].authenticate,
                 by_name["ntlmauth-v2-cb"].at, json=True)
    decode_input("samba-spnego-negotiate-json", by_name["samba-spnego"].negotiate, by_name["samba-spnego"].at,
                 json=True)
    for name, (comment, text) in kerberos_tokens().items():
        decode_input(name, text, "2025-01-01T00:00:00Z", json=False)
    with open(os.path.join(decdir, "krb-spnego-gss.in")) as f:
        decode_input("krb-spnego-gss-json", f.read().strip(), "2025-01-01T00:00:00Z", json=True)
    # MS-NLMP 4.2 messages, as hex (tests/unit/vectors.h)
    for name, hexmsg in msnlmp_messages().items():
        decode_input(name, hexmsg, "0")
    # a NEGOTIATE with 4 bytes after its last field
    neg = base64.b64decode(by_name["ntlmauth-v2"].negotiate) + b"\x01\x02\x03\x04"
    decode_input("trailing-bytes", b64(neg), by_name["ntlmauth-v2"].at)
    # the notime exchange decoded 3h12m before the client's clock
    notime = by_name["ntlmauth-notime"]
    auth = base64.b64decode(notime.authenticate)
    nt_len, _, nt_off = struct.unpack_from("<HHI", auth, 20)
    ts = struct.unpack_from("<Q", auth, nt_off + 16 + 8)[0]
    decode_input("ntlmauth-notime-skewed", notime.authenticate, str(ts - (3 * 3600 + 12 * 60) * 10_000_000))
    print(f"wrote {len(exchanges)} exchanges to {exdir} and decode inputs to {decdir}")


def outputs(args):
    decdir = os.path.join(args.dir, "decode")
    for name in sorted(os.listdir(decdir)):
        if not name.endswith(".in"):
            continue
        base = os.path.join(decdir, name[:-3])
        with open(base + ".args") as f:
            opts = f.read().split()
        res = subprocess.run([args.ntlmtool, "decode"] + opts + ["@" + base + ".in"], capture_output=True, text=True)
        with open(base + ".out", "w") as f:
            f.write(res.stdout)
            f.write(f"exit {res.returncode}\n")
            if res.stderr:
                f.write("stderr: " + res.stderr)
    print(f"wrote the decode outputs in {decdir}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("capture")
    p.add_argument("--acceptor", required=True)
    p.add_argument("--dir", default=os.path.join(HERE, "golden"))
    p = sub.add_parser("outputs")
    p.add_argument("--ntlmtool", required=True)
    p.add_argument("--dir", default=os.path.join(HERE, "golden"))
    args = parser.parse_args()
    if args.command == "capture":
        capture(args)
    else:
        outputs(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
