#!/usr/bin/python3
"""Interop driver: full NTLMSSP exchanges of independent clients against
ntlm-test-acceptor (the line-protocol front end of the libntlmssp acceptor).

    clients.py python-ntlm-auth|impacket|samba --acceptor PATH --hashes FILE
    clients.py write-hashes FILE
    clients.py write-netrc FILE --user USER [--domain D] [--wrong-password]

Each case starts a fresh acceptor with its own policy options, runs one
exchange with a client and checks the acceptor's exact answer. One line is
printed per case, then "N passed, M failed"; the exit status is 1 when any
case failed. The acceptor must also exit cleanly (status 0: no sanitizer
report).

The test accounts below are throwaway values that exist only in the files
these tests generate.
"""

import argparse
import base64
import hashlib
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

TIMEOUT = 10.0  # seconds for any one answer of a subprocess
DOMAIN = "TESTDOM"
COMPUTER = "TESTSRV"
WORKSTATION = "CLIENT1"


class Account:
    def __init__(self, user, uid, password, flags, store_lm):
        self.user = user
        self.uid = uid
        self.password = password
        self.flags = flags
        self.store_lm = store_lm


ACCOUNTS = {
    "alice": Account("alice", 1000, "Passw0rd!", "U", True),
    "bob": Account("bob", 1001, "Bobpass1!", "DU", False),  # disabled
}
WRONG_PASSWORD = "WrongPass1"
UNKNOWN_USER = "nosuchuser"
UNKNOWN_PASSWORD = "Nobody123!"

# RFC 5929 tls-server-end-point bindings of two made-up certificates.
CB_GOOD = b"tls-server-end-point:" + hashlib.sha256(b"test server certificate").digest()
CB_OTHER = b"tls-server-end-point:" + hashlib.sha256(b"another certificate").digest()


# ---------------------------------------------------------------------------
# Hashes


def md4(data):
    try:
        return hashlib.new("md4", data).digest()
    except ValueError:
        from Cryptodome.Hash import MD4  # python3-pycryptodome

        return MD4.new(data).digest()


def nt_hash(password):
    return md4(password.encode("utf-16-le"))


def _des_key(key7):
    """Expands 7 key bytes to a DES key (MS-NLMP 6, "str_to_key")."""
    bits = int.from_bytes(key7, "big")
    out = bytearray()
    for i in range(8):
        b = (bits >> (49 - 7 * i)) & 0x7F
        out.append(b << 1)
    return bytes(out)


def lm_hash(password):
    from Cryptodome.Cipher import DES  # python3-pycryptodome

    pw = password.upper().encode("ascii")[:14].ljust(14, b"\0")
    magic = b"KGS!@#$%"
    return b"".join(DES.new(_des_key(pw[i : i + 7]), DES.MODE_ECB).encrypt(magic) for i in (0, 7))


def write_hashes(path):
    """Writes the test accounts as an smbpasswd file (mode 0600)."""
    lines = []
    for acc in ACCOUNTS.values():
        lm = lm_hash(acc.password).hex().upper() if acc.store_lm else "X" * 32
        nt = nt_hash(acc.password).hex().upper()
        flags = "[" + acc.flags.ljust(11) + "]"
        lines.append(f"{acc.user}:{acc.uid}:{lm}:{nt}:{flags}:LCT-{int(time.time()):08X}:\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(lines)


def write_netrc(path, user, domain, wrong):
    if wrong:
        password = WRONG_PASSWORD
    elif user.lower() in ACCOUNTS:
        password = ACCOUNTS[user.lower()].password
    else:
        password = UNKNOWN_PASSWORD
    login = f"{domain}\\{user}" if domain else user
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"machine 127.0.0.1 login {login} password {password}\n")


# ---------------------------------------------------------------------------
# Line-protocol co-processes


class ProtocolError(Exception):
    pass


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    return base64.b64decode(text.encode("ascii"), validate=True)


class LineProcess:
    """A subprocess spoken to one line at a time, every read bounded by TIMEOUT."""

    def __init__(self, argv, name, env=None):
        self.name = name
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env
        )
        self.buf = b""
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)

    def send(self, line):
        try:
            self.proc.stdin.write(line.encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise ProtocolError(f"{self.name}: cannot write: {e}") from None

    def readline(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError(f"{self.name}: no answer within {timeout:.0f} s")
            if not self.sel.select(left):
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise ProtocolError(f"{self.name}: exited without answering ({self.stderr_text().strip()})")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace").rstrip("\r")

    def request(self, line):
        self.send(line)
        return self.readline()

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def close(self):
        """Closes stdin and waits; returns (exit status, stderr text)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "killed after timeout"
        self.sel.close()
        self.proc.stdout.close()
        text = self.stderr_text()
        self.stderr.close()
        return rc, text


class Acceptor(LineProcess):
    def __init__(self, path, hashes, options):
        super().__init__([path, "--hashes", hashes] + list(options), "acceptor")

    def challenge(self, negotiate):
        line = "NEGOTIATE" if negotiate is None else "NEGOTIATE " + b64(negotiate)
        reply = self.request(line)
        if not reply.startswith("CHALLENGE "):
            raise ProtocolError(f"acceptor answered the NEGOTIATE with: {reply}")
        return unb64(reply[len("CHALLENGE ") :])

    def authenticate(self, authenticate):
        return self.request("AUTHENTICATE " + b64(authenticate))


def parse_reply(line):
    """'OK k=v ...' / 'FAIL NAME 0xCODE k=v ...' -> (kind, status, fields)."""
    words = line.split(" ")
    kind, status, rest = words[0], None, words[1:]
    if kind == "FAIL" and len(words) >= 3:
        status, rest = words[1], words[3:]
    elif kind == "ERROR" and len(words) >= 2:
        status, rest = words[1], words[2:]
    fields = {}
    for w in rest:
        k, sep, v = w.partition("=")
        if sep:
            fields[k] = urllib.parse.unquote(v)
    return kind, status, fields


class Expect:
    """The acceptor answer a case must produce."""

    def __init__(self, kind, status=None, **fields):
        self.kind = kind
        self.status = status
        self.fields = fields

    def check(self, reply):
        kind, status, fields = parse_reply(reply)
        problems = []
        if kind != self.kind or (self.status is not None and status != self.status):
            want = self.kind + (" " + self.status if self.status else "")
            problems.append(f"expected {want}")
        for k, v in self.fields.items():
            if fields.get(k) != v:
                problems.append(f"expected {k}={v}")
        return problems

    def __str__(self):
        parts = [self.kind] + ([self.status] if self.status else [])
        parts += [f"{k}={v}" for k, v in self.fields.items()]
        return " ".join(parts)


def OK(**fields):
    return Expect("OK", **fields)


def FAIL(status, **fields):
    return Expect("FAIL", status, **fields)


class Case:
    def __init__(self, name, options, run, expect, session=None):
        self.name = name
        self.options = options
        self.run = run  # run(acceptor) -> (reply, client state)
        self.expect = expect
        self.session = session  # None, or "both"/"client" ways of sealed messages to check


# Cases every client runs. run(user, password) makes one NTLMv2 exchange,
# run_ess(user, password) one NTLMv1-ESS exchange.

ALL_LEGACY = ["--allow-ntlmv1", "--allow-ess", "--allow-lm"]


def account_cases(run):
    """A wrong password, an unknown user and a disabled account with NTLMv2:
    the disabled state is revealed only to the right password."""
    bob = ACCOUNTS["bob"]
    return [
        Case(
            "NTLMv2, wrong password",
            [],
            run("alice", WRONG_PASSWORD),
            FAIL("STATUS_WRONG_PASSWORD", type="NTLMv2"),
        ),
        Case("NTLMv2, unknown user", [], run(UNKNOWN_USER, UNKNOWN_PASSWORD), FAIL("STATUS_NO_SUCH_USER")),
        Case("NTLMv2, disabled user", [], run("bob", bob.password), FAIL("STATUS_ACCOUNT_DISABLED")),
        Case(
            "NTLMv2, disabled user, wrong password (state not revealed)",
            [],
            run("bob", WRONG_PASSWORD),
            FAIL("STATUS_WRONG_PASSWORD"),
        ),
    ]


def no_lm_fallback_case(run_ess):
    """A wrong NTLMv1-ESS password is refused even with LM allowed: no
    fallback to the LM response, which with ESS carries client data."""
    return Case(
        "NTLMv1-ESS, wrong password, LM also allowed (no LM fallback)",
        ALL_LEGACY,
        run_ess("alice", WRONG_PASSWORD),
        FAIL("STATUS_WRONG_PASSWORD"),
    )


# ---------------------------------------------------------------------------
# python3-ntlm-auth


def enable_md4_for_ntlm_auth():
    """python3-ntlm-auth calls hashlib.new('md4'), which OpenSSL 3 refuses
    without its legacy provider. Route MD4 to pycryptodome, in this process
    only: the acceptor's environment stays as it is."""
    try:
        hashlib.new("md4")
        return
    except ValueError:
        pass
    from Cryptodome.Hash import MD4

    original_new = hashlib.new

    def new(name, data=b"", **kwargs):
        if name.lower() == "md4":
            h = MD4.new()
            if data:
                h.update(data)
            return h
        return original_new(name, data, **kwargs)

    hashlib.new = new


def clear_flag(msg, offset, flag):
    """A copy of an NTLMSSP message with flag cleared in the flags at offset."""
    flags = int.from_bytes(msg[offset : offset + 4], "little") & ~flag
    return msg[:offset] + flags.to_bytes(4, "little") + msg[offset + 4 :]


NEGOTIATE_SEAL = 0x00000020
NEGOTIATE_FLAGS_OFFSET = 12
CHALLENGE_FLAGS_OFFSET = 20


def ntlm_auth_run(
    user, password, domain=DOMAIN, compat=3, cb=None, alter_negotiate=False, alter_challenge=False
):
    """alter_*: a man in the middle clears NEGOTIATE_SEAL in the NEGOTIATE
    the acceptor gets, or in the CHALLENGE the client gets."""
    from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct
    from ntlm_auth.ntlm import NtlmContext

    cbt = None
    if cb is not None:
        cbt = GssChannelBindingsStruct()
        cbt[cbt.APPLICATION_DATA] = cb

    def run(acc):
        ctx = NtlmContext(
            user, password, domain=domain, workstation=WORKSTATION, cbt_data=cbt, ntlm_compatibility=compat
        )
        neg = ctx.step()
        if alter_negotiate:
            neg = clear_flag(neg, NEGOTIATE_FLAGS_OFFSET, NEGOTIATE_SEAL)
        chal = acc.challenge(neg)
        if alter_challenge:
            chal = clear_flag(chal, CHALLENGE_FLAGS_OFFSET, NEGOTIATE_SEAL)
        return acc.authenticate(ctx.step(chal)), ctx

    return run


def ntlm_auth_session_check(acc, ctx, both_ways):
    """A message sealed (or signed) by the client must open on the acceptor,
    and with both_ways one sealed by the acceptor on the client. Without
    extended session security Windows and Samba (and libntlmssp) use one RC4
    state and one sequence number for both directions, while
    python-ntlm-auth keeps one per direction: there only the first message
    can be checked."""
    if ctx.session_key is None:
        return ["the client negotiated no session security"]
    problems = []
    msg = b"client to server: sealed with the exported session key"
    reply = acc.request("UNWRAP " + b64(ctx.wrap(msg)))
    if reply != "DATA " + b64(msg):
        problems.append(f"client->server message: acceptor answered {reply}")
    if not both_ways:
        return problems
    msg = b"server to client"
    reply = acc.request("WRAP " + b64(msg))
    if not reply.startswith("TOKEN "):
        problems.append(f"server->client message: acceptor answered {reply}")
    else:
        try:
            got = ctx.unwrap(unb64(reply[len("TOKEN ") :]))
        except Exception as e:  # the client's own verification failed
            got = f"error: {e}"
        if got != msg:
            problems.append(f"server->client message: client got {got!r}")
    return problems


def ntlm_auth_cases():
    alice = ACCOUNTS["alice"]
    run = ntlm_auth_run
    good = dict(user="alice", domain=DOMAIN, workstation=WORKSTATION, key="present")
    v2 = dict(good, type="NTLMv2")
    cases = [
        Case("NTLMv2 + MIC, good password", [], run("alice", alice.password), OK(**v2, mic="valid")),
        Case(
            "NTLMv2 + MIC, sealed messages both ways",
            [],
            run("alice", alice.password),
            OK(**v2, mic="valid"),
            session="both",
        ),
        Case(
            "NTLMv2, user name in upper case",
            [],
            run("ALICE", alice.password),
            OK(user="ALICE", type="NTLMv2", mic="valid"),
        ),
        Case(
            "NTLMv2, empty domain",
            [],
            run("alice", alice.password, domain=""),
            OK(user="alice", domain="", type="NTLMv2", mic="valid"),
        ),
        Case(
            "NTLMv2, MIC required by policy",
            ["--require-mic"],
            run("alice", alice.password),
            OK(**v2, mic="valid"),
        ),
        Case(
            "NTLMv2 + MIC, NEGOTIATE altered in transit (SEAL removed)",
            [],
            run("alice", alice.password, alter_negotiate=True),
            FAIL("STATUS_NTLM_MIC_INVALID", type="NTLMv2", mic="invalid"),
        ),
        Case(
            "NTLMv2 + MIC, CHALLENGE altered in transit (SEAL removed)",
            [],
            run("alice", alice.password, alter_challenge=True),
            FAIL("STATUS_NTLM_MIC_INVALID", type="NTLMv2", mic="invalid"),
        ),
        *account_cases(run),
    ]
    # The acceptor binds CB_GOOD; the client binds CB_GOOD, CB_OTHER or nothing.
    no_bindings = {
        "required": FAIL("STATUS_NTLM_BINDINGS_MISSING"),
        "when-supported": OK(**v2, mic="valid", cb="absent"),
    }
    for mode, none_expected in no_bindings.items():
        options = ["--cb", mode, "--cb-app-data", CB_GOOD.hex()]
        cases += [
            Case(
                f"channel bindings {mode}, matching",
                options,
                run("alice", alice.password, cb=CB_GOOD),
                OK(**v2, mic="valid", cb="valid"),
            ),
            Case(
                f"channel bindings {mode}, other certificate",
                options,
                run("alice", alice.password, cb=CB_OTHER),
                FAIL("STATUS_BAD_BINDINGS"),
            ),
            Case(
                f"channel bindings {mode}, client sends none",
                options,
                run("alice", alice.password),
                none_expected,
            ),
        ]
    return cases + [
        Case(
            "channel bindings off, client binds another certificate",
            ["--cb", "off", "--cb-app-data", CB_GOOD.hex()],
            run("alice", alice.password, cb=CB_OTHER),
            OK(**v2, mic="valid", cb="unchecked"),
        ),
        Case(
            "NTLMv1 (level 0) refused by the default policy",
            [],
            run("alice", alice.password, compat=0),
            FAIL("STATUS_NTLM_BLOCKED", type="NTLMv1"),
        ),
        Case(
            "NTLMv1 (level 0) refused when only ESS is allowed",
            ["--allow-ess"],
            run("alice", alice.password, compat=0),
            FAIL("STATUS_NTLM_BLOCKED", type="NTLMv1"),
        ),
        Case(
            "NTLMv1 (level 0) allowed, a sealed message client to server",
            ["--allow-ntlmv1"],
            run("alice", alice.password, compat=0),
            OK(**good, type="NTLMv1", mic="absent"),
            session="client",
        ),
        Case(
            "NTLMv1 (level 0) allowed, wrong password",
            ["--allow-ntlmv1"],
            run("alice", WRONG_PASSWORD, compat=0),
            FAIL("STATUS_WRONG_PASSWORD", type="NTLMv1"),
        ),
        Case(
            "NTLMv1-ESS (level 1) allowed, sealed messages both ways",
            ["--allow-ess"],
            run("alice", alice.password, compat=1),
            OK(**good, type="NTLMv1-ESS", mic="absent"),
            session="both",
        ),
        Case(
            "NTLMv1-ESS (level 2) allowed",
            ["--allow-ess"],
            run("alice", alice.password, compat=2),
            OK(**good, type="NTLMv1-ESS", mic="absent"),
        ),
        Case(
            "NTLMv1-ESS (level 2) refused by the default policy",
            [],
            run("alice", alice.password, compat=2),
            FAIL("STATUS_NTLM_BLOCKED", type="NTLMv1-ESS"),
        ),
        Case(
            "NTLMv1-ESS, wrong password",
            ["--allow-ess"],
            run("alice", WRONG_PASSWORD, compat=2),
            FAIL("STATUS_WRONG_PASSWORD", type="NTLMv1-ESS"),
        ),
        no_lm_fallback_case(lambda user, password: run(user, password, compat=2)),
        # issue 14: CHALLENGEs as other servers build them (verify mode).
        # Without TargetInfo the client's blob holds an empty AV list;
        # without MsvAvTimestamp python3-ntlm-auth 1.4 sends a garbage time
        # (the year 5347). Both are accepted, and the proof still checked.
        Case(
            "NTLMv2, CHALLENGE without TargetInfo",
            ["--no-target-info"],
            run("alice", alice.password),
            OK(**v2, mic="absent"),
        ),
        Case(
            "NTLMv2, CHALLENGE without TargetInfo, wrong password",
            ["--no-target-info"],
            run("alice", WRONG_PASSWORD),
            FAIL("STATUS_WRONG_PASSWORD", type="NTLMv2"),
        ),
        Case(
            "NTLMv2, CHALLENGE without MsvAvTimestamp",
            ["--no-timestamp"],
            run("alice", alice.password),
            OK(**v2),
        ),
        Case(
            "NTLMv2, CHALLENGE without MsvAvTimestamp, wrong password",
            ["--no-timestamp"],
            run("alice", WRONG_PASSWORD),
            FAIL("STATUS_WRONG_PASSWORD", type="NTLMv2"),
        ),
    ]


# ---------------------------------------------------------------------------
# python3-impacket


def impacket_run(user, password, domain=DOMAIN, v2=True):
    from impacket import ntlm

    def run(acc):
        type1 = ntlm.getNTLMSSPType1("", "", use_ntlmv2=v2)
        chal = acc.challenge(type1.getData())
        type3, _key = ntlm.getNTLMSSPType3(type1, chal, user, password, domain, use_ntlmv2=v2)
        return acc.authenticate(type3.getData()), None

    return run


def impacket_cases():
    alice = ACCOUNTS["alice"]
    run = impacket_run
    # impacket sends no MIC and adds MsvAvTargetName "cifs/<NetBIOS computer name>"
    v2 = dict(user="alice", domain=DOMAIN, type="NTLMv2", mic="absent", key="present")
    return [
        Case("NTLMv2 (32-byte NEGOTIATE, no MIC), good password", [], run("alice", alice.password), OK(**v2)),
        Case(
            "NTLMv2, SPN not checked without a target-name list",
            [],
            run("alice", alice.password),
            OK(**v2, spn="unchecked"),
        ),
        Case(
            "NTLMv2, SPN cifs/TESTSRV accepted",
            ["--target-name", "HTTP/www.example.test", "--target-name", f"cifs/{COMPUTER}"],
            run("alice", alice.password),
            OK(**v2, spn="valid"),
        ),
        Case(
            "NTLMv2, SPN compared case-insensitively",
            ["--target-name", f"CIFS/{COMPUTER.lower()}"],
            run("alice", alice.password),
            OK(**v2, spn="valid"),
        ),
        Case(
            "NTLMv2, other server names, SPN cifs/WEB01 accepted",
            [
                "--computer",
                "WEB01",
                "--domain",
                "EXAMPLE",
                "--dns-domain",
                "example.test",
                "--target-name",
                "cifs/WEB01",
            ],
            run("alice", alice.password),
            OK(**v2, spn="valid"),
        ),
        Case(
            "NTLMv2, SPN not in the accepted list",
            ["--target-name", "HTTP/www.example.test"],
            run("alice", alice.password),
            FAIL("STATUS_NTLM_TARGET_NAME_MISMATCH"),
        ),
        Case(
            "NTLMv2 without MIC, MIC required by policy",
            ["--require-mic"],
            run("alice", alice.password),
            FAIL("STATUS_NTLM_MIC_MISSING"),
        ),
        *account_cases(run),
        Case(
            "NTLMv1-ESS allowed",
            ["--allow-ess"],
            run("alice", alice.password, v2=False),
            OK(user="alice", domain=DOMAIN, type="NTLMv1-ESS", mic="absent", key="present"),
        ),
        Case(
            "NTLMv1-ESS refused by the default policy",
            [],
            run("alice", alice.password, v2=False),
            FAIL("STATUS_NTLM_BLOCKED", type="NTLMv1-ESS"),
        ),
        no_lm_fallback_case(lambda user, password: run(user, password, v2=False)),
    ]


# ---------------------------------------------------------------------------
# Samba's ntlm_auth --helper-protocol=ntlmssp-client-1

SAMBA_WORKSTATION = "SMBCLIENT"


class SambaClient(LineProcess):
    """ntlm_auth as a co-process: 'PW <b64>' -> 'OK'; 'YR' -> 'YR <b64 NEGOTIATE>';
    'TT <b64 CHALLENGE>' -> 'AF <b64 AUTHENTICATE>' (or 'KK'; or 'PW' when it
    still wants the password)."""

    def __init__(self, confdir, user, password, domain, options):
        argv = [
            "ntlm_auth",
            f"--configfile={confdir}/smb.conf",
            "--helper-protocol=ntlmssp-client-1",
            f"--username={user}",
            f"--domain={domain}",
        ] + [f"--option={o}" for o in options]
        super().__init__(argv, "ntlm_auth")
        self.password_b64 = b64(password.encode("utf-8"))

    def give_password(self):
        reply = self.request("PW " + self.password_b64)
        if reply != "OK":
            raise ProtocolError(f"ntlm_auth answered the password with: {reply}")

    def negotiate(self):
        reply = self.request("YR")
        if not reply.startswith("YR "):
            raise ProtocolError(f"ntlm_auth answered YR with: {reply}")
        return unb64(reply[3:])

    def authenticate(self, challenge):
        for _ in range(2):
            reply = self.request("TT " + b64(challenge))
            if reply == "PW":
                self.give_password()
                continue
            if reply[:3] in ("AF ", "KK "):
                return unb64(reply[3:])
            raise ProtocolError(f"ntlm_auth answered the CHALLENGE with: {reply}")
        raise ProtocolError("ntlm_auth kept asking for the password")


def write_samba_conf(confdir):
    state = os.path.join(confdir, "state")
    os.makedirs(state, exist_ok=True)
    with open(os.path.join(confdir, "smb.conf"), "w") as f:
        f.write(
            "[global]\n"
            f"\tworkgroup = {DOMAIN}\n"
            f"\tnetbios name = {SAMBA_WORKSTATION}\n"
            f"\tlock directory = {state}\n"
            f"\tstate directory = {state}\n"
            f"\tcache directory = {state}\n"
            f"\tprivate dir = {state}\n"
            f"\tpid directory = {state}\n"
            f"\tncalrpc dir = {state}\n"
            "\tlog level = 0\n"
        )


def samba_run(confdir, user, password, domain=DOMAIN, options=()):
    def run(acc):
        client = SambaClient(confdir, user, password, domain, options)
        try:
            client.give_password()
            chal = acc.challenge(client.negotiate())
            auth = client.authenticate(chal)
        finally:
            rc, err = client.close()
        if rc != 0:
            raise ProtocolError(f"ntlm_auth exited with {rc}: {err.strip()}")
        return acc.authenticate(auth), None

    return run


def samba_cases(confdir):
    alice = ACCOUNTS["alice"]

    def run(*args, **kwargs):
        return samba_run(confdir, *args, **kwargs)

    v1 = ["client ntlmv2 auth = no", "client lanman auth = no"]
    # Samba 4.17's ntlmssp-client-1 sends no workstation name, and fills the
    # MIC field but sends no MsvAvFlags announcing it: by MS-NLMP 3.2.5.1.2
    # there is then no MIC to check.
    good = dict(user="alice", domain=DOMAIN, workstation="", key="present")
    return [
        Case(
            "NTLMv2, good password",
            [],
            run("alice", alice.password),
            OK(**good, type="NTLMv2", mic="absent"),
        ),
        Case(
            "NTLMv2 without announced MIC, MIC required by policy",
            ["--require-mic"],
            run("alice", alice.password),
            FAIL("STATUS_NTLM_MIC_MISSING", type="NTLMv2"),
        ),
        Case(
            "NTLMv2, all-zero channel bindings accepted when-supported",
            ["--cb", "when-supported", "--cb-app-data", CB_GOOD.hex()],
            run("alice", alice.password),
            OK(**good, type="NTLMv2", cb="absent"),
        ),
        Case(
            "NTLMv2, all-zero channel bindings refused when required",
            ["--cb", "required", "--cb-app-data", CB_GOOD.hex()],
            run("alice", alice.password),
            FAIL("STATUS_NTLM_BINDINGS_MISSING"),
        ),
        *account_cases(run),
        Case(
            "NTLMv1-ESS refused by the default policy",
            [],
            run("alice", alice.password, options=v1),
            FAIL("STATUS_NTLM_BLOCKED", type="NTLMv1-ESS"),
        ),
        Case(
            "NTLMv1-ESS allowed",
            ["--allow-ess"],
            run("alice", alice.password, options=v1),
            OK(**good, type="NTLMv1-ESS"),
        ),
        no_lm_fallback_case(lambda user, password: run(user, password, options=v1)),
    ]


# ---------------------------------------------------------------------------
# Runner


def run_case(client, case, acceptor_path, hashes):
    """Returns the list of problems (empty when the case passed) and the reply."""
    problems = []
    reply = None
    acc = Acceptor(acceptor_path, hashes, case.options)
    try:
        reply, state = case.run(acc)
        problems += case.expect.check(reply)
        if case.session and not problems:
            problems += ntlm_auth_session_check(acc, state, case.session == "both")
    except ProtocolError as e:
        problems.append(str(e))
    except Exception as e:  # a client library refused our messages
        problems.append(f"{client} raised {type(e).__name__}: {e}")
    finally:
        rc, err = acc.close()
    if rc != 0:
        problems.append(f"acceptor exited with status {rc}: {err.strip()}")
    return problems, reply


def run_client(client, cases, args):
    passed = failed = 0
    deadline = time.monotonic() + args.time_limit
    for case in cases:
        label = f"{client}: {case.name}"
        if time.monotonic() > deadline:
            print(f"FAIL {label}: not run, time limit of {args.time_limit} s reached", flush=True)
            failed += 1
            continue
        problems, reply = run_case(client, case, args.acceptor, args.hashes)
        if problems:
            failed += 1
            print(f"FAIL {label}: {'; '.join(problems)}; wanted [{case.expect}], got [{reply}]", flush=True)
        else:
            passed += 1
            print(f"PASS {label}: {reply}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("python-ntlm-auth", "impacket", "samba"):
        p = sub.add_parser(name, help=f"run the {name} cases")
        p.add_argument("--acceptor", required=True, help="path of ntlm-test-acceptor")
        p.add_argument("--hashes", required=True, help="smbpasswd file written by write-hashes")
        p.add_argument("--time-limit", type=float, default=300.0, help="seconds for all cases")
    p = sub.add_parser("write-hashes", help="write the test accounts as an smbpasswd file")
    p.add_argument("file")
    p = sub.add_parser("write-netrc", help="write a netrc file for curl")
    p.add_argument("file")
    p.add_argument("--user", required=True)
    p.add_argument("--domain", default="")
    p.add_argument("--wrong-password", action="store_true")
    args = parser.parse_args()

    if args.command == "write-hashes":
        write_hashes(args.file)
        return 0
    if args.command == "write-netrc":
        write_netrc(args.file, args.user, args.domain, args.wrong_password)
        return 0
    if args.command == "python-ntlm-auth":
        enable_md4_for_ntlm_auth()
        return run_client(args.command, ntlm_auth_cases(), args)
    if args.command == "impacket":
        return run_client(args.command, impacket_cases(), args)
    confdir = tempfile.mkdtemp(prefix="ntlm-samba-")
    try:
        write_samba_conf(confdir)
        return run_client(args.command, samba_cases(confdir), args)
    finally:
        shutil.rmtree(confdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
