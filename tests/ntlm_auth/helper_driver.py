#!/usr/bin/python3
"""Drives ntlm_auth line by line against a real ntlmd and checks every reply
against the exact text Samba's ntlm_auth prints (squid-2.5-ntlmssp,
gss-spnego, squid-2.5-basic, ntlm-server-1, ntlmssp-client-1, the exec
modes FreeRADIUS uses).

    helper_driver.py write-hashes FILE
    helper_driver.py main --ntlm-auth PATH --socket S --log NTLMD_LOG

NTLM messages come from python3-ntlm-auth (an independent client); SPNEGO
wrappers are built here with a few lines of DER. One line per case
("PASS name" / "FAIL name: why"), then "N passed, M failed".
"""

import argparse
import base64
import os
import itertools
import re
import struct
import subprocess
import sys
import time

import clients  # tests/interop/clients.py, on PYTHONPATH (tests/Makefile.am, tests/testlib.sh)
from clients import DOMAIN, WORKSTATION, Account, LineProcess, enable_md4_for_ntlm_auth, md4, nt_hash
# tests/lib/ntlmd_driver.py, on PYTHONPATH as clients is: the case runner and
# MS-NLMP's DESL
from ntlmd_driver import Runner, desl

ACCOUNTS = dict(clients.ACCOUNTS)  # alice (good), bob (disabled)
# uid 0: NSS knows it as root, for --require-membership-of
ACCOUNTS["ruth"] = Account("ruth", 0, "Ruth-pass9", "U", False)
# a name with a space: Squid >= 3.4 keeps only the last word of "AF <name>"
ACCOUNTS["john smith"] = Account("john smith", 1010, "John-pass1", "U", False)
# --diagnostics under the "diag" service of test-helper.sh (lockout after 3)
ACCOUNTS["dora"] = Account("dora", 1011, "Dora-pass1", "U", False)
# a backslash, a double quote and a space (FreeRADIUS's PAP, test-freeradius.sh)
ACCOUNTS["quinn"] = Account("quinn", 1012, 'a\\b"c d', "U", False)
WRONG = "WrongPass1"
# Samba 4.17's texts (libsamba-errors' get_friendly_nt_error_msg())
SAMBA_WRONG_PASSWORD = ("When trying to update a password, this return status indicates that the value provided "
                        "as the current password is not correct.")
SAMBA_LOGON_FAILURE = ("The attempted logon is invalid. This is either due to a bad username or authentication "
                       "information.")
TIMEOUT = 10


def write_hashes(path):
    lines = []
    for acc in ACCOUNTS.values():
        lm = "X" * 32
        nt = nt_hash(acc.password).hex().upper()
        lines.append(f"{acc.user}:{acc.uid}:{lm}:{nt}:[{acc.flags.ljust(11)}]:LCT-{int(time.time()):08X}:\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(lines)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text.encode("ascii"), validate=True)


# --------------------------------------------------------------------- DER / SPNEGO (RFC 4178)

def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return bytes([tag]) + length + content


OID_SPNEGO = bytes.fromhex("2b0601050502")
OID_NTLMSSP = bytes.fromhex("2b0601040182370202 0a".replace(" ", ""))
OID_KRB5 = bytes.fromhex("2a864886f712010202")


def neg_token_init(mechs, token):
    body = tlv(0xA0, tlv(0x30, b"".join(tlv(0x06, m) for m in mechs)))
    if token is not None:
        body += tlv(0xA2, tlv(0x04, token))
    return tlv(0x60, tlv(0x06, OID_SPNEGO) + tlv(0xA0, tlv(0x30, body)))


def neg_token_resp(token, mic=None):
    body = tlv(0xA2, tlv(0x04, token))
    if mic is not None:  # mechListMIC [3] OCTET STRING (RFC 4178 4.2.2)
        body += tlv(0xA3, tlv(0x04, mic))
    return tlv(0xA1, tlv(0x30, body))


def expected_resp(state, token=None):
    body = tlv(0xA0, tlv(0x0A, bytes([state])))
    if state == 1:
        body += tlv(0xA1, tlv(0x06, OID_NTLMSSP))
    if token is not None:
        body += tlv(0xA2, tlv(0x04, token))
    return tlv(0xA1, tlv(0x30, body))


def resp_token(blob):
    """The responseToken of a NegTokenResp (for the CHALLENGE we answer)."""
    m = blob.find(b"NTLMSSP\0")
    if m < 0:
        raise ValueError("no NTLMSSP message in the SPNEGO token")
    return blob[m:]


# --------------------------------------------------------------------- cases

def want(got, expected, what="reply"):
    if isinstance(expected, re.Pattern):
        return [] if expected.fullmatch(got) else [f"{what} {got!r} does not match {expected.pattern!r}"]
    return [] if got == expected else [f"{what} {got!r}, expected {expected!r}"]


class Client:
    """A python3-ntlm-auth client (NTLMv2)."""

    def __init__(self, user, password, domain=DOMAIN):
        from ntlm_auth.ntlm import NtlmContext

        self.ctx = NtlmContext(user, password, domain=domain, workstation=WORKSTATION, ntlm_compatibility=3)

    def negotiate(self):
        return self.ctx.step()

    def authenticate(self, challenge):
        return self.ctx.step(challenge)


def main(args):
    enable_md4_for_ntlm_auth()
    prog = args.ntlm_auth
    sock = args.socket
    run = Runner()
    alice, bob, ruth = ACCOUNTS["alice"], ACCOUNTS["bob"], ACCOUNTS["ruth"]
    user_alice = f"{DOMAIN}\\alice"

    def helper(proto, *extra):
        return LineProcess([prog, f"--helper-protocol={proto}", "--ntlmd-socket", sock] + list(extra),
                           f"ntlm_auth {proto}")

    def finish(h, problems):
        rc, err = h.close()
        if rc != 0:
            problems.append(f"exit status {rc} on EOF ({err.strip()[-300:]})")
        return problems

    # ---------------------------------------------------------- squid-2.5-ntlmssp

    def handshake(h, user, password, domain=DOMAIN, prefix=("YR", "KK"), extras=""):
        c = Client(user, password, domain)
        tt = h.request(f"{prefix[0]} {b64(c.negotiate())}{extras}")
        if not tt.startswith("TT "):
            return tt, None
        return h.request(f"{prefix[1]} {b64(c.authenticate(unb64(tt[3:])))}"), tt

    def ntlmssp(user, password, expected, *extra):
        def f():
            h = helper("squid-2.5-ntlmssp", *extra)
            reply, tt = handshake(h, user, password)
            p = [] if tt is not None else [f"no TT: {reply}"]
            return finish(h, p + want(reply, expected))
        return f

    run.case("squid-2.5-ntlmssp: right password -> AF DOMAIN\\user",
             ntlmssp("alice", alice.password, f"AF {user_alice}"))
    run.case("squid-2.5-ntlmssp: wrong password -> NA NT_STATUS_LOGON_FAILURE",
             ntlmssp("alice", WRONG, "NA NT_STATUS_LOGON_FAILURE"))
    run.case("squid-2.5-ntlmssp: unknown user -> NA NT_STATUS_LOGON_FAILURE (same as a wrong password)",
             ntlmssp("nosuchuser", WRONG, "NA NT_STATUS_LOGON_FAILURE"))
    run.case("squid-2.5-ntlmssp: disabled account -> NA NT_STATUS_ACCOUNT_DISABLED",
             ntlmssp("bob", bob.password, "NA NT_STATUS_ACCOUNT_DISABLED"))
    run.case("squid-2.5-ntlmssp --squid-kv-replies: OK user=<url-escaped>",
             ntlmssp("alice", alice.password, f"OK user={DOMAIN}%5Calice", "--squid-kv-replies"))
    run.case("squid-2.5-ntlmssp --squid-kv-replies: ERR message=NT_STATUS_LOGON_FAILURE",
             ntlmssp("alice", WRONG, "ERR message=NT_STATUS_LOGON_FAILURE", "--squid-kv-replies"))
    run.case("--require-membership-of: member (NSS, uid of the account) -> AF",
             ntlmssp("ruth", ruth.password, f"AF {DOMAIN}\\ruth", "--require-membership-of", f"{DOMAIN}\\root"))
    run.case("--require-membership-of: not a member -> NA NT_STATUS_LOGON_FAILURE",
             ntlmssp("ruth", ruth.password, "NA NT_STATUS_LOGON_FAILURE", "--require-membership-of=nogroup"))
    run.case("--require-membership-of: unknown group -> NA NT_STATUS_INVALID_PARAMETER",
             ntlmssp("ruth", ruth.password, "NA NT_STATUS_INVALID_PARAMETER",
                     "--require-membership-of=no-such-group-xyz"))
    run.case("--require-membership-of=SID that no store knows (no domain_sid here) -> NA NT_STATUS_LOGON_FAILURE",
             ntlmssp("ruth", ruth.password, "NA NT_STATUS_LOGON_FAILURE",
                     "--require-membership-of=S-1-5-21-1-2-3-513"))

    def garbage():
        h = helper("squid-2.5-ntlmssp")
        p = []
        c = Client("alice", alice.password)
        neg = c.negotiate()
        for line, exp in [
            ("YR", "NA NT_STATUS_INVALID_PARAMETER"),
            ("YR !!!notbase64", "NA NT_STATUS_INVALID_PARAMETER"),
            ("YR " + b64(b"NTLMSSP\0\x09\0\0\0" + b"\0" * 24), "NA NT_STATUS_INVALID_PARAMETER"),
            ("YR " + b64(b"hello world, no NTLM"), "NA NT_STATUS_INVALID_PARAMETER"),
            ("", "BH Query invalid"),
            ("Y", "BH Query invalid"),
            ("OK", "BH Command expected"),
            ("XX abc", "BH SPNEGO request invalid prefix"),
            ("SF NTLMSSP_FEATURE_SESSION_KEY", "OK"),
            ("PW " + b64(b"whatever"), "OK"),
            ("GK", "BH No session key"),
            ("YR " + "A" * 70000, "BH Oversized message"),
            ("YR " + b64(neg), re.compile(r"TT TlRMTVNTUAACAAAA[A-Za-z0-9+/=]+")),
            ("YR " + b64(neg), re.compile(r"TT TlRMTVNTUAACAAAA[A-Za-z0-9+/=]+")),
            ("KK " + b64(neg), "NA NT_STATUS_INVALID_PARAMETER"),
        ]:
            p += want(h.request(line), exp, f"reply to {line[:40]!r}")
        # still serving after all that
        reply, _ = handshake(h, "alice", alice.password)
        p += want(reply, f"AF {user_alice}", "handshake after the garbage")
        return finish(h, p)

    run.case("squid-2.5-ntlmssp: garbage lines get Samba's NA/BH and the helper goes on", garbage)

    def kk_first_and_reset():
        h = helper("squid-2.5-ntlmssp")
        p = []
        reply, tt = handshake(h, "alice", alice.password, prefix=("KK", "KK"))
        p += want(reply, f"AF {user_alice}", "KK NEGOTIATE without YR")
        # a fresh YR in the middle of a handshake starts over
        c1 = Client("alice", alice.password)
        h.request("YR " + b64(c1.negotiate()))
        c2 = Client("alice", alice.password)
        tt2 = h.request("YR " + b64(c2.negotiate()))
        p += want(h.request("KK " + b64(c2.authenticate(unb64(tt2[3:])))), f"AF {user_alice}", "after reset")
        # an AUTHENTICATE with no context
        c3 = Client("alice", alice.password)
        c3.negotiate()
        t3 = c1.authenticate(unb64(tt2[3:]))
        p += want(h.request("YR " + b64(t3)), "NA NT_STATUS_INVALID_PARAMETER", "YR AUTHENTICATE")
        # key_extras after the blob, and a blob without its padding
        c4 = Client("alice", alice.password)
        tt4 = h.request("YR " + b64(c4.negotiate()).rstrip("=") + " 127.0.0.1 extra")
        p += want(tt4[:3], "TT ", "YR with key_extras and no padding")
        p += want(h.request("KK " + b64(c4.authenticate(unb64(tt4[3:]))) + " 127.0.0.1"), f"AF {user_alice}")
        gk = h.request("GK")
        p += want(gk, re.compile(r"GK [A-Za-z0-9+/]{22}=="))
        p += want(h.request("GF"), re.compile(r"GF 0x[0-9a-f]{8}"))
        return finish(h, p)

    run.case("squid-2.5-ntlmssp: KK before YR, YR resets mid-handshake, key_extras, GK/GF", kk_first_and_reset)

    def quiet_start_and_eof():
        h = helper("squid-2.5-ntlmssp")
        time.sleep(0.3)
        p = []
        import select
        r, _, _ = select.select([h.proc.stdout], [], [], 0.2)
        if r:
            p.append("wrote to stdout before any request")
        return finish(h, p)

    run.case("nothing on stdout before a request; exit 0 on EOF", quiet_start_and_eof)

    def daemon_down():
        h = LineProcess([prog, "--helper-protocol=squid-2.5-ntlmssp", "--ntlmd-socket", sock + ".absent"], "down")
        c = Client("alice", alice.password)
        p = want(h.request("YR " + b64(c.negotiate())), "BH NT_STATUS_NO_LOGON_SERVERS NT_STATUS_NO_LOGON_SERVERS")
        rc, err = h.close()
        if "ntlmd" not in err:
            p.append(f"stderr does not name ntlmd: {err!r}")
        return p

    run.case("ntlmd unreachable -> BH (helper failure, not NA) and a log line", daemon_down)

    def daemon_down_others():
        p = []
        h = LineProcess([prog, "--helper-protocol=gss-spnego", "--ntlmd-socket", sock + ".absent"], "down")
        c = Client("alice", alice.password)
        p += want(h.request("YR " + b64(c.negotiate())), "BH NT_STATUS_NO_LOGON_SERVERS * NT_STATUS_NO_LOGON_SERVERS")
        h.close()
        r = subprocess.run([prog, "--ntlmd-socket", sock + ".absent", "--request-nt-key", "--username=alice",
                            "--challenge=0011223344556677", "--nt-response=" + "00" * 24],
                           capture_output=True, text=True, timeout=TIMEOUT)
        # FreeRADIUS: "No logon servers" / 0xC000005E is a module failure (retry), not a reject
        p += want(r.returncode, 1) + want(r.stdout, "No logon servers (0xc000005e)\n")
        return p

    run.case("ntlmd unreachable: gss-spnego BH in three fields; exec mode 'No logon servers (0xc000005e)'",
             daemon_down_others)

    # ---------------------------------------------------------- gss-spnego

    def spnego(user, password, wrapped, expected, *extra):
        def f():
            h = helper("gss-spnego", *extra)
            c = Client(user, password)
            neg = c.negotiate()
            p = []
            if wrapped:
                tt = h.request("YR " + b64(neg_token_init([OID_NTLMSSP], neg)))
                if not tt.startswith("TT ") or not tt.endswith(" *"):
                    return finish(h, [f"no TT: {tt}"])
                blob = unb64(tt[3:-2])
                chal = resp_token(blob)
                p += want(blob, expected_resp(1, chal), "SPNEGO TT token")
                reply = h.request("KK " + b64(neg_token_resp(c.authenticate(chal))))
            else:
                tt = h.request("YR " + b64(neg))
                if not tt.startswith("TT TlRMTVNTUAACAAAA") or not tt.endswith(" *"):
                    return finish(h, [f"no raw TT: {tt}"])
                reply = h.request("KK " + b64(c.authenticate(unb64(tt[3:-2]))))
            return finish(h, p + want(reply, expected))
        return f

    done = b64(expected_resp(0))
    run.case("gss-spnego: raw NTLMSSP -> TT <raw> *, AF * user",
             spnego("alice", alice.password, False, f"AF * {user_alice}"))
    run.case("gss-spnego: SPNEGO -> TT <NegTokenResp accept-incomplete> *, AF oQcwBaADCgEA user",
             spnego("alice", alice.password, True, f"AF {done} {user_alice}"))
    run.case("gss-spnego: wrong password -> NA * NT_STATUS_LOGON_FAILURE",
             spnego("alice", WRONG, True, "NA * NT_STATUS_LOGON_FAILURE"))
    run.case("gss-spnego --squid-kv-replies: OK token=... user=...",
             spnego("alice", alice.password, True, f"OK token={done} user={DOMAIN}%5Calice", "--squid-kv-replies"))
    run.case("gss-spnego --squid-kv-replies raw: OK token=AA== user=...",
             spnego("alice", alice.password, False, f"OK token=AA== user={DOMAIN}%5Calice", "--squid-kv-replies"))

    # ---------------------------------------------------------- one canonical account (issue 13)

    def canonical(proto, extra, expected_ok, expected_no):
        """Whatever domain and case the client types, the verdict names the
        account as the store holds it; a domain the server does not serve
        is refused."""
        def f():
            p = []
            for typed_domain in ("testdom", "TestDom", ""):
                for typed_user in ("alice", "ALICE"):
                    h = helper(proto, *extra)
                    c = Client(typed_user, alice.password, typed_domain)
                    tt = h.request("YR " + b64(c.negotiate()))
                    if not tt.startswith("TT "):
                        p.append(f"{typed_domain}\\{typed_user}: no TT: {tt}")
                        finish(h, [])
                        continue
                    chal = unb64(tt.split()[1])
                    reply = h.request("KK " + b64(c.authenticate(chal)))
                    p += want(reply, expected_ok, f"{typed_domain}\\{typed_user}")
                    finish(h, p)
            for foreign in ("OTHERDOM", "CORP"):
                h = helper(proto, *extra)
                c = Client("alice", alice.password, foreign)
                tt = h.request("YR " + b64(c.negotiate()))
                reply = h.request("KK " + b64(c.authenticate(unb64(tt.split()[1]))))
                p += want(reply, expected_no, f"{foreign}\\alice")
                finish(h, p)
            return p
        return f

    run.case("squid-2.5-ntlmssp: typed testdom/TestDom/empty, alice/ALICE -> AF TESTDOM\\alice; OTHERDOM -> NA",
             canonical("squid-2.5-ntlmssp", [], f"AF {user_alice}", "NA NT_STATUS_LOGON_FAILURE"))
    run.case("squid-2.5-ntlmssp --squid-kv-replies: the same, OK user=TESTDOM%5Calice; OTHERDOM -> ERR",
             canonical("squid-2.5-ntlmssp", ["--squid-kv-replies"], f"OK user={DOMAIN}%5Calice",
                       "ERR message=NT_STATUS_LOGON_FAILURE"))
    run.case("gss-spnego (raw NTLMSSP): the same, AF * TESTDOM\\alice; OTHERDOM -> NA",
             canonical("gss-spnego", [], f"AF * {user_alice}", "NA * NT_STATUS_LOGON_FAILURE"))
    run.case("gss-spnego --squid-kv-replies: the same, OK token=AA== user=TESTDOM%5Calice; OTHERDOM -> ERR",
             canonical("gss-spnego", ["--squid-kv-replies"], f"OK token=AA== user={DOMAIN}%5Calice",
                       re.compile(r"ERR (token=\S+ )?message=NT_STATUS_LOGON_FAILURE")))

    def spnego_edges():
        h = helper("gss-spnego")
        p = []
        init = h.request("YR")
        want_init = tlv(0x60, tlv(0x06, OID_SPNEGO) + tlv(0xA0, tlv(0x30, tlv(0xA0, tlv(0x30, tlv(0x06, OID_NTLMSSP))))))
        p += want(init, f"TT {b64(want_init)} *", "empty YR")
        krb = tlv(0x60, tlv(0x06, OID_KRB5) + b"\x01\x00" + tlv(0x6E, tlv(0x30, tlv(0xA0, tlv(0x02, b"\x05")))))
        p += want(h.request("YR " + b64(krb)), "BH Kerberos is not served by this helper", "bare Kerberos")
        # Kerberos first, NTLMSSP offered too: the acceptor asks for NTLMSSP
        c = Client("alice", alice.password)
        tt = h.request("YR " + b64(neg_token_init([OID_KRB5, OID_NTLMSSP], krb)))
        p += want(tt, f"TT {b64(expected_resp(1))} *", "Kerberos optimistic token, NTLMSSP offered")
        tt = h.request("KK " + b64(neg_token_resp(c.negotiate())))
        chal = resp_token(unb64(tt[3:-2]))
        p += want(h.request("KK " + b64(neg_token_resp(c.authenticate(chal)))), f"AF {done} {user_alice}")
        p += want(h.request("YR %%%"), f"TT {b64(want_init)} *", "YR blob that is not base64 (nothing, as Samba)")
        p += want(h.request("KK %%%"), "NA * NT_STATUS_INVALID_PARAMETER", "KK blob that is not base64")
        p += want(h.request("KK " + b64(b"\x30\x03\x02\x01")), "NA * NT_STATUS_INVALID_PARAMETER", "bad DER")
        rc, err = h.close()
        if rc != 0:
            p.append(f"exit {rc}")
        if "Kerberos is not served" not in err:
            p.append("no log line saying Kerberos is not served")
        return p

    run.case("gss-spnego: empty YR -> NegTokenInit; Kerberos refused with a log line; Kerberos-first renegotiated",
             spnego_edges)

    def spnego_mic_noted_once():
        h = helper("gss-spnego")
        p = []
        for i in range(3):
            c = Client("alice", alice.password)
            tt = h.request("YR " + b64(neg_token_init([OID_NTLMSSP], c.negotiate())))
            chal = resp_token(unb64(tt[3:-2]))
            reply = h.request("KK " + b64(neg_token_resp(c.authenticate(chal), mic=bytes(16))))
            p += want(reply, f"AF {done} {user_alice}", f"logon {i + 1} with a mechListMIC")
        rc, err = h.close()
        if rc != 0:
            p.append(f"exit {rc}")
        n = err.count("mechListMIC is not checked")
        if n != 1:
            p.append(f"the mechListMIC line was logged {n} times in one process, not once: {err!r}")
        return p

    run.case("gss-spnego: three logons with a mechListMIC: accepted, 'not checked' logged once per process",
             spnego_mic_noted_once)

    # ---------------------------------------------------------- basic

    def basic(lines, *extra, proto="squid-2.5-basic"):
        def f():
            h = helper(proto, *extra)
            p = []
            for line, exp in lines:
                p += want(h.request(line), exp, f"reply to {line!r}")
            return finish(h, p)
        return f

    pw = "Passw0rd!"
    run.case("squid-2.5-basic: OK / ERR, escaped names, strict unescaping", basic([
        ("testdom%5Calice Passw0rd!", "OK"),
        ("alice Passw0rd%21", "OK"),
        ("alice Passw0rd! key_extras", "OK"),
        ("alice WrongPass1", "ERR"),
        ("nosuchuser WrongPass1", "ERR"),
        ("bob Bobpass1%21", "ERR"),
        ("alice Passw0rd%2", "ERR"),
        ("alice Passw0rd%00", "ERR"),
        ("alice%G1 x", "ERR"),
        ("alicePassw0rd", "ERR"),
        ("", "ERR"),
        ("alice " + "x" * 70000, "ERR"),
        ("alice " + pw, "OK"),
    ]))
    run.case("squid-2.5-basic: DOMAIN\\user names the account's own domain or none; another domain -> ERR",
             basic([
                 ("OTHERDOM%5Calice Passw0rd!", "ERR"),
                 ("CORP%5Calice Passw0rd!", "ERR"),
                 ("TestDom%5CALICE Passw0rd!", "OK"),
                 ("%5Calice Passw0rd!", "OK"),
             ]))
    run.case("squid-2.5-basic --channel-ids: the ID is echoed", basic([
        ("7 alice Passw0rd!", "7 OK"),
        ("18446744073709551615 alice nope", "18446744073709551615 ERR"),
    ], "--channel-ids"))
    run.case("squid-2.5-basic --squid-kv-replies: ERR message=; OK user= names the account, not the spelling", basic([
        ("alice nope", "ERR message=NT_STATUS_LOGON_FAILURE"),
        ("alice Passw0rd!", f"OK user={DOMAIN}%5Calice"),
        ("ALICE Passw0rd!", f"OK user={DOMAIN}%5Calice"),
        ("testdom%5CAlice Passw0rd!", f"OK user={DOMAIN}%5Calice"),
    ], "--squid-kv-replies"))
    run.case("squid-2.4-basic: no unescaping, password with spaces", basic([
        ("alice Passw0rd!", "OK"),
        ("alice Passw0rd%21", "ERR"),
    ], proto="squid-2.4-basic"))

    # ---------------------------------------------------------- ntlm-server-1

    def block(h, lines):
        out = []
        for line in lines:
            h.send(line)
        while True:
            got = h.readline()
            out.append(got)
            if got == ".":
                break
        return out

    def server1():
        h = helper("ntlm-server-1")
        p = []
        nth = nt_hash(alice.password)
        chal = os.urandom(8)
        resp = desl(nth, chal)
        got = block(h, ["Username: alice", f"NT-Domain: {DOMAIN}", f"LANMAN-Challenge: {chal.hex()}",
                        f"NT-Response: {resp.hex()}", "Request-User-Session-Key: Yes", "."])
        p += want(got, ["Authenticated: Yes", f"User-Session-Key: {md4(nth).hex().upper()}", "."], "good block")
        chal = os.urandom(8)
        bad = bytearray(desl(nth, chal))
        bad[-1] ^= 1
        got = block(h, ["Username:: " + b64(b"alice"), f"LANMAN-Challenge: {chal.hex()}",
                        f"NT-Response: {bytes(bad).hex()}", "."])
        got.append(h.readline())
        # Samba 4.17 against winbindd (recorded): the NTSTATUS text of
        # get_friendly_nt_error_msg(), no squashing, then "." twice
        p += want(got, ["Authenticated: No", f"Authentication-Error: {SAMBA_WRONG_PASSWORD}", ".", "."],
                  "bad response")
        got = block(h, ["Username: nosuch", f"LANMAN-Challenge: {chal.hex()}", f"NT-Response: {bytes(bad).hex()}",
                        "."])
        got.append(h.readline())
        # Samba 4.17 answers "The specified account does not exist." here;
        # ntlmd tells no one whether an account exists (LOGON_FAILURE)
        p += want(got, ["Authenticated: No", f"Authentication-Error: {SAMBA_LOGON_FAILURE}", ".", "."],
                  "unknown user")
        got = block(h, ["Username: alice", "Password: " + alice.password, "."])
        p += want(got, ["Authenticated: Yes", "."], "plaintext")
        # a failed plaintext check: no error line and one "." (Samba 4.17),
        # so the next block's answer is the next one read
        got = block(h, ["Username: alice", "Password: " + WRONG, "."])
        p += want(got, ["Authenticated: No", "."], "plaintext, wrong password")
        got = block(h, ["Username: alice", "NT-Domain: ", "Password: " + alice.password, "."])
        p += want(got, ["Authenticated: Yes", "."], "plaintext, empty NT-Domain (the server's own)")
        # a line that cannot be taken: its error answers the block, at its
        # "." (Samba answers at once and the "." again: ntlm_auth(1))
        p += want(block(h, ["garbage", "."]), ["Error: Parameter not found!", "."])
        p += want(block(h, ["Frobnicate: 1", "."]), ["Error: Unknown request Frobnicate", "."])
        p += want(block(h, ["LANMAN-Challenge: 00", "."]),
                  ["Error: hex decode of 00 failed! (got 1 bytes, expected 8)", "."])
        p += want(block(h, ["."]), ["Error: No username supplied!", "."])
        p += want(block(h, ["Username: alice", "."]), ["Error: No password supplied!", "."])
        return finish(h, p)

    run.case("ntlm-server-1: MS-CHAP block, session key, wrong response (double dot), errors", server1)

    def server1_one_reply_per_block():
        # A front end (Radiator) writes a block and reads one reply, up to a
        # ".". Samba answers a line it cannot take at once and the block's
        # "." again: the attacker's own block (right password + one bad
        # line) left its "Authenticated: Yes" to be read as the answer to
        # the next block, a victim's name with a wrong password. Here each
        # block has exactly one reply: the bad line's error, nothing checked.
        ruth = ACCOUNTS["ruth"]
        p = []
        for bad in ("Password:: " + b64(b"x\0y"), "LANMAN-Response: 00", "garbage",
                    "NT-Response: " + "0" * 40000, "Username: " + "a" * 70000):
            h = helper("ntlm-server-1")
            got = block(h, ["Username: alice", "Password: " + alice.password, bad, "."])
            p += want(got[0][:7], "Error: ", f"attacker's block ({bad[:20]})")
            got = block(h, [f"Username: {ruth.user}", "Password: not-the-password", "."])
            p += want(got, ["Authenticated: No", "."], f"victim's block after {bad[:20]!r}")
            got = block(h, ["Username: alice", "Password: " + alice.password, "."])
            p += want(got, ["Authenticated: Yes", "."], f"a good block after {bad[:20]!r}")
            finish(h, p)
        return p

    run.case("ntlm-server-1: one reply per block: a bad line answers at the \".\", no shift",
             server1_one_reply_per_block)

    # ---------------------------------------------------------- ntlmssp-client-1 against our server

    def client_mode(with_password):
        def f():
            args = ["--username", "alice", "--domain", DOMAIN]
            if with_password:
                args += ["--password", alice.password]
            c = helper("ntlmssp-client-1", *args)
            s = helper("squid-2.5-ntlmssp")
            p = []
            yr = c.request("YR")
            if not with_password:
                p += want(yr, "PW", "YR without a password")
                p += want(c.request("PW " + b64(alice.password.encode())), "OK")
                yr = c.readline()
            if not yr.startswith("YR TlRMTVNTUAABAAAA"):
                return finish(c, p + [f"no NEGOTIATE: {yr}"])
            tt = s.request("YR " + yr[3:])
            af = c.request(tt)
            if not af.startswith("AF TlRMTVNTUAADAAAA"):
                return finish(c, p + [f"no AUTHENTICATE: {af}"])
            p += want(s.request("KK " + af[3:]), f"AF {user_alice}", "server verdict")
            p += want(c.request("GK")[:3], "GK ")
            finish(s, p)
            return finish(c, p)
        return f

    run.case("ntlmssp-client-1 with --password, against squid-2.5-ntlmssp", client_mode(True))
    run.case("ntlmssp-client-1 asks PW, then answers", client_mode(False))

    # ---------------------------------------------------------- names with control characters
    # A user, domain or workstation holding a control character (C0, DEL,
    # C1) is refused: by the AUTHENTICATE decoder, by ntlmd for the bare
    # requests, each time with STATUS_NTLM_CONTROL_CHARACTER in ntlmd's log.
    # Whatever the name, each request gets exactly one reply line, with no
    # control byte before its LF, and the next request its own answer.

    controls = [("LF", "\n"), ("CR", "\r"), ("TAB", "\t"), ("NUL", "\0"), ("DEL", "\x7f"), ("NEL", "\u0085")]
    # what a domain with a line break would smuggle in: a verdict for ruth
    hostile = f"{DOMAIN}{{}}AF {DOMAIN}\\ruth"

    def raw_reply(h, line):
        """Sends line; returns the raw bytes of the first reply line (no LF)
        and whatever else the helper wrote within half a second."""
        h.send(line)
        deadline = time.monotonic() + TIMEOUT
        while b"\n" not in h.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise clients.ProtocolError(f"{h.name}: no answer within {TIMEOUT} s")
            if h.sel.select(left):
                chunk = os.read(h.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise clients.ProtocolError(f"{h.name}: exited ({h.stderr_text().strip()[-300:]})")
                h.buf += chunk
        first, rest = h.buf.split(b"\n", 1)
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            if h.sel.select(max(0.0, end - time.monotonic())):
                chunk = os.read(h.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                rest += chunk
        h.buf = b""
        return first, rest

    def one_line(first, rest, expected, what):
        p = []
        if rest:
            p.append(f"{what}: more than one reply line, then {rest!r}")
        if any(c < 0x20 or c == 0x7F for c in first):
            p.append(f"{what}: a control byte in the reply {first!r}")
        return p + want(first.decode("utf-8", "replace"), expected, what)

    def log_offset():
        return os.path.getsize(args.log)

    def logged_since(offset, text):
        """Whether ntlmd's log got text after offset (it writes the audit
        line before the reply; a moment is allowed for the file)."""
        for _ in range(20):
            with open(args.log, "rb") as f:
                f.seek(offset)
                if text.encode() in f.read():
                    return True
            time.sleep(0.1)
        return False

    status_cc = "STATUS_NTLM_CONTROL_CHARACTER"

    def hostile_ntlmssp(proto, extra, refused, good, field="domain"):
        from ntlm_auth.ntlm import NtlmContext

        def f():
            h = helper(proto, *extra)
            spnego = proto == "gss-spnego"
            p = []
            for (label, c), unicode in itertools.product(controls, (True, False)):
                if not unicode and c > "\x7f":
                    continue  # OEM names are ASCII
                label += " (UTF-16)" if unicode else " (OEM)"
                cl = NtlmContext("alice", alice.password, domain=DOMAIN, workstation=WORKSTATION,
                                 ntlm_compatibility=3)
                neg = cl.step()
                if unicode:
                    # python3-ntlm-auth offers OEM only; offering UNICODE too
                    # makes ntlmd choose it, and the AUTHENTICATE is UTF-16
                    m = cl._negotiate_message
                    m.negotiate_flags = (struct.unpack("<I", m.negotiate_flags)[0] | 0x1).to_bytes(4, "little")
                    neg = m.get_data()
                # the hostile name goes in the AUTHENTICATE only
                if field == "domain":
                    cl.domain = hostile.format(c)
                elif field == "user":
                    cl.username = f"alice{c}x"
                else:
                    cl.workstation = f"{WORKSTATION}{c}x"
                tt = h.request("YR " + b64(neg_token_init([OID_NTLMSSP], neg) if spnego else neg))
                if not tt.startswith("TT "):
                    p.append(f"{label}: no TT: {tt}")
                    continue
                chal = resp_token(unb64(tt[3:-2])) if spnego else unb64(tt[3:])
                auth = cl.step(chal)
                offset = log_offset()
                first, rest = raw_reply(h, "KK " + b64(neg_token_resp(auth) if spnego else auth))
                p += one_line(first, rest, refused, f"{field} with {label}")
                if not logged_since(offset, status_cc):
                    p.append(f"{field} with {label}: no {status_cc} in ntlmd's log")
                # the next request gets its own, right answer
                c2 = Client("alice", alice.password)
                neg2 = c2.negotiate()
                tt = h.request("YR " + b64(neg_token_init([OID_NTLMSSP], neg2) if spnego else neg2))
                chal = resp_token(unb64(tt[3:-2])) if spnego else unb64(tt[3:])
                auth = c2.authenticate(chal)
                first, rest = raw_reply(h, "KK " + b64(neg_token_resp(auth) if spnego else auth))
                p += one_line(first, rest, good, f"the logon after the {label} one")
            rc, err = h.close()
            if rc != 0:
                p.append(f"exit status {rc}")
            if status_cc not in err:
                p.append(f"stderr does not name {status_cc}: {err.strip()[-300:]!r}")
            return p
        return f

    kv_user = f"{DOMAIN}%5Calice"
    run.case("squid-2.5-ntlmssp: a domain with LF, CR, TAB, NUL, DEL or NEL -> one line, "
             "NA NT_STATUS_INVALID_PARAMETER (STATUS_NTLM_CONTROL_CHARACTER)",
             hostile_ntlmssp("squid-2.5-ntlmssp", [], "NA NT_STATUS_INVALID_PARAMETER", f"AF {user_alice}"))
    run.case("squid-2.5-ntlmssp: a user with a control character -> NA, one line",
             hostile_ntlmssp("squid-2.5-ntlmssp", [], "NA NT_STATUS_INVALID_PARAMETER", f"AF {user_alice}",
                             field="user"))
    run.case("squid-2.5-ntlmssp: a workstation with a control character -> NA, one line",
             hostile_ntlmssp("squid-2.5-ntlmssp", [], "NA NT_STATUS_INVALID_PARAMETER", f"AF {user_alice}",
                             field="workstation"))
    run.case("squid-2.5-ntlmssp --squid-kv-replies: a domain with a control character -> one line, ERR",
             hostile_ntlmssp("squid-2.5-ntlmssp", ["--squid-kv-replies"], "ERR message=NT_STATUS_INVALID_PARAMETER",
                             f"OK user={kv_user}"))
    run.case("gss-spnego: a domain with LF, CR, TAB, NUL, DEL or NEL -> one line, NA * NT_STATUS_INVALID_PARAMETER",
             hostile_ntlmssp("gss-spnego", [], "NA * NT_STATUS_INVALID_PARAMETER", f"AF {done} {user_alice}"))
    run.case("gss-spnego --squid-kv-replies: a domain with a control character -> one line, ERR",
             hostile_ntlmssp("gss-spnego", ["--squid-kv-replies"], "ERR message=NT_STATUS_INVALID_PARAMETER",
                             f"OK token={done} user={kv_user}"))

    def hostile_basic(extra, refused, ok):
        def f():
            h = helper("squid-2.5-basic", *extra)
            p = []
            for label, esc in [("LF", "%0A"), ("CR", "%0D"), ("TAB", "%09"), ("NUL", "%00"), ("DEL", "%7F"),
                               ("NEL", "%C2%85")]:
                first, rest = raw_reply(h, f"{DOMAIN}{esc}%5Calice {alice.password}")
                p += one_line(first, rest, refused, f"domain with {label}")
                first, rest = raw_reply(h, f"al{esc}ice {alice.password}")
                p += one_line(first, rest, refused, f"user with {label}")
                first, rest = raw_reply(h, f"alice {alice.password}")
                p += one_line(first, rest, ok, f"the request after the {label} ones")
            return finish(h, p)
        return f

    run.case("squid-2.5-basic: DOMAIN or user with a control character -> ERR, one line",
             hostile_basic([], "ERR", "OK"))
    run.case("squid-2.5-basic --squid-kv-replies: DOMAIN or user with a control character -> ERR message=",
             hostile_basic(["--squid-kv-replies"], "ERR message=NT_STATUS_INVALID_PARAMETER",
                           f"OK user={DOMAIN}%5Calice"))

    def hostile_server1():
        h = helper("ntlm-server-1")
        p = []
        for label, c in controls:
            if c == "\0":  # a NUL in a base64 value is refused while reading, as Samba does
                p += want(block(h, ["NT-Domain:: " + b64(f"{DOMAIN}{c}".encode()), "."]),
                          ["Error: base64 decode failed!", "."], "NT-Domain with NUL")
                continue
            offset = log_offset()
            got = block(h, ["Username: alice", "NT-Domain:: " + b64(f"{DOMAIN}{c}".encode()),
                            "Password: " + alice.password, "."])
            p += want(got, ["Authenticated: No", "."], f"NT-Domain with {label}")
            if not logged_since(offset, status_cc):
                p.append(f"NT-Domain with {label}: no {status_cc} in ntlmd's log")
        # values echoed in error texts keep to their line
        p += want(block(h, ["NT-Response:: " + b64(b"zz\nAuthenticated: Yes"), "."]),
                  ["Error: hex decode of zz?Authenticated: Yes failed! (only got 0 bytes, needed at least 24)", "."],
                  "a hex value with LF")
        p += want(block(h, ["Frob\tnicate\x1b: 1", "."]), ["Error: Unknown request Frob?nicate?", "."], "a key with TAB, ESC")
        got = block(h, ["Username: alice", "Password: " + alice.password, "."])
        p += want(got, ["Authenticated: Yes", "."], "the block after them")
        return finish(h, p)

    run.case("ntlm-server-1: NT-Domain with a control character refused; echoed values keep to their line",
             hostile_server1)

    def negotiate_names_untouched():
        # NEGOTIATE's own domain and workstation are informative: not refused
        h = helper("squid-2.5-ntlmssp")
        c = Client("alice", alice.password)
        neg = bytearray(c.negotiate())
        oem = b"TEST\tDOM"
        flags = int.from_bytes(neg[12:16], "little") | 0x1000  # NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED
        neg[12:16] = flags.to_bytes(4, "little")
        neg[16:24] = len(oem).to_bytes(2, "little") * 2 + len(neg).to_bytes(4, "little")
        tt = h.request("YR " + b64(bytes(neg) + oem))
        p = want(tt[:3], "TT ", "a NEGOTIATE whose OEM domain holds a TAB")
        return finish(h, p)

    run.case("a NEGOTIATE whose informative domain holds a TAB still gets a CHALLENGE", negotiate_names_untouched)

    # ---------------------------------------------------------- side by side with Samba's ntlm_auth

    SAMBA = "/usr/bin/ntlm_auth"

    def same_as_samba(proto, lines, loose=("TT ",)):
        """Both helpers get the same lines; Samba's runs in its local test
        mode (--password, no winbindd needed). Replies must be identical,
        but for those starting with a prefix in loose (random challenges),
        where the first word must match."""
        def f():
            if not os.access(SAMBA, os.X_OK):
                return [f"{SAMBA} (Debian samba-common-bin / winbind) is missing"]
            ours = helper(proto)
            theirs = LineProcess([SAMBA, f"--helper-protocol={proto}", "--password=x"], "samba ntlm_auth")
            p = []
            for line in lines:
                a, b = ours.request(line), theirs.request(line)
                if any(b.startswith(x) for x in loose):
                    a, b = a.split(" ")[0], b.split(" ")[0]
                if a != b:
                    p.append(f"{line[:30]!r}: ours {a!r}, Samba {b!r}")
            theirs.close()
            return finish(ours, p)
        return f

    cs = Client("alice", alice.password)
    neg1 = cs.negotiate()
    run.case("squid-2.5-ntlmssp: the same replies as Samba's ntlm_auth, line by line", same_as_samba(
        "squid-2.5-ntlmssp",
        ["YR", "YR !!!notbase64", "OK", "XX abc", "Y", "SF NTLMSSP_FEATURE_SESSION_KEY", "GK",
         "PW " + b64(b"secret"), "YR " + b64(b"hello world, no NTLM"), "YR " + b64(neg1), "KK " + b64(neg1),
         "KK " + b64(neg1), "YR " + b64(neg1), "YR " + b64(neg1)]))
    run.case("gss-spnego: the same replies as Samba's ntlm_auth, line by line", same_as_samba(
        "gss-spnego",
        ["YR !!!notbase64", "OK", "XX abc", "Y", "GK", "YR " + b64(neg1),
         "YR " + b64(neg_token_init([OID_NTLMSSP], neg1)), "YR"]))

    def server1_same_as_samba():
        if not os.access(SAMBA, os.X_OK):
            return [f"{SAMBA} is missing"]
        ours = helper("ntlm-server-1")
        theirs = LineProcess([SAMBA, "--helper-protocol=ntlm-server-1", "--password=x"], "samba ntlm_auth")
        p = []
        # Samba answers a line it cannot take at once, then the block's "."
        # again ("Error: No username supplied!"); ours answers the block once,
        # with that first error (a deliberate deviation: ntlm_auth(1))
        for lines in (["garbage", "."], ["Frobnicate: 1", "."], ["LANMAN-Challenge: 00", "."],
                      ["LANMAN-Challenge: 0x0011zz", "."]):
            a, b = block(ours, lines), block(theirs, lines)
            if a != b:
                p.append(f"{lines}: ours {a}, Samba's first reply {b}")
            b2 = block(theirs, [])
            if b2 != ["Error: No username supplied!", "."]:
                p.append(f"{lines}: Samba's second reply {b2} (recorded: No username supplied)")
        for lines in (["."], ["Username: alice", "NT-Response: " + "00" * 24, "."],
                      ["Username: alice", "LANMAN-Challenge: 0011223344556677", "."]):
            a, b = block(ours, lines), block(theirs, lines)
            if a != b:
                p.append(f"{lines}: ours {a}, Samba {b}")
        theirs.close()
        return finish(ours, p)

    run.case("ntlm-server-1: the same error replies as Samba's ntlm_auth", server1_same_as_samba)

    def server1_password_same_as_samba():
        # --password: the responses are checked against it, for any user,
        # without ntlmd (Samba's test mode; its own tests rely on it). Samba
        # 4.17's answers to the same blocks, read live, and as recorded:
        # its test vector (python/samba/tests/ntlm_auth.py) gives
        # User-Session-Key 3F373EA8E4AF954F14FAA506F8EEBDC4.
        if not os.access(SAMBA, os.X_OK):
            return [f"{SAMBA} is missing"]
        ours = helper("ntlm-server-1", "--local-test-password", "--password=SecREt01")
        theirs = LineProcess([SAMBA, "--helper-protocol=ntlm-server-1", "--password=SecREt01"], "samba ntlm_auth")
        vector = "25a98c1c31e81847466b29b2df4680f39958fb8c213a9cc6"
        chal = os.urandom(8)
        v1 = desl(nt_hash("SecREt01"), chal).hex()
        p = []
        for lines, expect in (
                (["LANMAN-Challenge: 0123456789abcdef", f"NT-Response: {vector}", "NT-Domain: TEST",
                  "Username: testuser", "Request-User-Session-Key: Yes", "."],
                 ["Authenticated: Yes", "User-Session-Key: 3F373EA8E4AF954F14FAA506F8EEBDC4", "."]),
                (["LANMAN-Challenge: A123456789abcdef", f"NT-Response: {vector}", "NT-Domain: TEST",
                  "Username: testuser", "Request-User-Session-Key: Yes", "."],
                 ["Authenticated: No", f"Authentication-Error: {SAMBA_WRONG_PASSWORD}", ".", "."]),
                ([f"LANMAN-Challenge: {chal.hex()}", f"NT-Response: {v1}", "Username: anyone", "."],
                 ["Authenticated: Yes", "."]),
                ([f"LANMAN-Challenge: {chal.hex()}", f"NT-Response: {v1}", "Username: anyone", "NT-Domain: ",
                  "Request-User-Session-Key: Yes", "."],
                 ["Authenticated: Yes", f"User-Session-Key: {md4(nt_hash('SecREt01')).hex().upper()}", "."])):
            a, b = block(ours, lines), block(theirs, lines)
            if a[:1] == ["Authenticated: No"] and len(a) > 2:
                a.append(ours.readline())
            if b[:1] == ["Authenticated: No"] and len(b) > 2:
                b.append(theirs.readline())
            if a != b:
                p.append(f"{lines}: ours {a}, Samba {b}")
            if a != expect:
                p.append(f"{lines}: ours {a}, recorded {expect}")
        theirs.close()
        return finish(ours, p)

    run.case("ntlm-server-1 --password: checked locally, the same replies as Samba's ntlm_auth",
             server1_password_same_as_samba)

    def local_test_mode_asked_for():
        # --password with a server helper is Samba's test mode (any name,
        # that one password, no ntlmd: no policy, audit or lockout): only
        # with --local-test-password, never with an empty password or with
        # --require-membership-of, and it says so on stderr at start-up
        p = []

        def start(*argv):
            r = subprocess.run([prog, "--ntlmd-socket", sock] + list(argv), input=b"", capture_output=True,
                               timeout=TIMEOUT)
            return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

        for proto in ("squid-2.5-ntlmssp", "gss-spnego", "ntlm-server-1"):
            for pw in ("--password=", "--password=test"):
                rc, out, err = start(f"--helper-protocol={proto}", pw)
                p += want(rc, 1, f"{proto} {pw}: exit status")
                p += want(out, "", f"{proto} {pw}: stdout")
                if "--local-test-password" not in err:
                    p.append(f"{proto} {pw}: no word of --local-test-password on stderr: {err!r}")
            rc, out, err = start(f"--helper-protocol={proto}", "--local-test-password", "--password=")
            p += want(rc, 1, f"{proto} --local-test-password, empty password: exit status")
            rc, out, err = start(f"--helper-protocol={proto}", "--local-test-password", "--password=test",
                                 "--require-membership-of=root")
            p += want(rc, 1, f"{proto} --local-test-password --require-membership-of: exit status")
            rc, out, err = start(f"--helper-protocol={proto}", "--local-test-password")
            p += want(rc, 1, f"{proto} --local-test-password without --password: exit status")
            rc, out, err = start(f"--helper-protocol={proto}", "--local-test-password", "--password=test")
            p += want(rc, 0, f"{proto} --local-test-password --password=test: exit status")
            if "WARNING" not in err or "ANY user" not in err:
                p.append(f"{proto} --local-test-password: no warning at start-up: {err!r}")
        rc, out, err = start("--helper-protocol=ntlmssp-client-1", "--username=alice", "--password=x",
                             "--local-test-password")
        p += want(rc, 1, "ntlmssp-client-1 --local-test-password: exit status")
        # client modes and the basic ones take --password as before
        rc, out, err = start("--helper-protocol=ntlmssp-client-1", "--username=alice", "--password=x")
        p += want(rc, 0, "ntlmssp-client-1 --password: exit status")
        # the test mode's verdict, no ntlmd: only when asked for
        h = helper("ntlm-server-1", "--local-test-password", "--password=t")
        chal = os.urandom(8)
        got = block(h, ["Username: ghost", "NT-Domain: NOWHERE", f"LANMAN-Challenge: {chal.hex()}",
                        f"NT-Response: {desl(nt_hash('t'), chal).hex()}", "."])
        p += want(got, ["Authenticated: Yes", "."], "the test mode, asked for")
        return finish(h, p)

    run.case("server helpers: --password (Samba's test mode) only with --local-test-password, never empty, "
             "no --require-membership-of, a warning", local_test_mode_asked_for)

    # ---------------------------------------------------------- exec modes (FreeRADIUS)

    def exec_(*argv):
        r = subprocess.run([prog, "--ntlmd-socket", sock] + list(argv), capture_output=True, text=True,
                           timeout=TIMEOUT)
        return r.returncode, r.stdout, r.stderr

    def mschap(user, password, expect_rc, expect_out, *extra, domain=DOMAIN, chal=None, resp=None):
        def f():
            c = chal or os.urandom(8)
            r = resp or desl(nt_hash(password), c)
            rc, out, err = exec_("--request-nt-key", "--allow-mschapv2", f"--username={user}",
                                 f"--domain={domain}", f"--challenge={c.hex()}", f"--nt-response={r.hex()}", *extra)
            return want(rc, expect_rc, "exit status") + want(out, expect_out, "stdout")
        return f

    key = md4(nt_hash(alice.password)).hex().upper()
    run.case("exec: right response -> NT_KEY: MD4(NT hash), exit 0",
             mschap("alice", alice.password, 0, f"NT_KEY: {key}\n"))
    run.case("exec: wrong password -> 'Logon failure (0xc000006d)', exit 1",
             mschap("alice", WRONG, 1, "Logon failure (0xc000006d)\n"))
    run.case("exec: unknown user -> the same line",
             mschap("nosuchuser", WRONG, 1, "Logon failure (0xc000006d)\n"))
    run.case("exec: disabled account -> 'Account disabled (0xc0000072)' (FreeRADIUS: E=691)",
             mschap("bob", bob.password, 1, "Account disabled (0xc0000072)\n"))
    run.case("exec: --username=DOMAIN\\user is split", mschap(f"{DOMAIN}\\alice", alice.password, 0,
                                                             f"NT_KEY: {key}\n", domain=DOMAIN))

    def mismatch():
        rc, out, err = exec_("--request-nt-key", f"--username=OTHER\\alice", "--domain=TESTDOM",
                             "--challenge=0011223344556677", "--nt-response=" + "00" * 24)
        return want(rc, 1) + want(out, "") + ([] if "doesn't match" in err else [f"stderr {err!r}"])

    run.case("exec: domain in the user name differs from --domain -> exit 1", mismatch)

    def bad_hex():
        p = []
        for ch in ("00", "0x0011", "zz"):
            rc, out, err = exec_("--request-nt-key", "--username=alice", f"--challenge={ch}",
                                 "--nt-response=" + "00" * 24)
            p += want(rc, 1, ch) + want(out, "", ch)
            if "hex decode of" not in err:
                p.append(f"{ch}: stderr {err!r}")
        rc, out, _ = exec_("--request-nt-key", "--username=alice", "--challenge=0X0011223344556677",
                           "--nt-response=" + "00" * 23)
        p += want(rc, 1, "short NT response")
        return p

    run.case("exec: --challenge=00 and short responses -> exit 1, message on stderr only", bad_hex)

    def retransmit():
        c = os.urandom(8)
        r = desl(nt_hash(alice.password), c)
        p = []
        for i in range(2):
            p += mschap("alice", alice.password, 0, f"NT_KEY: {key}\n", chal=c, resp=r)()
        bad = bytes([r[0] ^ 1]) + r[1:]
        p += mschap("alice", alice.password, 1, "Logon failure (0xc000006d)\n", chal=c, resp=bad)()
        return p

    run.case("exec: identical retransmit answered again; another response on a used challenge refused",
             retransmit)

    def plaintext():
        p = []
        rc, out, _ = exec_("--username", "alice", "--password", alice.password)
        p += want(rc, 0) + want(out, "NT_STATUS_OK: Success (0x0)\n")
        rc, out, _ = exec_("--username=alice", "--password=nope")
        p += want(rc, 1) + want(out, "NT_STATUS_LOGON_FAILURE: Logon failure (0xc000006d)\n")
        return p

    run.case("exec: plaintext --username --password (option value as one or two arguments)", plaintext)

    def diagnostics_no_lockout():
        # --diagnostics sends ntlmd right responses only: its broken
        # variants are checked here (each one ntlmd refused counted toward
        # the lockout: 25 runs with the right password locked the account).
        # The "diag" service locks after 3 failures (test-helper.sh).
        dora = ACCOUNTS["dora"]
        p = []
        offset = log_offset()
        for i in range(30):
            rc, out, err = exec_("--service=diag", "--diagnostics", "--username=dora", f"--domain={DOMAIN}",
                                 f"--password={dora.password}", *(["--request-lm-key"] if i % 2 else []))
            if rc != 0:
                p.append(f"run {i + 1}: exit status {rc}: {err.strip()[-300:]}")
                break
            if i == 0:
                for t in ("NTLMv2", "NTLMv2, broken", "NTLM", "NTLM, broken", "Plaintext", "Plaintext, broken"):
                    if f"test {t} passed" not in err:
                        p.append(f"test {t} did not pass: {err.strip()[-400:]}")
        time.sleep(0.2)
        with open(args.log, "rb") as f:
            f.seek(offset)
            records = [r for r in f.read().decode(errors="replace").splitlines() if 'user="dora"' in r]
        wrong = [r for r in records if "STATUS_SUCCESS" not in r and "STATUS_NTLM_BLOCKED" not in r]
        if wrong:
            p.append(f"{len(wrong)} refusals in ntlmd's audit, e.g. {wrong[0][:160]}")
        if not any("VERIFY_RESPONSE success" in r for r in records):
            p.append("no VERIFY_RESPONSE success in ntlmd's audit")
        rc, out, _ = exec_("--service=diag", "--username=dora", f"--password={dora.password}")
        p += want(out, "NT_STATUS_OK: Success (0x0)\n", "dora's logon after 30 runs (not locked)")
        # a wrong password: ntlmd refuses the first right response and is
        # asked nothing more (one failed logon per run, not four)
        offset = log_offset()
        rc, out, err = exec_("--service=diag", "--diagnostics", "--username=dora", f"--domain={DOMAIN}",
                             "--password=not-doras")
        p += want(rc, 1, "a wrong password: exit status")
        time.sleep(0.2)
        with open(args.log, "rb") as f:
            f.seek(offset)
            n = sum(1 for r in f.read().decode(errors="replace").splitlines()
                    if 'user="dora"' in r and "STATUS_WRONG_PASSWORD" in r)
        p += want(n, 1, "a wrong password: WRONG_PASSWORD records")
        rc, out, _ = exec_("--service=diag", "--username=dora", f"--password={dora.password}")
        p += want(out, "NT_STATUS_OK: Success (0x0)\n", "dora's logon after it")
        return p

    run.case("--diagnostics: 30 runs with the right password, no refusal in ntlmd's audit, account not locked; "
             "a wrong password costs one failed logon", diagnostics_no_lockout)

    def options():
        p = []
        rc, out, err = exec_("--no-such-option")
        p += want(rc, 1, "unknown option") + want(out, "", "unknown option stdout")
        rc, out, err = exec_("--helper-protocol=nonsense")
        p += want(rc, 1, "unknown protocol") + ([] if "unknown helper protocol [nonsense]" in err else [err])
        rc, out, err = exec_("--helper-protocol=squid-2.5-ntlmssp", "--require-membership-of=S-1-5-21-1-2-x")
        p += want(rc, 1, "malformed SID") + ([] if "not a SID (a field is not a number)" in err else [err])
        rc, out, err = exec_("--request-nt-key", "--challenge=0011223344556677")
        p += want(rc, 1, "no user") + ([] if "username must be specified" in err else [err])
        r = subprocess.run([prog], capture_output=True, text=True, timeout=TIMEOUT)
        p += want(r.returncode, 1, "no arguments")
        return p

    run.case("options: unknown option, unknown protocol, malformed SID, missing user -> exit 1", options)

    def hostile_exec():
        p = []
        for label, c in controls:
            if c == "\0":
                continue  # argv cannot carry a NUL
            r = subprocess.run([prog, "--ntlmd-socket", sock, "--username=alice", f"--domain={DOMAIN}{c}",
                                "--password", alice.password], capture_output=True, timeout=TIMEOUT)
            p += want(r.returncode, 1, f"plaintext, domain with {label}: exit status")
            p += want(r.stdout, b"NT_STATUS_INVALID_PARAMETER: Unexpected information received (0xc000000d)\n",
                      f"plaintext, domain with {label}")
            p += mschap("alice", alice.password, 1, "Unexpected information received (0xc000000d)\n",
                        domain=f"{DOMAIN}{c}")()
        return p

    run.case("exec modes: a domain with a control character -> 'Unexpected information received', exit 1",
             hostile_exec)

    def exec_names_escaped_and_not_utf8():
        # the name is the client's (FreeRADIUS's User-Name): on stderr it is
        # escaped (one line, no control byte, quotes escaped); a name that
        # is not UTF-8 cannot make a request: NT_STATUS_INVALID_PARAMETER,
        # not "No logon servers" (ntlmd down)
        p = []
        c = os.urandom(8)
        r = desl(nt_hash(WRONG), c)
        chal = [f"--challenge={c.hex()}", f"--nt-response={r.hex()}"]
        res = subprocess.run([prog, "--ntlmd-socket", sock, "--request-nt-key", "--allow-mschapv2",
                              "--username=al\x1b[31mice\nntlm_auth: FAKE \"line\"", "--domain="] + chal,
                             capture_output=True, timeout=TIMEOUT)
        err = res.stderr
        p += want(res.returncode, 1, "hostile name: exit status")
        p += want(err, b'ntlm_auth: user "al\\x1b[31mice\\x0antlm_auth: FAKE \\"line\\"": '
                       b'STATUS_NTLM_CONTROL_CHARACTER\n', "hostile name: stderr")
        # the domain part of DOMAIN\\user, when it differs from --domain
        res = subprocess.run([prog, "--ntlmd-socket", sock, "--request-nt-key", "--username=EV\x1bIL\nX\\alice",
                              "--domain=TESTDOM"] + chal, capture_output=True, timeout=TIMEOUT)
        p += want(res.stderr, b"ntlm_auth: Domain specified in username (EV\\x1bIL\\x0aX) doesn't match "
                              b"specified domain (TESTDOM)!\n", "domain mismatch: stderr")
        for name, what in ((b"alice\xff", "a byte that is not UTF-8"), (b"al\xc3ice", "a cut sequence"),
                           (b"\xed\xa0\x80x", "a surrogate")):
            res = subprocess.run([prog.encode(), b"--ntlmd-socket", sock.encode(), b"--request-nt-key",
                                  b"--username=" + name, b"--domain="] + [a.encode() for a in chal],
                                 capture_output=True, timeout=TIMEOUT)
            p += want(res.returncode, 1, f"{what}: exit status")
            p += want(res.stdout, b"Unexpected information received (0xc000000d)\n", f"{what}: challenge mode")
            if b"ntlmd at" in res.stderr or b"\xff" in res.stderr or b"STATUS_NTLM_BAD_STRING" not in res.stderr:
                p.append(f"{what}: stderr {res.stderr!r}")
            res = subprocess.run([prog.encode(), b"--ntlmd-socket", sock.encode(), b"--username=" + name,
                                  b"--password=x"], capture_output=True, timeout=TIMEOUT)
            p += want(res.stdout, b"NT_STATUS_INVALID_PARAMETER: Unexpected information received (0xc000000d)\n",
                      f"{what}: plaintext mode")
        # the helper protocols: a refusal (ERR), not a broken helper (BH)
        h = helper("squid-2.5-basic")
        p += want(h.request("alice%FF right"), "ERR", "squid-2.5-basic, a name not UTF-8")
        p += want(h.request(f"alice {alice.password}"), "OK", "squid-2.5-basic, the next request")
        finish(h, p)
        h = helper("ntlm-server-1")
        got = block(h, ["Username:: " + b64(b"alice\xff"), "Password: x", "."])
        p += want(got, ["Authenticated: No", "."], "ntlm-server-1, a name not UTF-8")
        return finish(h, p)

    run.case("exec modes: the client's name escaped on stderr; a name not UTF-8 -> INVALID_PARAMETER, "
             "not 'No logon servers'", exec_names_escaped_and_not_utf8)

    def no_secrets():
        with open(args.log, "r", errors="replace") as f:
            text = f.read()
        p = []
        for acc in ACCOUNTS.values():
            if acc.password in text or nt_hash(acc.password).hex() in text.lower():
                p.append(f"{acc.user}'s password or hash in the daemon log")
        return p

    run.case("no password or hash in ntlmd's log", no_secrets)

    return run.finish()


def cli():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("write-hashes")
    p.add_argument("file")
    p = sub.add_parser("main")
    p.add_argument("--ntlm-auth", required=True)
    p.add_argument("--socket", required=True)
    p.add_argument("--log", required=True)
    args = ap.parse_args()
    if args.cmd == "write-hashes":
        write_hashes(args.file)
        return 0
    return main(args)


if __name__ == "__main__":
    sys.exit(cli())
