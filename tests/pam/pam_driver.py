#!/usr/bin/python3
"""Helpers of test-pam.sh: the test accounts, NTLM messages of an
independent client (python3-ntlm-auth), the interactive driver of
pamtester in exchange mode, and a socket that never answers.

    pam_driver.py write-hashes FILE
    pam_driver.py hash-is FILE USER            (password on stdin) exit 0 when
                                               USER's NT hash in FILE is NT(password)
    pam_driver.py verify-input USER [--spnego] [--workstation W]
                                               (password on stdin) prints the three
                                               lines pamtester reads in verify mode
    pam_driver.py exchange --user U [--cb HEX] [--stop-pid PID] -- PAMTESTER ARGV...
                                               (password on stdin) answers pamtester's
                                               prompts; prints its exit status and output
                                               --spnego: the messages go in SPNEGO
                                               tokens built by python3-impacket, the
                                               CHALLENGE is unwrapped by it, and the
                                               final token (NTLM_FINAL_TOKEN, printed by
                                               a pam_exec step) is checked: prints
                                               final=accept-completed when it is
                                               --answer kerberos: a SPNEGO NegTokenInit
                                               with a Kerberos AP-REQ (impacket);
                                               kerberos-ntlm: the same listing NTLMSSP
                                               too, then NTLMSSP once it is selected
    pam_driver.py line-client --user U [--cb HEX] -- SERVER ARGV...
                                               (password on stdin) one exchange with
                                               examples/pam-ntlm-server
    pam_driver.py create SOCKET USER [--value N] [--old]
                                               (password on stdin) CHANGE_PASSWORD with
                                               CREATE through tests/lib/ntlmd_driver.py;
                                               prints the status name
    pam_driver.py sync SOCKET USER [--create]  (password on stdin) SYNC_PASSWORD (with
                                               CREATE 1); prints the status name (and
                                               stored=N)
    pam_driver.py silent-socket PATH           accepts and never answers
    pam_driver.py fake-ntlmd PATH LOG [--fold]  a stand-in for ntlmd: CHECK_PASSWORD,
                                               ACCOUNT_STATUS, CHANGE_PASSWORD and
                                               SYNC_PASSWORD (stored=1) succeed
                                               (a user starting "nosuch": STATUS_NO_SUCH_USER;
                                               the password "Wrongpw1!": STATUS_WRONG_PASSWORD)
                                               with AUTH_USER TESTDOM\\USER and no ACCOUNT_NAME,
                                               as an ntlmd older than the module answers;
                                               --fold: ACCOUNT_NAME is USER in lower case, as a
                                               daemon that ignores EXACT_NAME and folds case.
                                               Appends "TYPE user=U exact=E create=C" per
                                               request to LOG (never a password)
    pam_driver.py garbage-socket PATH          answers every request with a reply
                                               header announcing more than it sends

The accounts are throwaway values that exist only in the files the tests
generate. No password or hash is printed.
"""

import argparse
import base64
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

import clients  # tests/interop/clients.py (hashes, MD4 for python3-ntlm-auth), on PYTHONPATH

TIMEOUT = 15.0
DOMAIN = "TESTDOM"
WORKSTATION = "CLIENT1"

# name: (uid, password, flags, last change time; 0 = must change)
ACCOUNTS = {
    "alice": (1000, "Passw0rd!", "U", None),
    "bob": (1001, "Bobpass1!", "DU", None),  # disabled
    "carol": (1002, "Carolpw1!", "LU", None),  # locked
    "dave": (1003, "Davepass1!", "U", 0),  # must change
    "erin": (1004, "Erinpass1!", "U", None),  # password changes
    "frank": (1005, "Frankold1!", "U", None),  # migrate
    "henry": (1007, "Henryold1!", "U", None),  # migrate, lockout
}


def write_hashes(path):
    lines = []
    for user, (uid, password, flags, lct) in ACCOUNTS.items():
        nt = clients.nt_hash(password).hex().upper()
        when = int(time.time()) if lct is None else lct
        lines.append(f"{user}:{uid}:{'X' * 32}:{nt}:[{flags.ljust(11)}]:LCT-{when:08X}:\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(lines)


def read_password():
    line = sys.stdin.readline()
    return line.rstrip("\n")


def hash_is(path, user):
    want = clients.nt_hash(read_password()).hex().upper()
    with open(path) as f:
        for line in f:
            parts = line.split(":")
            if parts[0] == user:  # the store's name, byte for byte
                return 0 if parts[3].upper() == want else 1
    return 2


# ---------------------------------------------------------------------------
# Messages


def av_pair(av_id, value):
    return struct.pack("<HH", av_id, len(value)) + value


def build_challenge(negotiate_flags):
    """A CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) as a server in verify mode
    builds it: random server challenge, target info with the NetBIOS names
    and MsvAvTimestamp (2.2.2.1)."""
    target = DOMAIN.encode("utf-16-le")
    filetime = (int(time.time()) + 11644473600) * 10000000
    info = (
        av_pair(2, DOMAIN.encode("utf-16-le"))
        + av_pair(1, "PAMSRV".encode("utf-16-le"))
        + av_pair(7, struct.pack("<Q", filetime))
        + av_pair(0, b"")
    )
    # UNICODE | REQUEST_TARGET | NTLM | ALWAYS_SIGN | TARGET_TYPE_DOMAIN |
    # EXTENDED_SESSIONSECURITY | TARGET_INFO | VERSION | 128 | KEY_EXCH | 56,
    # and SIGN / SEAL when the client asked
    flags = 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00010000
    flags |= 0x00080000 | 0x00800000 | 0x02000000 | 0x20000000 | 0x40000000 | 0x80000000
    flags |= negotiate_flags & (0x00000010 | 0x00000020)
    header_len = 56
    msg = b"NTLMSSP\0" + struct.pack("<I", 2)
    msg += struct.pack("<HHI", len(target), len(target), header_len)
    msg += struct.pack("<I", flags) + os.urandom(8) + b"\0" * 8
    msg += struct.pack("<HHI", len(info), len(info), header_len + len(target))
    msg += bytes([10, 0]) + struct.pack("<H", 20348) + b"\0\0\0\x0f"
    return msg + target + info


def ntlm_context(user, password, cb_hex=None, workstation=WORKSTATION):
    from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct
    from ntlm_auth.ntlm import NtlmContext

    clients.enable_md4_for_ntlm_auth()
    cbt = None
    if cb_hex:
        cbt = GssChannelBindingsStruct()
        cbt[cbt.APPLICATION_DATA] = bytes.fromhex(cb_hex)
    return NtlmContext(user, password, domain=DOMAIN, workstation=workstation, cbt_data=cbt, ntlm_compatibility=3)


def verify_input(user, spnego=False, workstation=WORKSTATION):
    ctx = ntlm_context(user, read_password(), workstation=workstation)
    neg = ctx.step()
    chal = build_challenge(struct.unpack("<I", neg[12:16])[0])
    auth = ctx.step(chal)
    if spnego:  # the client's tokens in SPNEGO; the server's own CHALLENGE bare
        neg, auth = spnego_init(neg), spnego_resp(auth)
    for m in (neg, chal, auth):
        print(base64.b64encode(m).decode("ascii"))
    return 0


# ---------------------------------------------------------------------------
# pamtester, interactive


class Output:
    """The merged stdout and stderr of a process, read with a deadline."""

    def __init__(self, proc):
        self.proc = proc
        self.text = ""
        self.sel = selectors.DefaultSelector()
        self.sel.register(proc.stdout, selectors.EVENT_READ)

    def wait_for(self, pattern, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.text)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self.read(left):
                return None

    def read(self, timeout):
        if not self.sel.select(timeout):
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return False
        self.text += chunk.decode("utf-8", "replace")
        return True

    def finish(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while self.read(max(0.0, deadline - time.monotonic())):
            if time.monotonic() > deadline:
                break
        try:
            return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed"


def send(proc, line):
    try:
        proc.stdin.write(line.encode("ascii") + b"\n")
        proc.stdin.flush()
    except (BrokenPipeError, OSError):
        pass


# ---------------------------------------------------------------------------
# SPNEGO (RFC 4178), built and parsed by python3-impacket

NTLMSSP_MECH = "NTLMSSP - Microsoft NTLM Security Support Provider"


def spnego_init(token):
    from impacket.spnego import SPNEGO_NegTokenInit, TypesMech

    t = SPNEGO_NegTokenInit()
    t["MechTypes"] = [TypesMech[NTLMSSP_MECH]]
    t["MechToken"] = token
    return t.getData()


def spnego_resp(token):
    from impacket.spnego import SPNEGO_NegTokenResp

    t = SPNEGO_NegTokenResp()
    t["ResponseToken"] = token
    return t.getData()


def spnego_challenge(blob):
    """The CHALLENGE in the module's NegTokenResp, which must be
    accept-incomplete with NTLMSSP as the supported mechanism."""
    from impacket.spnego import SPNEGO_NegTokenResp, TypesMech

    t = SPNEGO_NegTokenResp(blob)
    if t["NegState"] != b"\x01" or t["SupportedMech"] != TypesMech[NTLMSSP_MECH]:
        raise ValueError("not accept-incomplete with NTLMSSP")
    return t["ResponseToken"]


def spnego_selected(blob):
    """True for the acceptor's NegTokenResp that selects NTLMSSP and asks for
    its first token (RFC 4178 4.2.2): negState accept-incomplete,
    supportedMech NTLMSSP and nothing else. Compared as DER built here:
    impacket cannot parse a NegTokenResp without a responseToken."""
    def tlv(tag, content):  # every length here is under 128
        return bytes([tag, len(content)]) + content

    oid_ntlmssp = bytes.fromhex("2b06010401823702020a")  # 1.3.6.1.4.1.311.2.2.10
    return blob == tlv(0xA1, tlv(0x30, tlv(0xA0, tlv(0x0A, b"\x01")) + tlv(0xA1, tlv(0x06, oid_ntlmssp))))


def final_state(text):
    """The negState of the final token a pam_exec step printed."""
    from impacket.spnego import SPNEGO_NegTokenResp

    m = re.search(r"NTLM_FINAL_TOKEN=(\S+)", text)
    if m is None or m.group(1) == "none":
        return "missing"
    t = SPNEGO_NegTokenResp(base64.b64decode(m.group(1)))
    states = {b"\x00": "accept-completed", b"\x01": "accept-incomplete", b"\x02": "reject"}
    extra = [f for f in ("SupportedMech", "ResponseToken", "MechListMIC") if t.fields.get(f)]
    return states.get(t["NegState"], "other") + ("+" + "+".join(extra) if extra else "")


def kerberos_token(offer_ntlmssp=False):
    """A SPNEGO NegTokenInit offering Kerberos with an AP-REQ for
    HTTP/web.example.test@EXAMPLE.TEST (RFC 4120 5.5.1), as a browser sends
    it first; the ticket is never decrypted, so its cipher is filler."""
    from impacket.krb5 import constants
    from impacket.krb5.asn1 import AP_REQ, seq_set
    from impacket.krb5.types import Principal
    from impacket.spnego import SPNEGO_NegTokenInit, TypesMech
    from pyasn1.codec.der import encoder

    ap = AP_REQ()
    ap["pvno"] = 5
    ap["msg-type"] = int(constants.ApplicationTagNumbers.AP_REQ.value)
    ap["ap-options"] = constants.encodeFlags([])
    ap["ticket"]["tkt-vno"] = 5
    ap["ticket"]["realm"] = "EXAMPLE.TEST"
    name = Principal("HTTP/web.example.test", type=constants.PrincipalNameType.NT_SRV_INST.value)
    seq_set(ap["ticket"], "sname", name.components_to_asn1)
    ap["ticket"]["enc-part"]["etype"] = 18
    ap["ticket"]["enc-part"]["cipher"] = os.urandom(64)
    ap["authenticator"]["etype"] = 18
    ap["authenticator"]["cipher"] = os.urandom(32)
    t = SPNEGO_NegTokenInit()
    t["MechTypes"] = [TypesMech["MS KRB5 - Microsoft Kerberos 5"], TypesMech["KRB5 - Kerberos 5"]]
    if offer_ntlmssp:
        t["MechTypes"] += [TypesMech[NTLMSSP_MECH]]
    t["MechToken"] = encoder.encode(ap)
    return t.getData()


def exchange(args, argv):
    """Answers pamtester's NEGOTIATE prompt with a NEGOTIATE, reads the
    CHALLENGE from the next prompt and answers with the AUTHENTICATE."""
    ctx = ntlm_context(args.user, read_password(), args.cb, args.workstation)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = Output(proc)
    started = time.monotonic()
    result = "no NEGOTIATE prompt"
    wrap = spnego_resp if args.spnego else (lambda t: t)
    if out.wait_for(r"(NTLM NEGOTIATE|Password): ") is None:
        pass
    elif args.answer == "kerberos":
        send(proc, "Negotiate " + base64.b64encode(kerberos_token()).decode("ascii"))
        result = "answered"
    else:
        prefix = "Negotiate " if args.spnego else "NTLM " if args.prefix else ""
        neg = ctx.step()
        first = spnego_init(neg) if args.spnego else neg
        m = True
        if args.answer == "kerberos-ntlm":
            # a browser's first token: Kerberos, NTLMSSP listed too
            send(proc, "Negotiate " + base64.b64encode(kerberos_token(True)).decode("ascii"))
            m = out.wait_for(r"NTLM SPNEGO (\S+) NEGOTIATE: ")
            first = spnego_resp(neg)
            if m is None or not spnego_selected(base64.b64decode(m.group(1))):
                m = None
                result = "NTLMSSP not selected"
        if m is not None:
            send(proc, prefix + base64.b64encode(first).decode("ascii"))
            m = out.wait_for(r"NTLM CHALLENGE (\S+) AUTHENTICATE: ")
            if m is None:
                result = "no CHALLENGE prompt"
        if m is not None:
            blob = base64.b64decode(m.group(1))
            auth = wrap(ctx.step(spnego_challenge(blob) if args.spnego else blob))
            if args.answer == "garbage":
                auth_text = "this is not base64!"
            elif args.answer == "negotiate":
                auth_text = base64.b64encode(wrap(ctx_negotiate_again(args))).decode("ascii")
            else:
                auth_text = base64.b64encode(auth).decode("ascii")
            if args.stop_pid:
                import ntlmd_driver as nd  # tests/lib, on PYTHONPATH
                nd.freeze(args.stop_pid)
            started = time.monotonic()
            send(proc, auth_text)
            result = "answered"
    proc.stdin.close()
    rc = out.finish()
    elapsed = time.monotonic() - started
    if args.stop_pid:
        os.kill(args.stop_pid, signal.SIGCONT)
    print(f"result={result} status={rc} elapsed={elapsed:.2f}")
    if args.spnego:
        print(f"final={final_state(out.text)}")
    print(out.text)
    return 0


def ctx_negotiate_again(args):
    return ntlm_context(args.user, "unused").step()


# ---------------------------------------------------------------------------
# examples/pam-ntlm-server


def line_client(args, argv):
    """One exchange with the example server's line protocol: NEGOTIATE b64
    -> CHALLENGE b64 -> AUTHENTICATE b64 -> OK k=v... | FAIL ..."""
    ctx = ntlm_context(args.user, read_password(), args.cb)
    server = clients.LineProcess(argv, "pam-ntlm-server")
    try:
        reply = server.request("NEGOTIATE " + base64.b64encode(ctx.step()).decode("ascii"))
        if not reply.startswith("CHALLENGE "):
            print(reply)
            return 0
        chal = base64.b64decode(reply.split(" ", 1)[1])
        reply = server.request("AUTHENTICATE " + base64.b64encode(ctx.step(chal)).decode("ascii"))
        print(reply)
    except clients.ProtocolError as e:
        print(f"ERROR {e}")
    rc, err = server.close()
    print(f"exit={rc}")
    sys.stderr.write(err)
    return 0


# ---------------------------------------------------------------------------


def create(args):
    """CHANGE_PASSWORD with the CREATE tag (39), written from docs/PROTOCOL.md
    with the independent protocol client of the ntlmd tests."""
    import ntlmd_driver as nd  # tests/lib, on PYTHONPATH

    password = read_password()
    fields = [(nd.T_USER, args.user), (nd.T_NEW_PASSWORD, password), (39, bytes([args.value]))]
    if args.old:
        fields.append((nd.T_PASSWORD, password))
    try:
        print(nd.call(args.socket, nd.CHANGE_PASSWORD, fields).status)
    except nd.Closed:
        print("closed without a reply")
    return 0


def sync(args):
    """SYNC_PASSWORD (type 9, docs/PROTOCOL.md) with the independent protocol
    client of the ntlmd tests; prints the status name and, on success, what
    was stored (PASSWORD_STORED, tag 65)."""
    import ntlmd_driver as nd  # tests/lib, on PYTHONPATH

    fields = [(nd.T_USER, args.user), (nd.T_NEW_PASSWORD, read_password())]
    if args.create:
        fields.append((39, bytes([1])))
    try:
        r = nd.call(args.socket, 9, fields)
    except nd.Closed:
        print("closed without a reply")
        return 0
    stored = r.fields.get(T_PASSWORD_STORED)
    print(r.status + ("" if stored is None else f" stored={stored[0]}"))
    return 0


def serve(path, seconds, handle):
    """Listens on the UNIX socket PATH for SECONDS; handle(conn) for each
    connection (the handler closes it, or keeps it)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    s.settimeout(1.0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        handle(conn)
    return 0


def silent_socket(path):
    held = []
    return serve(path, 120, held.append)  # read nothing, answer nothing


def garbage_reply(conn):
    with conn:
        conn.settimeout(2.0)
        try:
            conn.recv(65536)
            # a reply header of type CHECK_PASSWORD | 0x8000 announcing
            # 100 bytes, then 3 bytes of a field and the end
            conn.sendall(b"NTD\x01" + struct.pack("<HHI", 0x8005, 0, 100) + b"\x01\x00\x04")
        except OSError:
            pass


def garbage_socket(path):
    return serve(path, 120, garbage_reply)


# ---------------------------------------------------------------------------
# A stand-in for ntlmd (docs/PROTOCOL.md), to see what the module sends and
# how it takes replies the real daemon does not give


FRAME_HEADER = struct.Struct("<3sBHHI")
FIELD_HEADER = struct.Struct("<HI")
REQUESTS = {5: "CHECK_PASSWORD", 6: "ACCOUNT_STATUS", 7: "CHANGE_PASSWORD", 9: "SYNC_PASSWORD"}
T_PASSWORD_STORED = 65
T_USER, T_PASSWORD, T_CREATE, T_EXACT_NAME, T_AUTH_USER, T_ACCOUNT_NAME = 30, 36, 39, 41, 50, 63
STATUSES = {"STATUS_SUCCESS": 0, "STATUS_NO_SUCH_USER": 0xC0000064, "STATUS_WRONG_PASSWORD": 0xC000006A}


def recv_all(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def fake_fields(payload):
    fields, pos = {}, 0
    while pos + FIELD_HEADER.size <= len(payload):
        tag, n = FIELD_HEADER.unpack_from(payload, pos)
        pos += FIELD_HEADER.size
        fields[tag] = payload[pos : pos + n]
        pos += n
    return fields


def fake_reply(rtype, fields, fold):
    user = fields.get(T_USER, b"").decode("utf-8", "replace")
    if user.startswith("nosuch"):
        status = "STATUS_NO_SUCH_USER"
    elif rtype == 5 and fields.get(T_PASSWORD) == b"Wrongpw1!":
        status = "STATUS_WRONG_PASSWORD"
    else:
        status = "STATUS_SUCCESS"
    out = [(1, struct.pack("<I", STATUSES[status])), (2, status.encode()), (3, b"fake ntlmd")]
    if status == "STATUS_SUCCESS" and rtype == 9:
        out.append((T_PASSWORD_STORED, b"\x01"))  # updated
    if status == "STATUS_SUCCESS":
        out.append((T_AUTH_USER, f"{DOMAIN}\\{user.lower() if fold else user}".encode("utf-8")))
        if fold:
            out.append((T_ACCOUNT_NAME, user.lower().encode("utf-8")))
    payload = b"".join(FIELD_HEADER.pack(t, len(v)) + v for t, v in out)
    return FRAME_HEADER.pack(b"NTD", 1, rtype | 0x8000, 0, len(payload)) + payload


def fake_ntlmd(path, log, fold):
    def answer(conn):
        with conn:
            conn.settimeout(5.0)
            try:
                while True:  # requests one at a time until the client closes
                    _, _, rtype, _, n = FRAME_HEADER.unpack(recv_all(conn, FRAME_HEADER.size))
                    fields = fake_fields(recv_all(conn, n))
                    if rtype not in REQUESTS:
                        break
                    exact = fields.get(T_EXACT_NAME)
                    create = fields.get(T_CREATE)
                    with open(log, "a") as f:
                        f.write(f"{REQUESTS[rtype]} user={fields.get(T_USER, b'').decode('utf-8', 'replace')}"
                                f" exact={exact[0] if exact else '-'} create={create[0] if create else '-'}\n")
                    conn.sendall(fake_reply(rtype, fields, fold))
            except (EOFError, OSError, struct.error):
                pass

    return serve(path, 300, answer)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("write-hashes").add_argument("file")
    h = sub.add_parser("hash-is")
    h.add_argument("file")
    h.add_argument("user")
    v = sub.add_parser("verify-input")
    v.add_argument("user")
    v.add_argument("--spnego", action="store_true")
    v.add_argument("--workstation", default=WORKSTATION)
    for name in ("exchange", "line-client"):
        e = sub.add_parser(name)
        e.add_argument("--user", required=True)
        e.add_argument("--cb")
        e.add_argument("--stop-pid", type=int)
        e.add_argument("--prefix", action="store_true")
        e.add_argument("--spnego", action="store_true")
        e.add_argument("--workstation", default=WORKSTATION)
        e.add_argument("--answer", choices=["good", "garbage", "negotiate", "kerberos", "kerberos-ntlm"], default="good")
        e.add_argument("argv", nargs="+")
    c = sub.add_parser("create")
    c.add_argument("socket")
    c.add_argument("user")
    c.add_argument("--value", type=int, default=1)
    c.add_argument("--old", action="store_true")
    y = sub.add_parser("sync")
    y.add_argument("socket")
    y.add_argument("user")
    y.add_argument("--create", action="store_true")
    sub.add_parser("silent-socket").add_argument("path")
    sub.add_parser("garbage-socket").add_argument("path")
    f = sub.add_parser("fake-ntlmd")
    f.add_argument("path")
    f.add_argument("log")
    f.add_argument("--fold", action="store_true")
    args = p.parse_args()
    if args.cmd == "write-hashes":
        write_hashes(args.file)
        return 0
    if args.cmd == "hash-is":
        return hash_is(args.file, args.user)
    if args.cmd == "verify-input":
        return verify_input(args.user, args.spnego, args.workstation)
    if args.cmd == "exchange":
        return exchange(args, args.argv)
    if args.cmd == "line-client":
        return line_client(args, args.argv)
    if args.cmd == "create":
        return create(args)
    if args.cmd == "sync":
        return sync(args)
    if args.cmd == "garbage-socket":
        return garbage_socket(args.path)
    if args.cmd == "fake-ntlmd":
        return fake_ntlmd(args.path, args.log, args.fold)
    return silent_socket(args.path)


if __name__ == "__main__":
    sys.exit(main())
