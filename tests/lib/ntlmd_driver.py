#!/usr/bin/python3
"""Drives a running ntlmd over its UNIX socket with real NTLM exchanges.

This is an independent implementation of the ntlmd protocol
(docs/PROTOCOL.md) with struct.pack; it shares no code with the C client.
The NTLM messages come from independent clients: python3-ntlm-auth
(NTLMv2 with MIC; NTLMv1 and NTLMv1-ESS with ntlm_compatibility 0-2) and
python3-impacket (NTLMv2 without MIC, with an SPN).

    ntlmd_driver.py write-hashes FILE        the test accounts, mode 0600
    ntlmd_driver.py main --socket S --hashes FILE --read-timeout-ms N --max-connections N
    ntlmd_driver.py unauthorised --socket S  (run as nobody)
    ntlmd_driver.py logon --socket S --name CASE [--client C] [--service S] [--expect STATUS] USER
    ntlmd_driver.py kept --socket S --idle-timeout-ms N --max-requests N --max-connections N
                                             several requests on one connection
    ntlmd_driver.py kept-client --ntlmd PATH --conf FILE --socket S --log FILE --ntlm-auth PATH
                                             --idle-timeout-ms N --max-requests N
                                             the C client (in ntlm_auth) reconnects
    ntlmd_driver.py ping-once --socket S     prints "answered" or "closed" (run as nobody)
    ntlmd_driver.py wait-ready --socket S --within SECONDS [--pid PID]
                                             exit 0 once a PING is answered; 1 when none is
                                             within SECONDS or process PID ends first
    ntlmd_driver.py check-logs FILE...       no hash or password in any of them
    ntlmd_driver.py check-audit FILE         the JSON audit log is well formed

Each command prints one line per case ("PASS name" / "FAIL name: why")
and a final "N passed, M failed"; it exits 1 when a case failed. Every
socket operation is bounded by a timeout.
"""

import argparse
import contextlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

# tests/interop/clients.py (accounts, hashes, MD4 shim), found through
# PYTHONPATH as this module is (tests/Makefile.am, tests/testlib.sh)
import clients
from clients import CB_GOOD, CB_OTHER, DOMAIN, UNKNOWN_PASSWORD, UNKNOWN_USER, WORKSTATION
from clients import WRONG_PASSWORD, Account, enable_md4_for_ntlm_auth, lm_hash, md4, nt_hash

TIMEOUT = 5.0  # seconds for any one socket operation
COMPUTER = "TESTSRV"  # netbios_name in the test configuration

# ---------------------------------------------------------------------------
# Accounts: those of the interop tests, and a few more for ntlmd's cases.

ACCOUNTS = dict(clients.ACCOUNTS)  # alice (good), bob (disabled)
ACCOUNTS["carol"] = Account("carol", 1002, "Carol-pass3", "U", False)  # lockout after N failures
ACCOUNTS["dave"] = Account("dave", 1003, "Dave-pass4", "LU", False)  # flag L: locked
ACCOUNTS["frank"] = Account("frank", 1005, "Frank-pass6", "U", False)  # password change
ACCOUNTS["gina"] = Account("gina", 1006, "Gina-pass7", "U", False)  # lockout under many spellings
LATE = Account("erin", 1004, "Erin-pass5", "U", False)  # added while ntlmd runs
NEW_FRANK_PASSWORD = "Frank-new-7"

ALL_PASSWORDS = [a.password for a in ACCOUNTS.values()] + [
    LATE.password,
    NEW_FRANK_PASSWORD,
    WRONG_PASSWORD,
    UNKNOWN_PASSWORD,
]


def smbpasswd_line(acc):
    lm = lm_hash(acc.password).hex().upper() if acc.store_lm else "X" * 32
    nt = nt_hash(acc.password).hex().upper()
    return f"{acc.user}:{acc.uid}:{lm}:{nt}:[{acc.flags.ljust(11)}]:LCT-{int(time.time()):08X}:\n"


def write_hashes(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(smbpasswd_line(a) for a in ACCOUNTS.values())
    os.chmod(path, 0o600)


# ---------------------------------------------------------------------------
# The protocol, written from docs/PROTOCOL.md

MAGIC = b"NTD"
VERSION = 1
HEADER = struct.Struct("<3sBHHI")  # magic, version, type, flags, payload length
FIELD = struct.Struct("<HI")  # tag, length
MAX_PAYLOAD = 65536
REPLY = 0x8000

PING, CHALLENGE, VERIFY, VERIFY_RESPONSE, CHECK_PASSWORD, ACCOUNT_STATUS, CHANGE_PASSWORD = range(1, 8)

T_STATUS, T_STATUS_NAME, T_MESSAGE = 1, 2, 3
T_SERVICE, T_CLIENT_ADDRESS = 10, 11
T_NEGOTIATE, T_CHALLENGE, T_AUTHENTICATE, T_CB_APPLICATION = 20, 21, 22, 23
T_USER, T_DOMAIN, T_WORKSTATION, T_SERVER_CHALLENGE = 30, 31, 32, 33
T_LM_RESPONSE, T_NT_RESPONSE, T_PASSWORD, T_NEW_PASSWORD, T_MSCHAPV2 = 34, 35, 36, 37, 38
T_AUTH_USER, T_AUTH_DOMAIN, T_RESPONSE_TYPE, T_FLAGS = 50, 51, 52, 53
T_MIC, T_CB, T_TARGET_NAME, T_CLIENT_SPN, T_SESSION_KEY = 54, 55, 56, 57, 58
T_ACCOUNT_FLAGS, T_VERSION, T_UID = 59, 60, 61
T_EXACT_NAME, T_ACCOUNT_NAME, T_ACCOUNT_DOMAIN = 41, 63, 64
T_UPTIME, T_REQUESTS = 70, 71

# NTSTATUS codes the cases expect, from MS-ERREF and docs/acceptor.md
CODES = {
    "STATUS_SUCCESS": 0x00000000,
    "STATUS_WRONG_PASSWORD": 0xC000006A,
    "STATUS_NO_SUCH_USER": 0xC0000064,
    "STATUS_ACCOUNT_DISABLED": 0xC0000072,
    "STATUS_ACCOUNT_LOCKED_OUT": 0xC0000234,
    "STATUS_NTLM_BLOCKED": 0xC0000418,
    "STATUS_BAD_BINDINGS": 0xC000035B,
    "STATUS_INSUFFICIENT_RESOURCES": 0xC000009A,
    "STATUS_NTLM_CHALLENGE_EXPIRED": 0xE0A70108,
    "STATUS_TIME_DIFFERENCE_AT_DC": 0xC0000133,
    "STATUS_NTLM_CONTROL_CHARACTER": 0xE0A7000D,
    "STATUS_INVALID_NETWORK_RESPONSE": 0xC00000C3,
}


def freeze(pid, within=5.0):
    """SIGSTOPs pid and returns once every one of its threads is stopped:
    kill() only asks, and a thread of a busy process may still answer a
    request or two before it stops (a test that sends right after the
    signal would see a "stopped" server answer). False: not stopped within."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + within
    while True:
        try:
            states = []
            for t in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{t}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
        except OSError:
            return False
        if all(st in "tT" for st in states):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)


class Closed(Exception):
    """The daemon closed the connection without a (whole) reply."""


def field(tag, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif isinstance(value, int):
        value = struct.pack("<I", value)
    return FIELD.pack(tag, len(value)) + value


def frame(rtype, fields=(), flags=0, version=VERSION, magic=MAGIC):
    payload = b"".join(field(t, v) for t, v in fields if v is not None)
    return HEADER.pack(magic, version, rtype, flags, len(payload)) + payload


def parse_fields(payload):
    """{tag: bytes}; a duplicate tag or fields not filling the payload raise."""
    out, pos = {}, 0
    while pos < len(payload):
        if len(payload) - pos < FIELD.size:
            raise ValueError("truncated field header")
        tag, n = FIELD.unpack_from(payload, pos)
        pos += FIELD.size
        if n > len(payload) - pos:
            raise ValueError("field past the end of the payload")
        if tag in out:
            raise ValueError(f"duplicate tag {tag}")
        out[tag] = payload[pos : pos + n]
        pos += n
    return out


class Reply:
    def __init__(self, rtype, fields):
        self.type = rtype
        self.fields = fields
        self.code = struct.unpack("<I", fields[T_STATUS])[0]
        self.status = fields[T_STATUS_NAME].decode()

    def str(self, tag):
        v = self.fields.get(tag)
        return None if v is None else v.decode("utf-8")

    def bytes(self, tag):
        return self.fields.get(tag)

    def u64(self, tag):
        return struct.unpack("<Q", self.fields[tag])[0] if tag in self.fields else None

    def __str__(self):
        extra = [f"{k}={self.str(t)}" for k, t in (("user", T_AUTH_USER), ("type", T_RESPONSE_TYPE))]
        return f"{self.status} " + " ".join(e for e in extra if not e.endswith("=None"))


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise Closed(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def connect(path, timeout=TIMEOUT):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def exchange(path, data, timeout=TIMEOUT):
    """Sends raw bytes, returns (type, fields) of the reply or raises Closed."""
    with connect(path, timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            raise Closed("connection closed while sending") from None
        magic, version, rtype, flags, n = HEADER.unpack(recv_exact(s, HEADER.size))
        if magic != MAGIC or version != VERSION or flags != 0 or n > MAX_PAYLOAD:
            raise ValueError("malformed reply header")
        return rtype, parse_fields(recv_exact(s, n))


def call(path, rtype, fields=(), timeout=TIMEOUT):
    got_type, f = exchange(path, frame(rtype, fields), timeout)
    if got_type != rtype | REPLY:
        raise ValueError(f"reply type {got_type:#x} to request {rtype}")
    r = Reply(got_type, f)
    if r.status in CODES and CODES[r.status] != r.code:
        raise ValueError(f"{r.status} with code {r.code:#010x}")
    return r


def closed_without_reply(path, data, timeout=TIMEOUT):
    """True when the daemon closes the connection without any reply byte."""
    with connect(path, timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return True
        try:
            return s.recv(1) == b""
        except ConnectionResetError:
            return True


# ---------------------------------------------------------------------------
# NTLM exchanges through the daemon


class Exchange:
    """NEGOTIATE from a client, CHALLENGE from ntlmd, AUTHENTICATE from the
    client; verify() sends the three to ntlmd."""

    def __init__(self, sock, service, address=None, cb_app=None):
        self.sock = sock
        self.service = service
        self.address = address
        self.cb_app = cb_app
        self.negotiate = self.challenge = self.authenticate = None

    def get_challenge(self, negotiate):
        self.negotiate = negotiate
        r = call(
            self.sock,
            CHALLENGE,
            [(T_SERVICE, self.service), (T_NEGOTIATE, negotiate), (T_CLIENT_ADDRESS, self.address)],
        )
        if r.status != "STATUS_SUCCESS":
            raise ValueError(f"CHALLENGE answered {r.status}")
        return r.bytes(T_CHALLENGE)

    def verify(self):
        return call(
            self.sock,
            VERIFY,
            [
                (T_SERVICE, self.service),
                (T_NEGOTIATE, self.negotiate),
                (T_CHALLENGE, self.challenge),
                (T_AUTHENTICATE, self.authenticate),
                (T_CB_APPLICATION, self.cb_app),
                (T_CLIENT_ADDRESS, self.address),
            ],
        )


def foreign(chal):
    """The CHALLENGE with another server challenge (bytes 24..31, MS-NLMP
    2.2.1.2): one the daemon never issued, as when the caller builds it."""
    return chal[:24] + os.urandom(8) + chal[32:]


def ntlm_auth_exchange(sock, user, password, service="", compat=3, cb=None, cb_app=None, address=None,
                       domain=DOMAIN, alter_challenge=None):
    from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct
    from ntlm_auth.ntlm import NtlmContext

    cbt = None
    if cb is not None:
        cbt = GssChannelBindingsStruct()
        cbt[cbt.APPLICATION_DATA] = cb
    ctx = NtlmContext(user, password, domain=domain, workstation=WORKSTATION, cbt_data=cbt,
                      ntlm_compatibility=compat)
    ex = Exchange(sock, service, address, cb_app)
    chal = ex.get_challenge(ctx.step())
    if alter_challenge is not None:
        chal = alter_challenge(chal)
    ex.challenge = chal
    ex.authenticate = ctx.step(chal)
    return ex


def impacket_exchange(sock, user, password, service="", domain=DOMAIN, address=None):
    from impacket import ntlm

    type1 = ntlm.getNTLMSSPType1("", "", use_ntlmv2=True)
    ex = Exchange(sock, service, address)
    ex.challenge = ex.get_challenge(type1.getData())
    type3, _key = ntlm.getNTLMSSPType3(type1, ex.challenge, user, password, domain, use_ntlmv2=True)
    ex.authenticate = type3.getData()
    return ex


def desl(key16, data8):
    """MS-NLMP 6: DESL(K, D), the NTLMv1 response."""
    from Cryptodome.Cipher import DES

    k = key16 + b"\0" * 5
    return b"".join(DES.new(clients._des_key(k[i : i + 7]), DES.MODE_ECB).encrypt(data8) for i in (0, 7, 14))


# ---------------------------------------------------------------------------
# Cases


class Runner:
    def __init__(self):
        self.passed = self.failed = 0

    def case(self, name, fn):
        try:
            problems = fn()
        except Closed as e:
            problems = [f"connection closed: {e}"]
        except Exception as e:  # a client library or the protocol failed
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            self.failed += 1
            print(f"FAIL {name}: {'; '.join(problems)}", flush=True)
        else:
            self.passed += 1
            print(f"PASS {name}", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def expect(reply, status, **fields):
    """Problems of a reply against the expected status and string fields."""
    tags = dict(user=T_AUTH_USER, domain=T_AUTH_DOMAIN, type=T_RESPONSE_TYPE, mic=T_MIC, cb=T_CB,
                spn=T_TARGET_NAME, workstation=T_WORKSTATION, account=T_ACCOUNT_NAME,
                account_domain=T_ACCOUNT_DOMAIN)
    problems = []
    if reply.status != status:
        problems.append(f"status {reply.status} ({reply.code:#010x}), expected {status}")
    for k, v in fields.items():
        if k == "key":
            got = reply.bytes(T_SESSION_KEY)
            if (got is not None and len(got) == 16) != v:
                problems.append(f"session key {'missing' if v else 'present'}")
        elif reply.str(tags[k]) != v:
            problems.append(f"{k}={reply.str(tags[k])}, expected {v}")
    return problems


def main_cases(args):
    sock = args.socket
    run = Runner()
    alice = ACCOUNTS["alice"]
    good_v2 = dict(user=f"{DOMAIN}\\alice", domain=DOMAIN, type="NTLMv2", key=True)
    enable_md4_for_ntlm_auth()

    def ping():
        r = call(sock, PING)
        return expect(r, "STATUS_SUCCESS") + ([] if r.str(T_VERSION) else ["no version"])

    run.case("PING answers with a version", ping)

    # -- outcomes -------------------------------------------------------
    def nt(who, password, status, service="", /, **fields):
        return lambda: expect(ntlm_auth_exchange(sock, who, password, service).verify(), status, **fields)

    def imp(who, password, status, service="", /, **fields):
        return lambda: expect(impacket_exchange(sock, who, password, service).verify(), status, **fields)

    run.case("ntlm-auth NTLMv2+MIC, good password", nt("alice", alice.password, "STATUS_SUCCESS",
                                                            mic="valid", workstation=WORKSTATION, **good_v2))
    run.case("impacket NTLMv2 (no MIC), good password", imp("alice", alice.password, "STATUS_SUCCESS",
                                                              mic="absent", **good_v2))
    run.case("ntlm-auth wrong password", nt("alice", WRONG_PASSWORD, "STATUS_WRONG_PASSWORD", type="NTLMv2",
                                            key=False))
    run.case("impacket wrong password", imp("alice", WRONG_PASSWORD, "STATUS_WRONG_PASSWORD", key=False))
    run.case("ntlm-auth unknown user", nt(UNKNOWN_USER, UNKNOWN_PASSWORD, "STATUS_NO_SUCH_USER", key=False))
    run.case("ntlm-auth disabled account (D)", nt("bob", ACCOUNTS["bob"].password, "STATUS_ACCOUNT_DISABLED",
                                                  key=False))
    run.case("ntlm-auth disabled account, wrong password: state not revealed",
             nt("bob", WRONG_PASSWORD, "STATUS_WRONG_PASSWORD"))
    run.case("ntlm-auth locked account (L)", nt("dave", ACCOUNTS["dave"].password, "STATUS_ACCOUNT_LOCKED_OUT",
                                                key=False))

    # -- lockout (service "lockout": threshold 3) -------------------------
    def lockout_user():
        carol = ACCOUNTS["carol"]
        problems = []

        def logon(password, address, status, what):
            r = ntlm_auth_exchange(sock, "carol", password, "lockout", address=address).verify()
            return [f"{what}: {p}" for p in expect(r, status)]

        for i in range(3):
            problems += logon(WRONG_PASSWORD, "192.0.2.10", "STATUS_WRONG_PASSWORD", f"failure {i + 1} from .10")
        problems += logon(carol.password, "192.0.2.10", "STATUS_ACCOUNT_LOCKED_OUT", "right password from .10")
        # one address cannot lock the user out of the others (lockout_threshold
        # counts per account and address) ...
        problems += logon(carol.password, "192.0.2.11", "STATUS_SUCCESS", "right password from .11")
        problems += logon(carol.password, "::ffff:192.0.2.10", "STATUS_ACCOUNT_LOCKED_OUT",
                          ".10 written as an IPv4-mapped IPv6 address")
        # ... but every address together can (lockout_account_threshold 6)
        for i in range(3):
            problems += logon(WRONG_PASSWORD, "2001:db8:1:2::a", "STATUS_WRONG_PASSWORD", f"failure {i + 1} from v6")
        problems += logon(carol.password, "2001:db8:1:2::b", "STATUS_ACCOUNT_LOCKED_OUT",
                          "another address of the same /64")
        problems += logon(carol.password, "192.0.2.12", "STATUS_ACCOUNT_LOCKED_OUT",
                          "a third address after 6 failures from two")
        return problems

    run.case("lockout: 3 failures lock the user for that address only; 6 from all addresses lock it for all",
             lockout_user)

    def lockout_address():
        problems = []
        for i in range(3):
            r = ntlm_auth_exchange(sock, UNKNOWN_USER, UNKNOWN_PASSWORD, "lockout", address="192.0.2.20").verify()
            problems += [f"attempt {i + 1}: {p}" for p in expect(r, "STATUS_NO_SUCH_USER")]
        r = ntlm_auth_exchange(sock, "alice", alice.password, "lockout", address="192.0.2.20").verify()
        problems += [f"from the locked address: {p}" for p in expect(r, "STATUS_ACCOUNT_LOCKED_OUT")]
        r = ntlm_auth_exchange(sock, "alice", alice.password, "lockout", address="192.0.2.21").verify()
        problems += [f"from another address: {p}" for p in expect(r, "STATUS_SUCCESS")]
        return problems

    run.case("lockout: 3 unknown users lock the client address, not the users", lockout_address)

    # -- one canonical account (issue 13) ------------------------------------
    def canonical_names():
        """Whatever the client typed, the verdict names the store's account."""
        problems = []
        for typed_domain in (DOMAIN.lower(), "TestDom", ""):
            for typed_user in ("alice", "ALICE", "Alice"):
                r = ntlm_auth_exchange(sock, typed_user, alice.password, domain=typed_domain).verify()
                problems += [f"{typed_domain}\\{typed_user}: {p}" for p in expect(
                    r, "STATUS_SUCCESS", user=f"{DOMAIN}\\alice", account="alice", account_domain=DOMAIN)]
        return problems

    run.case("VERIFY: typed testdom/TestDom/empty and any case give TESTDOM\\alice", canonical_names)

    def foreign_domains():
        problems = []
        for d in ("OTHERDOM", "CORP", "TESTDOM2"):
            r = ntlm_auth_exchange(sock, "alice", alice.password, domain=d).verify()
            problems += [f"NTLM {d}: {p}" for p in expect(r, "STATUS_NO_SUCH_USER")]
            r = call(sock, CHECK_PASSWORD, [(T_USER, "alice"), (T_DOMAIN, d), (T_PASSWORD, alice.password)])
            problems += [f"password {d}: {p}" for p in expect(r, "STATUS_NO_SUCH_USER")]
        # the server's own names are its domains: DNS domain, NetBIOS name
        for d in (COMPUTER, COMPUTER.lower()):
            r = ntlm_auth_exchange(sock, "alice", alice.password, domain=d).verify()
            problems += [f"NTLM {d}: {p}" for p in expect(r, "STATUS_SUCCESS", user=f"{DOMAIN}\\alice")]
        return problems

    run.case("a domain the server does not serve is no such user (default accepted_domains)", foreign_domains)

    def exact_login_names():
        """A login name (EXACT_NAME) must be the store's spelling, byte for byte."""
        problems = []
        for typed in ("Alice", "ALICE", " alice", "alice "):
            r = call(sock, CHECK_PASSWORD, [(T_USER, typed), (T_PASSWORD, alice.password),
                                            (T_EXACT_NAME, b"\x01")])
            problems += [f"{typed!r}: {p}" for p in expect(r, "STATUS_NO_SUCH_USER")]
            r = call(sock, ACCOUNT_STATUS, [(T_USER, typed), (T_EXACT_NAME, b"\x01")])
            problems += [f"status {typed!r}: {p}" for p in expect(r, "STATUS_NO_SUCH_USER")]
        r = call(sock, CHECK_PASSWORD, [(T_USER, "alice"), (T_PASSWORD, alice.password), (T_EXACT_NAME, b"\x01")])
        problems += [f"'alice': {p}" for p in expect(r, "STATUS_SUCCESS", account="alice")]
        return problems

    run.case("EXACT_NAME: Alice, ALICE and spaced spellings are not the login name alice", exact_login_names)

    def lockout_spellings():
        """One counter per account: every spelling and domain form counts to it."""
        gina = ACCOUNTS["gina"]
        problems = []
        spellings = [("gina", DOMAIN), ("GINA", DOMAIN), ("Gina", ""), ("gina", DOMAIN.lower())]
        for i, (u, d) in enumerate(spellings[:3]):
            r = ntlm_auth_exchange(sock, u, WRONG_PASSWORD, "lockout", domain=d).verify()
            problems += [f"failure {i + 1} as {d}\\{u}: {p}" for p in expect(r, "STATUS_WRONG_PASSWORD")]
        for u, d in spellings:
            r = ntlm_auth_exchange(sock, u, gina.password, "lockout", domain=d).verify()
            problems += [f"right password as {d}\\{u}: {p}" for p in expect(r, "STATUS_ACCOUNT_LOCKED_OUT")]
            r = call(sock, CHECK_PASSWORD, [(T_SERVICE, "lockout"), (T_USER, u), (T_DOMAIN, d),
                                            (T_PASSWORD, gina.password)])
            problems += [f"CHECK_PASSWORD as {d}\\{u}: {p}" for p in expect(r, "STATUS_ACCOUNT_LOCKED_OUT")]
        return problems

    run.case("lockout: 3 failures under 3 spellings lock the one account for every spelling",
             lockout_spellings)

    # -- policies -----------------------------------------------------------
    run.case("MIC required, ntlm-auth sends one", nt("alice", alice.password, "STATUS_SUCCESS", "mic", mic="valid"))
    run.case("MIC required, impacket sends none", imp("alice", alice.password, "STATUS_NTLM_MIC_MISSING", "mic"))

    def cb(client_cb, status, **fields):
        def f():
            ex = ntlm_auth_exchange(sock, "alice", alice.password, "cb", cb=client_cb, cb_app=CB_GOOD)
            return expect(ex.verify(), status, **fields)

        return f

    run.case("channel bindings required and matching", cb(CB_GOOD, "STATUS_SUCCESS", cb="valid"))
    run.case("channel bindings required, client sends none", cb(None, "STATUS_NTLM_BINDINGS_MISSING"))
    run.case("channel bindings required, other certificate", cb(CB_OTHER, "STATUS_BAD_BINDINGS"))
    run.case("SPN cifs/TESTSRV accepted", imp("alice", alice.password, "STATUS_SUCCESS", "spn-ok", spn="valid"))
    run.case("SPN not in target_names", imp("alice", alice.password, "STATUS_NTLM_TARGET_NAME_MISMATCH", "spn"))
    for compat, kind in ((0, "NTLMv1"), (1, "NTLMv1-ESS"), (2, "NTLMv1-ESS")):
        run.case(f"{kind} (ntlm_compatibility {compat}) refused by the default policy",
                 lambda c=compat, k=kind: expect(
                     ntlm_auth_exchange(sock, "alice", alice.password, compat=c).verify(), "STATUS_NTLM_BLOCKED",
                     type=k))
        run.case(f"{kind} (ntlm_compatibility {compat}) allowed by ntlm_auth = ntlmv1-permitted",
                 lambda c=compat, k=kind: expect(
                     ntlm_auth_exchange(sock, "alice", alice.password, "v1", compat=c).verify(), "STATUS_SUCCESS",
                     type=k, mic="absent", key=True))

    # -- replays ------------------------------------------------------------
    def replay(alter):
        def f():
            ex = ntlm_auth_exchange(sock, "alice", alice.password, alter_challenge=alter)
            first = ex.verify()
            second = ex.verify()
            return [f"first: {p}" for p in expect(first, "STATUS_SUCCESS")] + [
                f"replay: {p}" for p in expect(second, "STATUS_NTLM_CHALLENGE_EXPIRED", key=False)]

        return f

    run.case("replayed AUTHENTICATE refused (challenge issued by ntlmd)", replay(None))
    run.case("replayed AUTHENTICATE refused (verify mode: challenge built by the caller)", replay(foreign))

    def other_service():
        ex = ntlm_auth_exchange(sock, "alice", alice.password, "mic")
        ex.service = "cb"
        return expect(ex.verify(), "STATUS_NTLM_CHALLENGE_MISMATCH")

    run.case("challenge issued for one service, verified for another", other_service)

    # -- the bare requests -------------------------------------------------
    def verify_response(service, mschapv2, status):
        def f():
            server_challenge = os.urandom(8)
            h = nt_hash(alice.password)
            r = call(sock, VERIFY_RESPONSE, [
                (T_SERVICE, service), (T_USER, "alice"), (T_DOMAIN, DOMAIN),
                (T_SERVER_CHALLENGE, server_challenge), (T_NT_RESPONSE, desl(h, server_challenge)),
                (T_MSCHAPV2, bytes([mschapv2]))])
            problems = expect(r, status, type="NTLMv1")
            if status == "STATUS_SUCCESS" and r.bytes(T_SESSION_KEY) != md4(h):
                problems.append("the NT session key is not MD4(NT hash)")
            return problems

        return f

    run.case("VERIFY_RESPONSE NTLMv1 refused by the default policy", verify_response("", 0, "STATUS_NTLM_BLOCKED"))
    run.case("VERIFY_RESPONSE MS-CHAPv2 allowed (mschapv2-and-ntlmv2-only), NT session key",
             verify_response("mschap", 1, "STATUS_SUCCESS"))

    def check_password(who, password, status, /, **fields):
        return lambda: expect(call(sock, CHECK_PASSWORD, [(T_USER, who), (T_PASSWORD, password)]), status, **fields)

    run.case("CHECK_PASSWORD good", check_password("alice", alice.password, "STATUS_SUCCESS",
                                                   user=f"{DOMAIN}\\alice", account="alice", account_domain=DOMAIN))
    run.case("CHECK_PASSWORD wrong", check_password("alice", WRONG_PASSWORD, "STATUS_WRONG_PASSWORD"))
    run.case("CHECK_PASSWORD disabled", check_password("bob", ACCOUNTS["bob"].password, "STATUS_ACCOUNT_DISABLED"))

    def account_status():
        r = call(sock, ACCOUNT_STATUS, [(T_USER, "alice")])
        problems = expect(r, "STATUS_SUCCESS")
        if r.str(T_ACCOUNT_FLAGS) is None or "U" not in r.str(T_ACCOUNT_FLAGS):
            problems.append(f"account flags {r.str(T_ACCOUNT_FLAGS)}")
        problems += [f"bob: {p}" for p in expect(call(sock, ACCOUNT_STATUS, [(T_USER, "bob")]),
                                                 "STATUS_ACCOUNT_DISABLED")]
        return problems

    run.case("ACCOUNT_STATUS", account_status)

    def change_password():
        frank = ACCOUNTS["frank"]
        problems = [f"wrong old password: {p}" for p in expect(call(sock, CHANGE_PASSWORD, [
            (T_USER, "frank"), (T_PASSWORD, WRONG_PASSWORD), (T_NEW_PASSWORD, NEW_FRANK_PASSWORD)]),
            "STATUS_WRONG_PASSWORD")]
        problems += [f"change: {p}" for p in expect(call(sock, CHANGE_PASSWORD, [
            (T_USER, "frank"), (T_PASSWORD, frank.password), (T_NEW_PASSWORD, NEW_FRANK_PASSWORD)]),
            "STATUS_SUCCESS")]
        problems += [f"new password: {p}" for p in expect(call(sock, CHECK_PASSWORD, [
            (T_USER, "frank"), (T_PASSWORD, NEW_FRANK_PASSWORD)]), "STATUS_SUCCESS")]
        problems += [f"old password: {p}" for p in expect(call(sock, CHECK_PASSWORD, [
            (T_USER, "frank"), (T_PASSWORD, frank.password)]), "STATUS_WRONG_PASSWORD")]
        return problems

    run.case("CHANGE_PASSWORD with the old password", change_password)

    # -- malformed frames -------------------------------------------------
    garbage = {
        "bad magic": frame(PING, magic=b"XYZ"),
        "bad version": frame(PING, version=2),
        "non-zero flags": frame(PING, flags=1),
        "length over the cap": HEADER.pack(MAGIC, VERSION, PING, 0, MAX_PAYLOAD + 1),
        "length 0xFFFFFFFF": HEADER.pack(MAGIC, VERSION, PING, 0, 0xFFFFFFFF),
        "unknown request type": frame(99),
        "a reply sent as a request": frame(PING | REPLY),
        "random bytes": bytes(range(7, 250, 3)),
    }
    for name, data in garbage.items():
        run.case(f"garbage frame closed without reply: {name}",
                 lambda d=data: [] if closed_without_reply(sock, d) else ["the daemon answered"])

    def malformed_payload(payload, status):
        def f():
            t, fields = exchange(sock, HEADER.pack(MAGIC, VERSION, PING, 0, len(payload)) + payload)
            return expect(Reply(t, fields), status)

        return f

    run.case("payload: field past the end", malformed_payload(field(T_SERVICE, "x")[:-1] + b"",
                                                              "STATUS_NTLM_FIELD_OUT_OF_BOUNDS"))
    run.case("payload: truncated field header", malformed_payload(b"\x0a\x00\x01", "STATUS_NTLM_TRUNCATED"))
    run.case("payload: duplicate tag", malformed_payload(field(T_SERVICE, "a") + field(T_SERVICE, "b"),
                                                         "STATUS_INVALID_NETWORK_RESPONSE"))
    run.case("payload: NUL in a string", malformed_payload(field(T_SERVICE, b"a\0b"), "STATUS_NTLM_BAD_STRING"))
    run.case("payload: LF in a USER", malformed_payload(field(T_USER, "alice\nAF x"), "STATUS_NTLM_CONTROL_CHARACTER"))
    run.case("payload: NEL in a DOMAIN", malformed_payload(field(T_DOMAIN, "TESTDOM\u0085"),
                                                            "STATUS_NTLM_CONTROL_CHARACTER"))
    run.case("payload: TAB in a WORKSTATION", malformed_payload(field(T_WORKSTATION, "W\tS"),
                                                                 "STATUS_NTLM_CONTROL_CHARACTER"))
    run.case("payload: spaces in a USER are fine", malformed_payload(field(T_USER, " john smith "), "STATUS_SUCCESS"))
    run.case("payload: string over 1024 bytes", malformed_payload(field(T_SERVICE, "s" * 1025),
                                                                   "STATUS_NTLM_STRING_TOO_LONG"))
    run.case("payload: unknown tags are skipped", malformed_payload(field(999, b"future") + field(T_SERVICE, "x"),
                                                                    "STATUS_SUCCESS"))

    def truncated_then_served():
        with connect(sock) as s:
            s.sendall(frame(PING, [(T_SERVICE, "x")])[:-2])
        return expect(call(sock, PING), "STATUS_SUCCESS")

    run.case("a frame cut short, then the next client is served", truncated_then_served)

    # -- slow clients do not block others ----------------------------------
    read_timeout = args.read_timeout_ms / 1000.0

    def slow_client():
        problems = []
        slow = connect(sock, timeout=read_timeout + TIMEOUT)
        t0 = time.monotonic()
        slow.sendall(frame(PING)[:6])  # half a header, then nothing
        t1 = time.monotonic()
        r = ntlm_auth_exchange(sock, "alice", alice.password).verify()
        took = time.monotonic() - t1
        problems += expect(r, "STATUS_SUCCESS")
        if took > read_timeout / 2:
            problems.append(f"the other client took {took:.2f} s")
        try:
            got = slow.recv(1)
        except ConnectionResetError:
            got = b""
        closed_after = time.monotonic() - t0
        slow.close()
        if got != b"":
            problems.append("the slow client got an answer")
        if not read_timeout * 0.8 <= closed_after <= read_timeout + 3:
            problems.append(f"slow client closed after {closed_after:.2f} s (read_timeout {read_timeout} s)")
        return problems

    run.case("slow client (half a header) closed at read_timeout while another is served", slow_client)

    def dripping_client():
        t0 = time.monotonic()
        data = frame(PING, [(T_SERVICE, "x" * 64)])
        with connect(sock, timeout=read_timeout + TIMEOUT) as s:
            for b in data:
                try:
                    s.sendall(bytes([b]))
                except (BrokenPipeError, ConnectionResetError):
                    break
                if time.monotonic() - t0 > read_timeout + 3:
                    return ["still connected after the read timeout"]
                time.sleep(0.1)
            else:
                return ["the whole frame was taken"]
        took = time.monotonic() - t0
        return [] if took <= read_timeout + 1 else [f"closed after {took:.2f} s"]

    run.case("a client that drips one byte at a time is cut off at read_timeout", dripping_client)

    def many_hostile_clients():
        problems = []
        results = []

        def hostile(i):
            try:
                results.append(closed_without_reply(sock, bytes([i]) * 20, timeout=read_timeout + TIMEOUT))
            except OSError:
                results.append(True)

        threads = [threading.Thread(target=hostile, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        t1 = time.monotonic()
        r = ntlm_auth_exchange(sock, "alice", alice.password).verify()
        took = time.monotonic() - t1
        for t in threads:
            t.join(timeout=read_timeout + TIMEOUT)
        problems += expect(r, "STATUS_SUCCESS")
        if took > read_timeout / 2:
            problems.append(f"the good client took {took:.2f} s")
        if len(results) != 8 or not all(results):
            problems.append("a hostile client got an answer")
        return problems

    run.case("8 garbage clients at once, a good client still served", many_hostile_clients)

    def max_connections():
        problems = one_more_refused(sock, args.max_connections)
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                if call(sock, PING).status == "STATUS_SUCCESS":
                    break
            except (Closed, OSError):
                pass
            if time.monotonic() > deadline:
                problems.append("not served again after the idle connections left")
                break
            time.sleep(0.05)
        return problems

    run.case(f"max_connections ({args.max_connections}): one more is closed, then service resumes",
             max_connections)

    # -- the hash file changes while ntlmd runs --------------------------------
    def reload_on_change():
        r = ntlm_auth_exchange(sock, LATE.user, LATE.password).verify()
        problems = [f"before: {p}" for p in expect(r, "STATUS_NO_SUCH_USER")]
        with open(args.hashes, "a") as f:
            f.write(smbpasswd_line(LATE))
        deadline = time.monotonic() + 10
        while True:
            r = ntlm_auth_exchange(sock, LATE.user, LATE.password).verify()
            if r.status == "STATUS_SUCCESS" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        return problems + [f"after the edit: {p}" for p in expect(r, "STATUS_SUCCESS", user=f"{DOMAIN}\\erin")]

    run.case("a user added to the hash file is served without a restart", reload_on_change)

    def counters():
        r = call(sock, PING)
        n = r.u64(T_REQUESTS)
        return [] if n is not None and n > 20 else [f"PING reports {n} requests"]

    run.case("PING counts the requests, and the daemon is still alive", counters)
    return run.finish()


def unauthorised_cases(args):
    sock = args.socket
    run = Runner()
    enable_md4_for_ntlm_auth()
    run.case(f"uid {os.getuid()}: PING allowed", lambda: expect(call(sock, PING), "STATUS_SUCCESS"))

    def refused(rtype, fields):
        return lambda: [] if closed_without_reply(sock, frame(rtype, fields)) else ["the daemon answered"]

    run.case(f"uid {os.getuid()}: CHALLENGE refused (closed)", refused(CHALLENGE, [(T_SERVICE, "x")]))
    run.case(f"uid {os.getuid()}: VERIFY refused (closed)", refused(VERIFY, [(T_CHALLENGE, b"x")]))
    run.case(f"uid {os.getuid()}: CHECK_PASSWORD refused (closed)",
             refused(CHECK_PASSWORD, [(T_USER, "alice"), (T_PASSWORD, WRONG_PASSWORD)]))
    run.case(f"uid {os.getuid()}: CHANGE_PASSWORD refused (closed)",
             refused(CHANGE_PASSWORD, [(T_USER, "alice"), (T_NEW_PASSWORD, WRONG_PASSWORD)]))

    def full_exchange():
        try:
            ntlm_auth_exchange(sock, "alice", ACCOUNTS["alice"].password)
        except Closed:
            return []
        return ["a CHALLENGE was issued"]

    run.case(f"uid {os.getuid()}: a whole NTLM exchange is refused", full_exchange)
    return run.finish()


# ---------------------------------------------------------------------------
# Kept connections: several requests on one connection


class Kept:
    """One connection that carries request after request."""

    def __init__(self, path, timeout=TIMEOUT):
        self.sock = connect(path, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            raise Closed("connection closed while sending") from None

    def reply(self, rtype):
        magic, version, got, flags, n = HEADER.unpack(recv_exact(self.sock, HEADER.size))
        if magic != MAGIC or version != VERSION or flags != 0 or n > MAX_PAYLOAD:
            raise ValueError("malformed reply header")
        if got != rtype | REPLY:
            raise ValueError(f"reply type {got:#x} to request {rtype}")
        return Reply(got, parse_fields(recv_exact(self.sock, n)))

    def call(self, rtype, fields=()):
        self.send(frame(rtype, fields))
        return self.reply(rtype)

    def ended(self):
        """True when the daemon has closed the connection (end of stream
        without a byte), False when it is still open (nothing to read)."""
        r, _, _ = select.select([self.sock], [], [], 0)
        if not r:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def wait_end(self, timeout):
        """Seconds until the daemon closed the connection, or None."""
        t0 = time.monotonic()
        r, _, _ = select.select([self.sock], [], [], timeout)
        if r and self.ended():
            return time.monotonic() - t0
        return None

    def stays_open(self, timeout=TIMEOUT):
        """True when the daemon has not closed the connection within timeout."""
        return self.wait_end(timeout) is None


def one_more_refused(sock, n):
    """The problems when, n connections open that sent nothing, one more is
    served: the daemon must close it without a reply."""
    with contextlib.ExitStack() as stack:
        for _ in range(n):
            stack.enter_context(contextlib.closing(connect(sock, timeout=TIMEOUT)))
        time.sleep(0.3)
        try:
            refused = closed_without_reply(sock, frame(PING), timeout=TIMEOUT)
        except OSError:
            refused = True
    return [] if refused else ["a connection over max_connections was served"]


def idle_kept(stack, n, sock, pause=0.0):
    """n kept connections, each idle after one PING answered, closed with
    stack (contextlib.ExitStack), pause seconds apart; and the problems of
    those PINGs."""
    held, problems = [], []
    for _ in range(n):
        k = stack.enter_context(Kept(sock))
        held.append(k)
        problems += expect(k.call(PING), "STATUS_SUCCESS")
        time.sleep(pause)
    return held, problems


def kept_cases(args):
    sock = args.socket
    run = Runner()
    alice = ACCOUNTS["alice"]
    idle = args.idle_timeout_ms / 1000.0
    enable_md4_for_ntlm_auth()

    def ping_challenge_verify():
        from ntlm_auth.ntlm import NtlmContext

        with Kept(sock) as k:
            problems = expect(k.call(PING), "STATUS_SUCCESS")
            ctx = NtlmContext(alice.user, alice.password, domain=DOMAIN, workstation=WORKSTATION)
            negotiate = ctx.step()
            r = k.call(CHALLENGE, [(T_SERVICE, "kept"), (T_NEGOTIATE, negotiate)])
            problems += expect(r, "STATUS_SUCCESS")
            chal = r.bytes(T_CHALLENGE)
            authenticate = ctx.step(chal)
            r = k.call(VERIFY, [(T_SERVICE, "kept"), (T_NEGOTIATE, negotiate), (T_CHALLENGE, chal),
                                (T_AUTHENTICATE, authenticate)])
            problems += expect(r, "STATUS_SUCCESS", user=f"{DOMAIN}\\alice", type="NTLMv2", key=True)
            r = k.call(CHECK_PASSWORD, [(T_USER, "alice"), (T_PASSWORD, WRONG_PASSWORD)])
            problems += expect(r, "STATUS_WRONG_PASSWORD")
            problems += expect(k.call(PING), "STATUS_SUCCESS")
            return problems

    run.case("one connection: PING, CHALLENGE, VERIFY, CHECK_PASSWORD, PING in sequence", ping_challenge_verify)

    def idle_timeout():
        with Kept(sock, timeout=idle + TIMEOUT) as k:
            problems = expect(k.call(PING), "STATUS_SUCCESS")
            time.sleep(idle / 2)
            problems += expect(k.call(PING), "STATUS_SUCCESS")  # idle for half the timeout: still open
            took = k.wait_end(idle + 3)
            if took is None:
                problems.append(f"still open {idle + 3:.1f} s after the last reply")
            elif not idle * 0.8 <= took <= idle + 2:
                problems.append(f"closed {took:.2f} s after the last reply (idle_timeout {idle} s)")
            return problems

    run.case(f"a connection idle for idle_timeout ({args.idle_timeout_ms} ms) is closed, not before",
             idle_timeout)

    def first_byte_starts_read_timeout():
        # a further request that begins before idle_timeout is not cut at idle_timeout
        with Kept(sock, timeout=idle + TIMEOUT) as k:
            problems = expect(k.call(PING), "STATUS_SUCCESS")
            data = frame(PING, [(T_SERVICE, "x")])
            time.sleep(idle * 0.7)
            k.send(data[:3])
            time.sleep(idle * 0.5)  # past idle_timeout since the reply, within read_timeout
            k.send(data[3:])
            return problems + expect(k.reply(PING), "STATUS_SUCCESS")

    run.case("a further request begun before idle_timeout is bounded by read_timeout instead",
             first_byte_starts_read_timeout)

    def max_requests():
        with Kept(sock) as k:
            problems = []
            for i in range(args.max_requests):
                problems += [f"request {i + 1}: {p}" for p in expect(k.call(PING), "STATUS_SUCCESS")]
            if k.stays_open():
                problems.append(f"still open after {args.max_requests} requests")
            return problems

    run.case(f"max_requests_per_connection ({args.max_requests}): closed after that many replies", max_requests)

    def malformed_second_header():
        with Kept(sock) as k:
            problems = expect(k.call(PING), "STATUS_SUCCESS")
            k.send(b"NTX" + bytes(9))
            if k.stays_open():
                problems.append("no end of stream after a malformed header")
            return problems

    run.case("a malformed second header closes the connection without a reply", malformed_second_header)

    def malformed_second_payload():
        with Kept(sock) as k:
            problems = expect(k.call(PING), "STATUS_SUCCESS")
            payload = field(T_SERVICE, "a") + field(T_SERVICE, "b")
            k.send(HEADER.pack(MAGIC, VERSION, PING, 0, len(payload)) + payload)
            problems += expect(k.reply(PING), "STATUS_INVALID_NETWORK_RESPONSE")
            if k.stays_open():
                problems.append("still open after a malformed payload")
            return problems

    run.case("a malformed second payload gets its status, then the close", malformed_second_payload)

    def malformed_ntlmssp_keeps():
        with Kept(sock) as k:
            r = k.call(CHALLENGE, [(T_SERVICE, "kept"), (T_NEGOTIATE, b"NTLMSSP\0garbage")])
            problems = [] if r.status != "STATUS_SUCCESS" else ["a garbage NEGOTIATE was accepted"]
            return problems + expect(k.call(PING), "STATUS_SUCCESS")

    run.case("a well-formed frame with a malformed NTLMSSP message keeps the connection",
             malformed_ntlmssp_keeps)

    def pipelined():
        with Kept(sock) as k:
            k.send(frame(PING) + frame(CHECK_PASSWORD, [(T_USER, "alice"), (T_PASSWORD, alice.password)])
                   + frame(PING))
            problems = expect(k.reply(PING), "STATUS_SUCCESS")
            problems += expect(k.reply(CHECK_PASSWORD), "STATUS_SUCCESS")
            problems += expect(k.reply(PING), "STATUS_SUCCESS")
            return problems

    run.case("three requests sent at once are answered in order", pipelined)

    def pipelined_then_garbage():
        # the reply to the good frame is written before the garbage is read
        with Kept(sock) as k:
            k.send(frame(PING) + b"garbage-garbage")
            problems = expect(k.reply(PING), "STATUS_SUCCESS")
            if k.stays_open():
                problems.append("still open after the garbage")
            return problems

    run.case("a good request followed at once by garbage: the reply, then the close", pipelined_then_garbage)

    def idle_displaced_first():
        # every slot holds an idle kept connection: a newcomer is served and
        # the connection idle longest is the one closed
        time.sleep(0.2)
        with contextlib.ExitStack() as stack:
            held, problems = idle_kept(stack, args.max_connections, sock, pause=0.01)
            problems += expect(call(sock, PING), "STATUS_SUCCESS")
            if held[0].stays_open():
                problems.append("the connection idle longest was not closed")
            still = [i for i, k in enumerate(held[1:], 1) if k.ended()]
            if still:
                problems.append(f"other idle connections closed too: {still}")
            problems += expect(held[-1].call(PING), "STATUS_SUCCESS")
            return problems

    run.case(f"all {args.max_connections} slots idle: a newcomer displaces the one idle longest",
             idle_displaced_first)

    def idle_privileged_kept_from_unprivileged():
        # root's idle connections fill every slot: nobody's PING finds no room
        # (an unprivileged caller never displaces a privileged one), root's does
        time.sleep(0.2)
        with contextlib.ExitStack() as stack:
            held, problems = idle_kept(stack, args.max_connections, sock)
            out = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                  sys.executable, "-B", os.path.abspath(__file__), "ping-once", "--socket", sock],
                                 capture_output=True, timeout=TIMEOUT * 2, text=True).stdout.strip()
            if out != "closed":
                problems.append(f"nobody's PING: {out or 'no output'}, expected closed")
            if any(k.ended() for k in held):
                problems.append("nobody displaced an idle connection of root")
            problems += expect(call(sock, PING), "STATUS_SUCCESS")
            return problems

    if os.getuid() == 0:
        run.case("root's idle connections in every slot: nobody is refused, root is served",
                 idle_privileged_kept_from_unprivileged)

    def fresh_not_displaced_by_idle_rule():
        # connections that never sent a request are not idle: the old rule holds
        time.sleep(0.2)  # the connections of the case before are gone
        return one_more_refused(sock, args.max_connections)

    run.case("slots held by connections that sent nothing: one more is still refused",
             fresh_not_displaced_by_idle_rule)
    return run.finish()


class Helper:
    """ntlm_auth --helper-protocol=squid-2.5-basic: one line in, one out."""

    def __init__(self, ntlm_auth, socket_path):
        self.proc = subprocess.Popen(
            [ntlm_auth, "--helper-protocol=squid-2.5-basic", f"--ntlmd-socket={socket_path}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def ask(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        r, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT * 3)
        if not r:
            raise TimeoutError("no answer from ntlm_auth")
        return self.proc.stdout.readline().decode().strip()

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read().decode()


class Daemon:
    """An ntlmd this driver starts and stops itself."""

    def __init__(self, ntlmd, conf, socket_path, log):
        self.socket = socket_path
        with open(log, "ab") as f:
            self.proc = subprocess.Popen([ntlmd, "-d", "-f", conf], stderr=f)
        if not ready(socket_path, 10, lambda: self.proc.poll() is not None):
            self.stop()
            raise RuntimeError("ntlmd did not start")


    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def kept_client_cases(args):
    """The C client (ntlmd_client, as ntlm_auth's helper modes keep it)
    sends its request again on a new connection when the daemon closed
    the kept one: idle_timeout, max_requests_per_connection, a restart."""
    run = Runner()
    alice = ACCOUNTS["alice"]
    good = f"{alice.user} {alice.password}"
    idle = args.idle_timeout_ms / 1000.0
    daemon = Daemon(args.ntlmd, args.conf, args.socket, args.log)
    helper = Helper(args.ntlm_auth, args.socket)

    def answers(what, want="OK"):
        got = helper.ask(what)
        return [] if got == want else [f"answered {got!r}, expected {want!r}"]

    def served_count():
        return call(args.socket, PING).u64(T_REQUESTS)

    try:
        def several():
            n0 = served_count()
            problems = answers(good) + answers(f"{alice.user} {WRONG_PASSWORD}", "ERR") + answers(good)
            if served_count() - n0 != 4:
                problems.append("not one daemon request per line")
            return problems

        run.case("ntlm_auth helper: three lines over its kept connection", several)

        def after_idle():
            time.sleep(idle + 0.5)
            return answers(good)

        run.case("ntlm_auth helper: after the daemon closed the idle connection, it reconnects once",
                 after_idle)

        def after_max_requests():
            problems = []
            for i in range(args.max_requests + 2):
                problems += [f"line {i + 1}: {p}" for p in answers(good)]
            return problems

        run.case("ntlm_auth helper: past max_requests_per_connection, it reconnects", after_max_requests)

        def after_restart():
            nonlocal daemon
            problems = answers(good)
            rc = daemon.stop()
            if rc != 0:
                problems.append(f"ntlmd exited with {rc}")
            daemon = Daemon(args.ntlmd, args.conf, args.socket, args.log)
            return problems + answers(good)

        run.case("ntlm_auth helper: the daemon restarted between two lines, the next is served", after_restart)

        def daemon_gone():
            daemon.stop()
            return answers(good, "ERR")

        run.case("ntlm_auth helper: no daemon at all: ERR, not a retry loop", daemon_gone)
    finally:
        stderr = helper.close()
        daemon.stop()
    if "AddressSanitizer" in stderr or "runtime error" in stderr:
        run.case("ntlm_auth helper: no sanitizer report", lambda: [stderr[-300:]])
    return run.finish()


def ping_once(args):
    """Prints "answered" or "closed": one PING on a connection of its own."""
    try:
        r = call(args.socket, PING)
        print("answered" if r.status == "STATUS_SUCCESS" else r.status)
    except (Closed, OSError):
        print("closed")
    return 0


def process_ended(pid):
    """True when PID is gone or a zombie (it exited, nobody reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def ready(path, within, ended=lambda: False):
    """Readiness as a client sees it: a PING answered STATUS_SUCCESS on a
    connection of its own (a socket file alone may not listen yet), within
    WITHIN seconds and before ended() is true."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if call(path, PING, timeout=1.0).status == "STATUS_SUCCESS":
                return True
        except (Closed, OSError, ValueError):
            pass
        if ended():
            return False
        time.sleep(0.05)
    return False


def wait_ready(args):
    return 0 if ready(args.socket, args.within, lambda: bool(args.pid) and process_ended(args.pid)) else 1


def logon_case(args):
    """One logon of an account with its password, as one case."""
    run = Runner()
    enable_md4_for_ntlm_auth()
    acc = ACCOUNTS[args.user]
    exchange_of = impacket_exchange if args.client == "impacket" else ntlm_auth_exchange
    run.case(args.name, lambda: expect(exchange_of(args.socket, acc.user, acc.password, args.service).verify(),
                                       args.expect))
    return run.finish()


def check_logs(files):
    run = Runner()
    secrets = []
    for acc in list(ACCOUNTS.values()) + [LATE, Account("frank", 0, NEW_FRANK_PASSWORD, "U", True)]:
        for h in (nt_hash(acc.password), lm_hash(acc.password)):
            secrets += [h.hex(), h.hex().upper()]
    secrets += ALL_PASSWORDS
    for path in files:
        def f(p=path):
            with open(p, "rb") as fh:
                text = fh.read().decode("utf-8", "replace")
            if not text.strip():
                return ["the log is empty"]
            found = {s for s in secrets if s in text}
            return [f"{len(found)} secret value(s) found"] if found else []

        run.case(f"no NT/LM hash or password in {os.path.basename(path)}", f)
    return run.finish()


def check_audit(path):
    run = Runner()
    keys = ["time", "request", "service", "caller_uid", "caller_pid", "client_address", "user", "domain",
            "workstation", "response_type", "spn", "outcome", "status", "code", "latency_us"]
    records = []

    def parse():
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                try:
                    records.append(json.loads(line))
                except ValueError as e:
                    return [f"line {i}: {e}"]
        return [] if records else ["no records"]

    run.case("every audit line is one JSON object", parse)

    def fields():
        missing = {k for r in records for k in keys if k not in r}
        return [f"missing keys: {sorted(missing)}"] if missing else []

    run.case("every audit record has the documented keys", fields)

    def success():
        ok = [r for r in records if r.get("request") == "VERIFY" and r.get("outcome") == "success"
              and r.get("user") == "alice" and r.get("response_type") == "NTLMv2" and r.get("mic_verified")]
        return [] if ok else ["no successful NTLMv2 VERIFY of alice with a verified MIC"]

    run.case("a successful NTLMv2 logon is recorded with its MIC verdict", success)

    def distinguishable():
        statuses = {r.get("status") for r in records}
        want = {"STATUS_WRONG_PASSWORD", "STATUS_NO_SUCH_USER", "STATUS_ACCOUNT_DISABLED",
                "STATUS_ACCOUNT_LOCKED_OUT", "STATUS_NTLM_MIC_MISSING", "STATUS_NTLM_BINDINGS_MISSING",
                "STATUS_NTLM_TARGET_NAME_MISMATCH", "STATUS_NTLM_BLOCKED", "STATUS_NTLM_CHALLENGE_EXPIRED"}
        return [f"statuses never recorded: {sorted(want - statuses)}"] if want - statuses else []

    run.case("each failure is recorded with its own status", distinguishable)

    def codes():
        bad = [r for r in records if r.get("status") in CODES and int(r.get("code"), 16) != CODES[r["status"]]]
        return [f"{len(bad)} records with a wrong code"] if bad else []

    run.case("NTSTATUS names and codes agree", codes)
    return run.finish()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("write-hashes")
    p.add_argument("file")
    p = sub.add_parser("main")
    p.add_argument("--socket", required=True)
    p.add_argument("--hashes", required=True)
    p.add_argument("--read-timeout-ms", type=int, required=True)
    p.add_argument("--max-connections", type=int, required=True)
    p = sub.add_parser("unauthorised")
    p.add_argument("--socket", required=True)
    p = sub.add_parser("logon")
    p.add_argument("--socket", required=True)
    p.add_argument("--name", required=True, help="the case name to print")
    p.add_argument("--client", choices=["ntlm-auth", "impacket"], default="ntlm-auth")
    p.add_argument("--service", default="")
    p.add_argument("--expect", default="STATUS_SUCCESS", help="the status the daemon must answer")
    p.add_argument("user", choices=sorted(ACCOUNTS))
    p = sub.add_parser("kept")
    p.add_argument("--socket", required=True)
    p.add_argument("--idle-timeout-ms", type=int, required=True)
    p.add_argument("--max-requests", type=int, required=True)
    p.add_argument("--max-connections", type=int, required=True)
    p = sub.add_parser("ping-once")
    p.add_argument("--socket", required=True)
    p = sub.add_parser("wait-ready")
    p.add_argument("--socket", required=True)
    p.add_argument("--within", type=float, required=True)
    p.add_argument("--pid", type=int, default=0)
    p = sub.add_parser("kept-client")
    p.add_argument("--ntlmd", required=True)
    p.add_argument("--conf", required=True)
    p.add_argument("--socket", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--ntlm-auth", required=True)
    p.add_argument("--idle-timeout-ms", type=int, required=True)
    p.add_argument("--max-requests", type=int, required=True)
    p = sub.add_parser("check-logs")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("check-audit")
    p.add_argument("file")
    args = parser.parse_args()

    if args.command == "write-hashes":
        write_hashes(args.file)
        return 0
    if args.command == "main":
        return main_cases(args)
    if args.command == "unauthorised":
        return unauthorised_cases(args)
    if args.command == "logon":
        return logon_case(args)
    if args.command == "kept":
        return kept_cases(args)
    if args.command == "ping-once":
        return ping_once(args)
    if args.command == "wait-ready":
        return wait_ready(args)
    if args.command == "kept-client":
        return kept_client_cases(args)
    if args.command == "check-logs":
        return check_logs(args.files)
    return check_audit(args.file)


if __name__ == "__main__":
    sys.exit(main())
