#!/usr/bin/python3
"""Real-client matrix (issue 14): each NTLM client of Debian 12 and npm logs
on to HTTP servers of ours, and where it can to the same server over Samba's
ntlm_auth, and the verdicts are printed side by side.

    matrix.py write-hashes FILE
    matrix.py run --work DIR --acceptor PATH --ntlm-auth PATH --ntlmd-socket PATH
        [--samba-pid PID --samba-conf FILE] [--node-modules DIR] [--only CLIENT,...]

Servers (started here, on 127.0.0.1, ports of their own):
  ours      examples/ntlm-http-origin.py over the project's ntlm_auth
            (squid-2.5-ntlmssp, as Apache's mod_auth_ntlm_winbind) and a real
            ntlmd: ntlmd.conf service "matrix" (ntlmv2-only) or, for clients
            that make NTLMv1 responses only, "legacy" (ntlmv1-permitted)
  samba     the same origin server over Samba's ntlm_auth and a private
            winbindd (bench/lib-samba.sh; "ntlm auth = yes")
  verify    tests/interop/http_ntlm_server.py over ntlm-test-acceptor (verify
            mode: the CHALLENGE is ours to build): a default CHALLENGE, one
            without TargetInfo (--no-target-info) and one whose TargetInfo has
            no MsvAvTimestamp (--no-timestamp)

Cases, for each client (verify cases with NTLMv1 allowed for NTLMv1 clients):
  good, wrong-password, non-ascii      ours and samba
  verify, no-target-info, no-timestamp verify mode, right password
  no-target-info-wrong, no-timestamp-wrong   verify mode, wrong password

One line per client and case:
  MATRIX <client> <case> ours=<verdict>/<HTTP status> samba=<verdict>/<HTTP status | n/a: reason>
then PASS or FAIL with what was expected, NOTE lines for the expected
refusals of a client that cannot send something, and "N passed, M failed".
A right password must be accepted (AF, or OK from the acceptor), a wrong
one refused with STATUS_WRONG_PASSWORD (NA NT_STATUS_WRONG_PASSWORD from
the helpers, FAIL STATUS_WRONG_PASSWORD from the acceptor).

The accounts are throwaway values that exist only in the files this test
writes. Passwords reach every client on its stdin or in a file of the work
directory (wget's netrc), never on a command line or in the environment.
"""

import argparse
import base64
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clients  # noqa: E402  (nt_hash, write_hashes's account format)

DOMAIN = "TESTDOM"
ALICE_PASSWORD = clients.ACCOUNTS["alice"].password
# a non-ASCII user and password, all in Latin-1 (the 8-bit text every client
# of the matrix can at least try)
UMLAUT_USER = "jürgen"
UMLAUT_PASSWORD = "Pässwörd-1"
MATRIX_WRONG_PASSWORD = "Wrong-Pass2"
USERS = {"alice": (1000, ALICE_PASSWORD), UMLAUT_USER: (1002, UMLAUT_PASSWORD)}

CLIENT_TIMEOUT = 40.0  # seconds for one client run (Chromium starts slowly)
SRC_TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
ORIGIN = os.path.join(SRC_TOP, "examples", "ntlm-http-origin.py")
VERIFY_SERVER = os.path.join(HERE, "http_ntlm_server.py")
CLIENT_DIR = os.path.join(HERE, "matrix")
PY = "/usr/bin/python3"


def write_hashes(path):
    """The matrix accounts as an smbpasswd file (no LM hash), mode 0600."""
    now = int(time.time())
    lines = [
        f"{user}:{uid}:{'X' * 32}:{clients.nt_hash(pw).hex().upper()}:[U          ]:LCT-{now:08X}:\n"
        for user, (uid, pw) in USERS.items()
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.writelines(lines)


# ---------------------------------------------------------------------------
# Servers


class Server:
    """An HTTP server process whose stdout lines carry the verdicts."""

    def __init__(self, name, argv, work, prefix):
        self.name = name
        self.prefix = prefix  # "AUTH " or "VERDICT "
        self.out_path = os.path.join(work, f"server-{name}.out")
        self.err_path = os.path.join(work, f"server-{name}.err")
        port_file = os.path.join(work, f"server-{name}.port")
        argv = [a.replace("@PORTFILE@", port_file) for a in argv]
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server {name} did not start: {self.err_text()}")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = f"http://127.0.0.1:{self.port}/"

    def err_text(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def mark(self):
        with open(self.out_path, "rb") as f:
            return len(f.read())

    def verdict_since(self, mark):
        """The last verdict written after mark, or None."""
        with open(self.out_path, "rb") as f:
            text = f.read()[mark:].decode("utf-8", "replace")
        found = None
        for line in text.splitlines():
            if line.startswith(self.prefix):
                found = line[len(self.prefix) :]
        return found

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Servers:
    def __init__(self, args):
        self.args = args
        self.started = {}

    def helper_argv(self, kind):
        if kind == "samba":
            return [
                "nsenter", "-t", self.args.samba_pid, "-m", "--",
                "/usr/bin/ntlm_auth", f"--configfile={self.args.samba_conf}", "--helper-protocol=squid-2.5-ntlmssp",
            ]  # fmt: skip
        service = "legacy" if kind == "ours-v1" else "matrix"
        return [
            self.args.ntlm_auth, "--ntlmd-socket", self.args.ntlmd_socket,
            "--helper-protocol=squid-2.5-ntlmssp", f"--service={service}",
        ]  # fmt: skip

    def get(self, kind, options=()):
        key = (kind,) + tuple(options)
        if key not in self.started:
            name = "-".join(x.strip("-") for x in key)
            if kind == "verify":
                argv = [
                    PY, "-B", VERIFY_SERVER, "--acceptor", self.args.acceptor,
                    "--hashes", self.args.hashes, "--port-file", "@PORTFILE@",
                    "--time-limit", "900", "--max-requests", "100000", "--close-unless-challenge",
                    "--", *options,
                ]  # fmt: skip
                self.started[key] = Server(name, argv, self.args.work, "VERDICT ")
            else:
                argv = [PY, "-B", ORIGIN, "--port-file", "@PORTFILE@", "--", *self.helper_argv(kind)]
                self.started[key] = Server(name, argv, self.args.work, "AUTH 127.0.0.1 ")
        return self.started[key]

    def stop_all(self):
        problems = []
        for server in self.started.values():
            rc = server.stop()
            if server.prefix == "VERDICT " and rc != 0:
                problems.append(f"server {server.name} exited with {rc}: {server.err_text().strip()}")
        return problems


# ---------------------------------------------------------------------------
# Clients. Each run(url, user, domain, password) returns the final HTTP
# status (an int) or a string saying what went wrong.


def run_process(argv, password, env=None):
    try:
        p = subprocess.run(
            argv,
            input=(password + "\n").encode("utf-8"),
            capture_output=True,
            timeout=CLIENT_TIMEOUT,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return None, "timed out"
    return p, None


def http_client(argv_prefix, env=None):
    """A client program that does the HTTP itself: ARGV URL USER DOMAIN, the
    password on stdin, the final status as its last line of stdout."""

    def run(url, user, domain, password):
        p, err = run_process(argv_prefix + [url, user, domain], password, env)
        if err:
            return err
        lines = p.stdout.decode("utf-8", "replace").strip().splitlines()
        if p.returncode != 0 or not lines or not lines[-1].isdigit():
            tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or lines[-1:]
            return f"client exited {p.returncode}: {' '.join(tail)[:200]}"
        return int(lines[-1])

    return run


def token_client(argv_prefix, env=None):
    """A client library driven by a small program: ARGV USER DOMAIN, the
    password as stdin's first line, then NEGOTIATE out, CHALLENGE in,
    AUTHENTICATE out (base64 lines). The HTTP is done here, on one
    keep-alive connection."""

    def run(url, user, domain, password):
        u = urllib.parse.urlsplit(url)
        proc = subprocess.Popen(
            argv_prefix + [user, domain],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            proc.stdin.write((password + "\n").encode("utf-8"))
            proc.stdin.flush()
            negotiate = proc.stdout.readline().decode().strip()
            if not negotiate:
                return f"client made no NEGOTIATE: {proc.stderr.read().decode('utf-8', 'replace').strip()[:200]}"
            conn.request("GET", u.path or "/", headers={"Authorization": "NTLM " + negotiate})
            r = conn.getresponse()
            r.read()
            scheme, _, challenge = (r.getheader("WWW-Authenticate") or "").partition(" ")
            if r.status != 401 or scheme != "NTLM" or not challenge:
                return r.status
            proc.stdin.write(challenge.encode() + b"\n")
            proc.stdin.flush()
            authenticate = proc.stdout.readline().decode().strip()
            if not authenticate:
                return f"client made no AUTHENTICATE: {proc.stderr.read().decode('utf-8', 'replace').strip()[:200]}"
            conn.request("GET", u.path or "/", headers={"Authorization": "NTLM " + authenticate})
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    return run


def wget_client(work):
    """GNU wget: the credentials in $HOME/.netrc, a home of its own."""
    home = os.path.join(work, "wget-home")
    os.makedirs(home, exist_ok=True)
    netrc = os.path.join(home, ".netrc")
    env = dict(os.environ, HOME=home)

    def run(url, user, domain, password):
        # wget's netrc reader takes a backslash as an escape
        login = f"{domain}\\\\{user}" if domain else user
        fd = os.open(netrc, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"machine 127.0.0.1 login {login} password {password}\n")
        try:
            p = subprocess.run(
                ["wget", "--server-response", "--tries=1", "--timeout=10", "-O", "/dev/null", url],
                capture_output=True,
                timeout=CLIENT_TIMEOUT,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return "timed out"
        finally:
            os.unlink(netrc)
        codes = [
            int(w[1])
            for w in (line.split() for line in p.stderr.decode("utf-8", "replace").splitlines())
            if len(w) >= 2 and w[0].startswith("HTTP/") and w[1].isdigit()
        ]
        return codes[-1] if codes else f"wget exited {p.returncode} with no HTTP answer"

    return run


# ---------------------------------------------------------------------------
# The matrix


ACCEPT, WRONG, CANNOT = "accept", "wrong", "cannot"


class MatrixCase:
    def __init__(self, name, server, options, user, password, want, samba):
        self.name = name
        self.server = server  # "ours" or "verify"
        self.options = options  # acceptor options in verify mode
        self.user = user
        self.password = password
        self.want = want
        self.samba = samba  # True, or the reason it is n/a


SAMBA_NA_VERIFY = "n/a: Samba builds its own CHALLENGE (always with TargetInfo and MsvAvTimestamp)"
CASES = [
    MatrixCase("good", "ours", [], "alice", ALICE_PASSWORD, ACCEPT, True),
    MatrixCase("wrong-password", "ours", [], "alice", MATRIX_WRONG_PASSWORD, WRONG, True),
    MatrixCase("non-ascii", "ours", [], UMLAUT_USER, UMLAUT_PASSWORD, ACCEPT, True),
    MatrixCase("verify", "verify", [], "alice", ALICE_PASSWORD, ACCEPT, SAMBA_NA_VERIFY),
    MatrixCase("no-target-info", "verify", ["--no-target-info"], "alice", ALICE_PASSWORD, ACCEPT, SAMBA_NA_VERIFY),
    MatrixCase(
        "no-target-info-wrong",
        "verify",
        ["--no-target-info"],
        "alice",
        MATRIX_WRONG_PASSWORD,
        WRONG,
        SAMBA_NA_VERIFY,
    ),
    MatrixCase("no-timestamp", "verify", ["--no-timestamp"], "alice", ALICE_PASSWORD, ACCEPT, SAMBA_NA_VERIFY),
    MatrixCase(
        "no-timestamp-wrong", "verify", ["--no-timestamp"], "alice", MATRIX_WRONG_PASSWORD, WRONG, SAMBA_NA_VERIFY
    ),
]


class Client:
    def __init__(self, name, run, v1=False, expect=None, needs=None, verify_options=()):
        self.name = name
        self.run = run
        self.v1 = v1  # makes NTLMv1 responses only: NTLMv1 permitted on our side
        self.verify_options = list(verify_options)  # more acceptor options in verify mode
        # case -> (ours regex-free expectation, samba expectation, note): what
        # a client that cannot send something gets instead
        self.expect = expect or {}
        self.needs = needs  # None, or the reason the client cannot run here


def short(verdict, status):
    """'AF TESTDOM\\alice' -> 'AF:TESTDOM\\alice'; 'OK user=.. type=NTLMv2 ..' -> 'OK:NTLMv2'."""
    if verdict is None:
        v = "no-verdict"
    else:
        words = verdict.split(" ")
        if words[0] in ("OK", "FAIL"):
            kind, _status, fields = clients.parse_reply(verdict)
            v = f"{kind}:{_status}" if kind == "FAIL" else kind
            if fields.get("type"):
                v += f":{fields['type']}"
        else:
            v = ":".join(w for w in words[:2] if w and "=" not in w)
            for w in words:
                if w.startswith("ntlmd="):
                    v += f"({w})"
    return f"{v}/{status}"


def judge(want, verdict, status):
    """Problems of one cell against ACCEPT, WRONG or CANNOT. Our helper's
    verdicts carry ntlmd's status (" ntlmd=STATUS_..."); Samba's answer
    NA NT_STATUS_LOGON_FAILURE is its squashed WRONG_PASSWORD."""
    v = verdict or ""
    ntlmd = v.split(" ntlmd=")[1] if " ntlmd=" in v else None
    if want == CANNOT:
        ok = verdict is None and isinstance(status, str)
        return [] if ok else ["wanted the client to fail before any verdict"]
    if isinstance(want, tuple):  # ("refused", our status) or ("na", Samba's answer)
        kind, name = want
        if kind == "na":
            ok = v == f"NA {name}"
        else:
            ok = ntlmd == name if ntlmd else v.startswith(f"FAIL {name} ")
        ok = ok and status == 401
        return [] if ok else [f"wanted refused with {name} (HTTP 401)"]
    if want == ACCEPT:
        ok = (v.startswith("AF ") or v.startswith("OK ")) and status == 200
        ok = ok and ntlmd in (None, "STATUS_SUCCESS")
        return [] if ok else ["wanted accepted (AF or OK, HTTP 200)"]
    if v.startswith("NA "):
        ok = v.split(" ")[1] == "NT_STATUS_LOGON_FAILURE" and ntlmd in (None, "STATUS_WRONG_PASSWORD")
    else:
        ok = v.startswith("FAIL STATUS_WRONG_PASSWORD ")
    ok = ok and status == 401
    return [] if ok else ["wanted refused with STATUS_WRONG_PASSWORD (HTTP 401)"]


class NtlmdLog:
    """ntlmd's audit records (its stderr under -d): the status behind our
    helper's answer, which squid-2.5-ntlmssp squashes as Samba's does
    (NO_SUCH_USER and WRONG_PASSWORD -> NA NT_STATUS_LOGON_FAILURE)."""

    def __init__(self, path):
        self.path = path

    def mark(self):
        return os.path.getsize(self.path)

    def status_since(self, mark):
        with open(self.path, "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
        found = None
        for line in text.splitlines():
            words = line.split(" ")
            if "VERIFY" in words:
                for w in words:
                    if w.startswith("status="):
                        found = w[len("status=") :]
        return found


def one_exchange(client, server, case, ntlmd_log=None):
    mark = server.mark()
    log_mark = ntlmd_log.mark() if ntlmd_log else 0
    try:
        status = client.run(server.url, case.user, DOMAIN, case.password)
    except Exception as e:  # a client that raised
        status = f"{type(e).__name__}: {e}"
    time.sleep(0.05)  # the server's verdict line is written before its answer
    verdict = server.verdict_since(mark)
    if ntlmd_log and verdict is not None:
        verdict += f" ntlmd={ntlmd_log.status_since(log_mark)}"
    return verdict, status


def run_matrix(args, client_list):
    servers = Servers(args)
    passed = failed = 0
    have_samba = bool(args.samba_pid)
    ntlmd_log = NtlmdLog(args.ntlmd_log)
    try:
        for client in client_list:
            if client.needs:
                for case in CASES:
                    print(f"MATRIX {client.name} {case.name} ours=not-run: {client.needs} samba=not-run", flush=True)
                print(f"FAIL {client.name}: not run: {client.needs}", flush=True)
                failed += 1
                continue
            for case in CASES:
                if case.server == "ours":
                    ours_server = servers.get("ours-v1" if client.v1 else "ours-v2")
                else:
                    options = list(case.options)
                    if client.v1:
                        options += ["--allow-ntlmv1", "--allow-ess"]
                    options += client.verify_options
                    ours_server = servers.get("verify", options)
                ours_v, ours_s = one_exchange(client, ours_server, case, ntlmd_log if case.server == "ours" else None)
                samba_text = case.samba if case.samba is not True else None
                samba_v = samba_s = None
                if case.samba is True:
                    if have_samba:
                        samba_v, samba_s = one_exchange(client, servers.get("samba"), case)
                        samba_text = short(samba_v, samba_s)
                    else:
                        samba_text = "n/a: no private winbindd (needs root, winbind and Samba's ntlm_auth)"
                print(
                    f"MATRIX {client.name} {case.name} ours={short(ours_v, ours_s)} samba={samba_text}",
                    flush=True,
                )
                want_ours, want_samba, note = client.expect.get(case.name, (case.want, case.want, None))
                problems = [f"ours: {p}" for p in judge(want_ours, ours_v, ours_s)]
                if case.samba is True and have_samba:
                    problems += [f"samba: {p}" for p in judge(want_samba, samba_v, samba_s)]
                if isinstance(ours_s, str) and want_ours != CANNOT:
                    problems.append(f"client: {ours_s}")
                if note:
                    print(f"NOTE {client.name} {case.name}: {note}", flush=True)
                label = f"{client.name} {case.name}"
                if problems:
                    failed += 1
                    print(f"FAIL {label}: {'; '.join(problems)}", flush=True)
                else:
                    passed += 1
                    print(f"PASS {label}", flush=True)
    finally:
        for p in servers.stop_all():
            print(f"FAIL {p}", flush=True)
            failed += 1
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


PY_NTLM_AUTH_OEM = (
    "python3-ntlm-auth 1.4 (under requests-ntlm) cannot send a non-ASCII user name: its NEGOTIATE "
    "offers OEM only, and it encodes OEM names as ASCII (UnicodeEncodeError before any AUTHENTICATE)"
)


def build_clients(args):
    work = args.work
    out = []
    # GNU wget: NTLMv1 only (LM and NT responses); its netrc text is sent
    # as is, and its NT hash is made from the password's bytes, each
    # widened to 16 bits: a non-ASCII password gives a wrong hash.
    wget_nonascii = (
        WRONG,
        WRONG,
        "wget cannot send a non-ASCII password: it hashes each byte of the UTF-8 "
        "text as one character (ours and Samba refuse alike)",
    )
    out.append(
        Client(
            "wget",
            wget_client(work),
            v1=True,
            expect={"non-ascii": wget_nonascii},
            needs=None if shutil.which("wget") else "wget is missing",
        )
    )
    out.append(
        Client(
            "requests-ntlm",
            http_client([PY, "-B", os.path.join(CLIENT_DIR, "requests-client.py")]),
            expect={"non-ascii": (CANNOT, CANNOT, PY_NTLM_AUTH_OEM)},
        )
    )
    perl = os.path.join(CLIENT_DIR, "perl-client.pl")
    out.append(Client("perl-authen-ntlm", token_client(["perl", perl, "1"]), v1=True))
    # Authen::NTLM's NTLMv2 mode sets NEGOTIATE_UNICODE but sends the domain
    # as 8-bit text (7 bytes for TESTDOM): an odd-length UTF-16 string, which
    # MS-NLMP 2.2.1.3 does not allow; Samba refuses it too
    perl_v2_bad = (
        ("refused", "STATUS_NTLM_BAD_STRING"),
        ("na", "NT_STATUS_INVALID_PARAMETER"),
        "Authen::NTLM 1.09 in NTLMv2 mode sends its domain as 8-bit text under NEGOTIATE_UNICODE "
        "(an odd-length UTF-16 field): malformed, refused by Samba too",
    )
    out.append(
        Client(
            "perl-authen-ntlm-v2",
            token_client(["perl", perl, "2"]),
            expect={c.name: perl_v2_bad for c in CASES},
        )
    )
    ruby_upcase = (
        CANNOT,
        CANNOT,
        "rubyntlm 0.6.3 cannot send a non-ASCII user name: its NTLMv2 hash upcases the name after "
        "encoding it to UTF-16LE, as UTF-8 text (ArgumentError before any AUTHENTICATE)",
    )
    out.append(
        Client(
            "ruby-ntlm",
            token_client(["ruby", os.path.join(CLIENT_DIR, "ruby-client.rb")]),
            expect={"non-ascii": ruby_upcase},
        )
    )
    libntlm = os.path.join(work, "libntlm-client")
    naive_utf16 = (
        ("refused", "STATUS_NO_SUCH_USER"),
        ("na", "NT_STATUS_LOGON_FAILURE"),
        "{} cannot send a non-ASCII user name: it widens each byte of the UTF-8 text to 16 bits "
        "(the name arrives as mojibake; Samba refuses alike)",
    )

    def cannot_utf16(what):
        return (naive_utf16[0], naive_utf16[1], naive_utf16[2].format(what))

    out.append(
        Client(
            "libntlm",
            token_client([libntlm]),
            v1=True,
            needs=build_c(libntlm),
            expect={"non-ascii": cannot_utf16("GNU libntlm 1.6")},
        )
    )
    out.append(Client("gss-ntlmssp", token_client([PY, "-B", os.path.join(CLIENT_DIR, "gss-client.py")])))
    goc = os.path.join(work, "go-client")
    out.append(Client("go-ntlmssp", token_client([goc]), needs=build_go(args, goc)))
    if args.node_modules and os.path.isdir(args.node_modules):
        env = dict(os.environ, NODE_PATH=args.node_modules)
        node_needs = None
    else:
        env, node_needs = None, "the npm clients are not installed (scripts/install-npm-clients.sh)"
    # httpntlm answers a CHALLENGE without TargetInfo with NTLMv1-ESS
    # (NTLM2 session response): verify mode allows ESS for it
    out.append(
        Client(
            "httpntlm",
            http_client(["node", os.path.join(CLIENT_DIR, "httpntlm-client.js")], env),
            needs=node_needs,
            verify_options=["--allow-ess"],
        )
    )
    axios_no_ti = (
        CANNOT,
        CANNOT,
        "axios-ntlm 1.4.6 cannot answer a CHALLENGE without TargetInfo: it reads the absent "
        "TargetInfo's buffer and throws (TypeError) before any AUTHENTICATE",
    )
    out.append(
        Client(
            "axios-ntlm",
            http_client(["node", os.path.join(CLIENT_DIR, "axios-ntlm-client.js")], env),
            needs=node_needs,
            expect={
                "non-ascii": cannot_utf16("axios-ntlm 1.4.6"),
                "no-target-info": axios_no_ti,
                "no-target-info-wrong": axios_no_ti,
            },
        )
    )
    classes = os.path.join(work, "java")
    out.append(
        Client("openjdk", http_client(["java", "-cp", classes, "JavaNtlmClient"]), needs=build_java(classes))
    )
    out.append(
        Client(
            "chromium",
            http_client([PY, "-B", os.path.join(CLIENT_DIR, "chromium-client.py")]),
            needs=None if os.access("/usr/bin/chromium", os.X_OK) else "/usr/bin/chromium is missing",
        )
    )
    if args.only:
        names = args.only.split(",")
        out = [c for c in out if c.name in names]
    return out


def build_c(path):
    src = os.path.join(CLIENT_DIR, "libntlm-client.c")
    try:
        flags = subprocess.run(
            ["pkg-config", "--cflags", "--libs", "libntlm"], capture_output=True, text=True, check=True
        ).stdout.split()
        subprocess.run(["cc", "-O1", "-o", path, src] + flags, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        return f"cannot build the libntlm client (libntlm0-dev): {e}"
    return None


def build_go(args, path):
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="", GOCACHE=args.go_cache)
    try:
        subprocess.run(
            ["go", "build", "-o", path, os.path.join(CLIENT_DIR, "go-client.go")],
            capture_output=True,
            check=True,
            env=env,
            timeout=120,
        )
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        return f"cannot build the go-ntlmssp client (golang-go, golang-github-azure-go-ntlmssp-dev): {e}"
    return None


def build_java(classes):
    try:
        subprocess.run(
            ["javac", "-d", classes, os.path.join(CLIENT_DIR, "JavaNtlmClient.java")], capture_output=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as e:
        return f"cannot build the Java client (default-jdk-headless): {e}"
    return None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("write-hashes")
    p.add_argument("file")
    sub.add_parser("users", help="print the account names")
    p = sub.add_parser("uid", help="print an account's uid")
    p.add_argument("user")
    p = sub.add_parser("password", help="print an account's password, or write it to a new 0600 file")
    p.add_argument("user")
    p.add_argument("--twice", action="store_true", help="two lines, as pdbedit -t reads")
    p.add_argument("--file")
    p = sub.add_parser("run")
    p.add_argument("--work", required=True)
    p.add_argument("--acceptor", required=True)
    p.add_argument("--hashes", required=True)
    p.add_argument("--ntlm-auth", required=True)
    p.add_argument("--ntlmd-socket", required=True)
    p.add_argument("--ntlmd-log", required=True)
    p.add_argument("--samba-pid", default="")
    p.add_argument("--samba-conf", default="")
    p.add_argument("--node-modules", default="")
    p.add_argument("--go-cache", default="")
    p.add_argument("--only", default="")
    args = parser.parse_args()
    if args.command == "write-hashes":
        write_hashes(args.file)
        return 0
    if args.command == "users":
        print(" ".join(USERS))
        return 0
    if args.command == "uid":
        print(USERS[args.user][0])
        return 0
    if args.command == "password":
        text = USERS[args.user][1] + "\n"
        text = text * 2 if args.twice else text
        if not args.file:
            sys.stdout.write(text)
            return 0
        fd = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return 0
    if not args.go_cache:
        args.go_cache = os.path.join(args.work, "gocache")
    return run_matrix(args, build_clients(args))


if __name__ == "__main__":
    sys.exit(main())
