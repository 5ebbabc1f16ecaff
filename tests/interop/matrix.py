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
  verify-tls  the same over HTTPS (https://localhost:PORT), with a throwaway
            self-signed EC certificate made here by openssl: the acceptor
            requires channel bindings (--cb required) and is given the
            certificate's RFC 5929 tls-server-end-point binding (SHA-256 of
            the DER certificate), or another certificate's to prove the check
            is real, and the SPN HTTP/localhost:PORT (--target-name)

  squid     for the proxy clients (cntlm, Chromium): a real Squid whose
            auth_param ntlm runs the project's ntlm_auth with the options of the shipped
            etc/squid/ntlm_auth.conf (service "matrix", or "legacy" for NTLMv1),
            or Samba's ntlm_auth with Squid in the private winbindd's mount
            namespace; the helper's replies are copied to a log by
            matrix/helper-tee.py. In verify mode http_ntlm_server.py answers
            as a proxy (--proxy: 407, Proxy-Authenticate).

Cases, for each client (verify cases with NTLMv1 allowed for NTLMv1 clients):
  good, wrong-password, non-ascii      ours and samba
  verify, no-target-info, no-timestamp verify mode, right password
  no-target-info-wrong, no-timestamp-wrong   verify mode, wrong password
Clients with cases of their own: chromium-https (HTTPS_CASES: verify-tls
only) and chromium-proxy (PROXY_CASES: Squid and verify mode as a proxy).

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
SQUID = "/usr/sbin/squid"
# the shipped Squid example as make install installs it (the build tree's
# etc/, generated from etc/*.in: make check sets SHIPPED_DIR)
SHIPPED_SQUID_CONF = os.path.join(os.environ.get("SHIPPED_DIR", os.path.join(SRC_TOP, "etc")), "squid", "ntlm_auth.conf")
HELPER_TEE = os.path.join(CLIENT_DIR, "helper-tee.py")


class TlsCert:
    """A throwaway self-signed certificate (ECDSA P-256, signed with
    SHA-256) for localhost, made with openssl in the work directory: its
    files, the base64 SHA-256 of its public key (what Chromium's
    --ignore-certificate-errors-spki-list takes) and its RFC 5929
    tls-server-end-point channel binding as hex (the application data of
    the gss_channel_bindings_struct whose MD5 an NTLMv2 client sends): the
    certificate's signature hash, SHA-256, of its DER encoding."""

    made = {}

    @classmethod
    def get(cls, work, name):
        if name not in cls.made:
            cls.made[name] = cls(work, name)
        return cls.made[name]

    def __init__(self, work, name):
        import hashlib

        d = os.path.join(work, f"tls-{name}")
        os.makedirs(d, mode=0o700, exist_ok=True)
        self.cert = os.path.join(d, "cert.pem")
        self.key = os.path.join(d, "key.pem")
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-sha256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost", "-keyout", self.key, "-out", self.cert,
            ],
            capture_output=True, check=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", self.cert, "-outform", "DER"], capture_output=True, check=True
        ).stdout
        pub = subprocess.run(
            ["openssl", "x509", "-in", self.cert, "-noout", "-pubkey"], capture_output=True, check=True
        ).stdout
        spki = subprocess.run(
            ["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True, check=True
        ).stdout
        self.spki_sha256 = base64.b64encode(hashlib.sha256(spki).digest()).decode()
        self.binding = (b"tls-server-end-point:" + hashlib.sha256(der).digest()).hex()


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
        # what a proxy client fetches through this server in verify mode
        # (it answers every request itself): port 80, not one of Chromium's
        # unsafe ports; nothing there is ever connected to
        self.origin_url = "http://127.0.0.1/"

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


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, seconds=20):
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} does not listen on port {port}")


ORIGIN_CODE = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from the origin\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def shipped_squid_ntlm():
    """The helper options and key_extras of the shipped Squid example's
    auth_param ntlm lines (what tests/ntlm_auth/test-squid.sh checks)."""
    options, extras = None, None
    with open(SHIPPED_SQUID_CONF) as f:
        for line in f:
            words = line.split()
            if words[:3] == ["auth_param", "ntlm", "program"]:
                options = [w for w in words[4:] if not w.startswith("--helper-protocol=")]
                protocols = [w for w in words[4:] if w.startswith("--helper-protocol=")]
                options = protocols + options
            elif words[:3] == ["auth_param", "ntlm", "key_extras"]:
                extras = line.strip()
    if options is None or extras is None:
        raise RuntimeError(f"no auth_param ntlm program / key_extras line in {SHIPPED_SQUID_CONF}")
    return options, extras


class SquidServer:
    """A real Squid (cache_effective_user proxy) with NTLM through a helper
    whose replies helper-tee.py copies to its log; url is the proxy's."""

    prefix = "VERDICT "

    def __init__(self, name, helper, work, origin_port, namespace_pid=None):
        self.name = name
        d = os.path.join(work, f"squid-{name}")
        os.makedirs(d, exist_ok=True)
        shutil.chown(d, "proxy")
        self.out_path = os.path.join(d, "verdicts.log")
        with open(self.out_path, "wb"):
            pass
        shutil.chown(self.out_path, "proxy")
        self.err_path = os.path.join(d, "cache.log")
        self.port = free_port()
        _options, extras = shipped_squid_ntlm()
        conf = os.path.join(d, "squid.conf")
        with open(conf, "w") as f:
            f.write(
                f"http_port 127.0.0.1:{self.port}\n"
                f"pid_filename {d}/squid.pid\ncache_log {d}/cache.log\naccess_log stdio:{d}/access.log\n"
                f"cache_store_log none\ncoredump_dir {d}\ncache deny all\ncache_effective_user proxy\n"
                "shutdown_lifetime 0 seconds\ndns_nameservers 127.0.0.1\n"
                f"auth_param ntlm program {PY} -B {HELPER_TEE} {self.out_path} -- {' '.join(helper)}\n"
                "auth_param ntlm children 2 startup=1 idle=1\n"
                f"{extras}\n"
                "acl localnet src 127.0.0.1\nacl authed proxy_auth REQUIRED\n"
                "http_access deny !localnet\nhttp_access allow authed\nhttp_access deny all\n"
            )
        argv = [SQUID, "-N", "-f", conf]
        if namespace_pid:
            argv = ["nsenter", "-t", namespace_pid, "-m", "--"] + argv
        with open(os.path.join(d, "stdout.log"), "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_port(self.port, self.proc, f"squid {name}")
        except RuntimeError as e:
            raise RuntimeError(f"{e}: {self.err_text()[-2000:]}") from None
        self.url = f"http://127.0.0.1:{self.port}/"
        self.origin_url = f"http://127.0.0.1:{origin_port}/"

    def err_text(self):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def mark(self):
        return os.path.getsize(self.out_path)

    def verdict_since(self, mark):
        """The helper's last verdict after mark, in the origin server's
        words: OK user=... -> AF <user>, ERR message=X -> NA X."""
        with open(self.out_path, "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
        found = None
        for line in text.splitlines():
            if not line.startswith(self.prefix):
                continue
            words = line[len(self.prefix) :].split(" ")
            kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            if words[0] == "OK":
                found = "AF " + urllib.parse.unquote(kv.get("user", ""))
            elif words[0] == "ERR":
                found = "NA " + kv.get("message", "")
            else:
                found = " ".join(words)
        return found

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Servers:
    def __init__(self, args):
        self.args = args
        self.started = {}
        self.origin = None  # the plain origin behind the Squids: (process, port)

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

    def origin_port(self):
        if self.origin is None:
            port = free_port()
            proc = subprocess.Popen([PY, "-B", "-c", ORIGIN_CODE, str(port)], stdin=subprocess.DEVNULL)
            self.origin = (proc, port)
            wait_port(port, proc, "the origin server")
        return self.origin[1]

    def squid_helper(self, kind):
        options, _extras = shipped_squid_ntlm()
        if kind == "squid-samba":
            return ["/usr/bin/ntlm_auth", f"--configfile={self.args.samba_conf}", options[0]]
        service = "legacy" if kind == "squid-ours-v1" else "matrix"
        return [self.args.ntlm_auth, "--ntlmd-socket", self.args.ntlmd_socket, *options, f"--service={service}"]

    def get(self, kind, options=(), proxy=False):
        key = (kind, proxy) + tuple(options)
        if key not in self.started:
            name = "-".join(x.strip("-") for x in [kind] + (["proxy"] if proxy else []) + list(options))
            name = name.replace("/", "_")  # an SPN
            if kind.startswith("squid-"):
                ns = self.args.samba_pid if kind == "squid-samba" else None
                self.started[key] = SquidServer(
                    kind[len("squid-") :], self.squid_helper(kind), self.args.work, self.origin_port(), ns
                )
            elif kind in ("verify", "verify-tls"):
                tls = []
                if kind == "verify-tls":
                    # the port is chosen before: the SPN the acceptor wants
                    # names it, as Chromium's does (HTTP/host:port)
                    port = free_port()
                    cert = TlsCert.get(self.args.work, "server")
                    values = {
                        "@CB@": cert.binding,
                        "@OTHER_CB@": TlsCert.get(self.args.work, "other").binding,
                        "@SPN@": f"HTTP/localhost:{port}",
                    }
                    options = [values.get(o, o) for o in options]
                    tls = ["--tls-cert", cert.cert, "--tls-key", cert.key, "--port", str(port)]
                argv = [
                    PY, "-B", VERIFY_SERVER, "--acceptor", self.args.acceptor,
                    "--hashes", self.args.hashes, "--port-file", "@PORTFILE@",
                    "--time-limit", "900", "--max-requests", "100000", "--close-unless-challenge",
                    *(["--proxy"] if proxy else []), *tls, "--", *options,
                ]  # fmt: skip
                server = Server(name, argv, self.args.work, "VERDICT ")
                if tls:
                    server.url = f"https://localhost:{server.port}/"
                self.started[key] = server
            else:
                argv = [PY, "-B", ORIGIN, "--port-file", "@PORTFILE@", "--", *self.helper_argv(kind)]
                self.started[key] = Server(name, argv, self.args.work, "AUTH 127.0.0.1 ")
        return self.started[key]

    def stop_all(self):
        problems = []
        for server in self.started.values():
            rc = server.stop()
            if isinstance(server, Server) and server.prefix == "VERDICT " and rc != 0:
                problems.append(f"server {server.name} exited with {rc}: {server.err_text().strip()}")
        if self.origin is not None:
            self.origin[0].terminate()
            self.origin[0].wait()
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


def cntlm_client(work, mode):
    """cntlm (0.92.3) as a parent-proxy client: a cntlm of its own for each
    run, whose configuration file (mode 0600, in the work directory) holds
    the account, the password and Auth <mode>, with the proxy under test as
    its parent; a GET of origin through cntlm, the status cntlm relays."""
    home = os.path.join(work, f"cntlm-{mode.lower()}")
    os.makedirs(home, mode=0o700, exist_ok=True)
    conf = os.path.join(home, "cntlm.conf")

    def run(proxy_url, user, domain, password, origin):
        parent = urllib.parse.urlsplit(proxy_url)
        port = free_port()
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(
                f"Username {user}\nDomain {domain}\nPassword {password}\nAuth {mode}\n"
                f"Proxy {parent.hostname}:{parent.port}\nListen 127.0.0.1:{port}\n"
            )
        proc = subprocess.Popen(
            ["cntlm", "-f", "-c", conf],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_port(port, proc, "cntlm", seconds=10)
            except RuntimeError as e:
                return f"{e}: {proc.stdout.read().decode('utf-8', 'replace').strip()[-200:]}"
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            try:
                conn.request("GET", origin, headers={"Host": urllib.parse.urlsplit(origin).netloc})
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                return f"no answer through cntlm: {type(e).__name__}: {e}"
            finally:
                conn.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            # without -v cntlm's foreground log names no secret (-v would
            # print the Password line of its configuration)
            log = proc.stdout.read().decode("utf-8", "replace")
            proc.stdout.close()
            os.unlink(conf)
        # a client-side refusal, logged by cntlm, which then relays the
        # parent's 407 as it is
        for line in log.splitlines():
            if "Cannot do NTLMv2" in line:
                return f"cntlm made no AUTHENTICATE ({line.split(': ', 1)[-1]}), relayed HTTP {status}"
        return status

    return run


# ---------------------------------------------------------------------------
# The matrix


ACCEPT, WRONG, CANNOT = "accept", "wrong", "cannot"


class MatrixCase:
    def __init__(self, name, server, options, user, password, want, samba, fields=None):
        self.name = name
        self.server = server  # "ours", "verify" or "verify-tls"
        self.options = options  # acceptor options in verify mode
        self.user = user
        self.password = password
        self.want = want
        self.samba = samba  # True, or the reason it is n/a
        # the acceptor's verdicts (mic=, cb=, spn=) this case asserts; they
        # are shown in its MATRIX line
        self.fields = fields or {}


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


# HTTPS in verify mode: the acceptor requires channel bindings and checks
# them against the server certificate's (@CB@), or another's (@OTHER_CB@),
# and the SPN against HTTP/localhost:PORT (@SPN@); Servers.get fills them in
SAMBA_NA_TLS = (
    "n/a: Samba's ntlm_auth cannot check TLS channel bindings (no helper protocol passes them; "
    "ours neither: only ntlmd's VERIFY request carries them)"
)
TLS_GOOD = ["--cb", "required", "--cb-app-data", "@CB@", "--target-name", "@SPN@"]
HTTPS_CASES = [
    MatrixCase(
        "good", "verify-tls", TLS_GOOD, "alice", ALICE_PASSWORD, ACCEPT, SAMBA_NA_TLS,
        {"mic": "valid", "cb": "valid", "spn": "valid"},
    ),
    MatrixCase("wrong-password", "verify-tls", TLS_GOOD, "alice", MATRIX_WRONG_PASSWORD, WRONG, SAMBA_NA_TLS),
    MatrixCase(
        "bad-binding", "verify-tls",
        ["--cb", "required", "--cb-app-data", "@OTHER_CB@", "--target-name", "@SPN@"],
        "alice", ALICE_PASSWORD, ("refused", "STATUS_BAD_BINDINGS"), SAMBA_NA_TLS,
        {"mic": "valid", "cb": "invalid"},
    ),
    MatrixCase(
        "wrong-spn", "verify-tls",
        ["--cb", "required", "--cb-app-data", "@CB@", "--target-name", "HTTP/otherhost"],
        "alice", ALICE_PASSWORD, ("refused", "STATUS_NTLM_TARGET_NAME_MISMATCH"), SAMBA_NA_TLS,
        {"mic": "valid", "cb": "valid"},
    ),
]  # fmt: skip
# a proxy client: through Squid (ours and Samba's helper), and in verify
# mode against http_ntlm_server.py --proxy
PROXY_CASES = [c for c in CASES if c.name in ("good", "wrong-password", "non-ascii", "verify")] + [
    MatrixCase("verify-wrong", "verify", [], "alice", MATRIX_WRONG_PASSWORD, WRONG, SAMBA_NA_VERIFY),
]


class Client:
    def __init__(self, name, run, v1=False, expect=None, needs=None, verify_options=(), proxy=False, cases=None):
        self.name = name
        self.cases = cases or CASES
        self.run = run
        self.proxy = proxy  # a proxy client: Squid instead of the origin server, 407 for 401
        self.v1 = v1  # makes NTLMv1 responses only: NTLMv1 permitted on our side
        self.verify_options = list(verify_options)  # more acceptor options in verify mode
        # case -> (ours regex-free expectation, samba expectation, note): what
        # a client that cannot send something gets instead
        self.expect = expect or {}
        self.needs = needs  # None, or the reason the client cannot run here


def short(verdict, status, show=()):
    """'AF TESTDOM\\alice' -> 'AF:TESTDOM\\alice'; 'OK user=.. type=NTLMv2 ..' -> 'OK:NTLMv2',
    followed by the acceptor's fields named in show (':cb=valid')."""
    if verdict is None:
        v = "no-verdict"
    else:
        words = verdict.split(" ")
        if words[0] in ("OK", "FAIL"):
            kind, _status, fields = clients.parse_reply(verdict)
            v = f"{kind}:{_status}" if kind == "FAIL" else kind
            if fields.get("type"):
                v += f":{fields['type']}"
            for name in show:
                v += f":{name}={fields.get(name, '-')}"
        else:
            v = ":".join(w for w in words[:2] if w and "=" not in w)
            for w in words:
                if w.startswith("ntlmd="):
                    v += f"({w})"
    return f"{v}/{status}"


def judge(want, verdict, status, fields=None):
    """Problems of one cell against ACCEPT, WRONG or CANNOT, and the
    acceptor's fields a case asserts. Our helper's verdicts carry ntlmd's
    status (" ntlmd=STATUS_..."); Samba's answer NA NT_STATUS_LOGON_FAILURE
    is its squashed WRONG_PASSWORD."""
    v = verdict or ""
    if fields and want != CANNOT:
        got = clients.parse_reply(v)[2]
        bad = [f"{k}={got.get(k, '-')} (wanted {w})" for k, w in fields.items() if got.get(k) != w]
        if bad:
            return [f"verdict {' '.join(bad)}"] + judge(want, verdict, status)
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
        ok = ok and status in (401, 407)
        return [] if ok else [f"wanted refused with {name} (HTTP 401 or 407)"]
    if want == ACCEPT:
        ok = (v.startswith("AF ") or v.startswith("OK ")) and status == 200
        ok = ok and ntlmd in (None, "STATUS_SUCCESS")
        return [] if ok else ["wanted accepted (AF or OK, HTTP 200)"]
    if v.startswith("NA "):
        ok = v.split(" ")[1] == "NT_STATUS_LOGON_FAILURE" and ntlmd in (None, "STATUS_WRONG_PASSWORD")
    else:
        ok = v.startswith("FAIL STATUS_WRONG_PASSWORD ")
    ok = ok and status in (401, 407)
    return [] if ok else ["wanted refused with STATUS_WRONG_PASSWORD (HTTP 401, or 407 from a proxy)"]


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
        if client.proxy:  # the proxy's URL, and the origin to fetch through it
            origin = server.origin_url
            status = client.run(server.url, case.user, DOMAIN, case.password, origin)
        else:
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
                for case in client.cases:
                    print(f"MATRIX {client.name} {case.name} ours=not-run: {client.needs} samba=not-run", flush=True)
                print(f"FAIL {client.name}: not run: {client.needs}", flush=True)
                failed += 1
                continue
            for case in client.cases:
                if case.server == "ours" and client.proxy:
                    ours_server = servers.get("squid-ours-v1" if client.v1 else "squid-ours-v2")
                elif case.server == "ours":
                    ours_server = servers.get("ours-v1" if client.v1 else "ours-v2")
                else:
                    options = list(case.options)
                    if client.v1:
                        options += ["--allow-ntlmv1", "--allow-ess"]
                    options += client.verify_options
                    ours_server = servers.get(case.server, options, proxy=client.proxy)
                ours_v, ours_s = one_exchange(client, ours_server, case, ntlmd_log if case.server == "ours" else None)
                samba_text = case.samba if case.samba is not True else None
                samba_v = samba_s = None
                if case.samba is True:
                    if have_samba:
                        samba_server = servers.get("squid-samba" if client.proxy else "samba")
                        samba_v, samba_s = one_exchange(client, samba_server, case)
                        samba_text = short(samba_v, samba_s)
                    else:
                        samba_text = "n/a: no private winbindd (needs root, winbind and Samba's ntlm_auth)"
                print(
                    f"MATRIX {client.name} {case.name} ours={short(ours_v, ours_s, case.fields)} samba={samba_text}",
                    flush=True,
                )
                want_ours, want_samba, note = client.expect.get(case.name, (case.want, case.want, None))
                problems = [f"ours: {p}" for p in judge(want_ours, ours_v, ours_s, case.fields)]
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
    chromium = [PY, "-B", os.path.join(CLIENT_DIR, "chromium-client.py")]
    chromium_needs = None if os.access("/usr/bin/chromium", os.X_OK) else "/usr/bin/chromium is missing"
    out.append(Client("chromium", http_client(chromium), needs=chromium_needs))
    # HTTPS: Chromium trusts the throwaway certificate by its key
    # (--ignore-certificate-errors-spki-list), so the channel binding it
    # sends is the one of the certificate it was served
    chromium_https_needs, spki = chromium_needs, None
    if chromium_needs is None and (not args.only or "chromium-https" in args.only.split(",")):
        try:
            spki = TlsCert.get(work, "server").spki_sha256
        except (OSError, subprocess.CalledProcessError) as e:
            chromium_https_needs = f"cannot make the throwaway certificate with openssl: {e}"
    out.append(
        Client(
            "chromium-https",
            http_client(chromium + ["--trust-spki", spki]) if spki else None,
            needs=chromium_https_needs,
            cases=HTTPS_CASES,
        )
    )

    def chromium_proxy(proxy_url, user, domain, password, origin):
        proxy = urllib.parse.urlsplit(proxy_url)  # scheme://host:port: a path is refused
        return http_client(chromium + ["--proxy-server", f"{proxy.scheme}://{proxy.netloc}"])(
            origin, user, domain, password
        )

    if chromium_needs is None and not os.access(SQUID, os.X_OK):
        chromium_proxy_needs = f"{SQUID} is missing"
    else:
        chromium_proxy_needs = chromium_needs
    out.append(
        Client("chromium-proxy", chromium_proxy, needs=chromium_proxy_needs, proxy=True, cases=PROXY_CASES)
    )
    # cntlm through a real Squid (and, in verify mode, our acceptor as its
    # parent proxy): NTLMv2 under the default policy; NTLM (NTLMv1 with
    # the LM response) and NTLM2SR (NTLMv1-ESS) under ntlmv1-permitted
    if not shutil.which("cntlm"):
        cntlm_needs = "cntlm is missing"
    elif not os.access(SQUID, os.X_OK):
        cntlm_needs = f"{SQUID} is missing (cntlm's parent proxy)"
    else:
        cntlm_needs = None
    cntlm_no_ti = (
        CANNOT,
        CANNOT,
        "cntlm 0.92.3 cannot answer a CHALLENGE without TargetInfo in NTLMv2 mode: it logs "
        "\"No target info block. Cannot do NTLMv2!\" and relays the parent's 407 without an AUTHENTICATE",
    )
    for mode, v1 in (("NTLMv2", False), ("NTLM", True), ("NTLM2SR", True)):
        expect = {"non-ascii": cannot_utf16(f"cntlm 0.92.3 ({mode})")}
        if mode == "NTLMv2":
            expect.update({"no-target-info": cntlm_no_ti, "no-target-info-wrong": cntlm_no_ti})
        out.append(
            Client(
                f"cntlm-{mode.lower()}",
                cntlm_client(work, mode),
                v1=v1,
                needs=cntlm_needs,
                proxy=True,
                expect=expect,
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
