#!/usr/bin/python3
"""ntlm-http-origin.py: an HTTP origin server that authenticates its clients
with NTLM (WWW-Authenticate: NTLM) through an ntlm_auth helper speaking
squid-2.5-ntlmssp, the way Apache's mod_auth_ntlm_winbind does. The helper
is the project's ntlm_auth (over ntlmd, which alone reads the NT hashes) or
Samba's (over winbindd): this server never sees a password or a hash.

    ntlm-http-origin.py [--bind ADDR] [--port N] [--port-file FILE]
        [--max-handshakes N] [--max-handshakes-per-address N]
        [--handshake-timeout SECONDS] -- HELPER COMMAND...

Example, with the project's ntlm_auth and the ntlmd.conf service "squid":
    ntlm-http-origin.py --port 8080 -- \\
        ntlm_auth --helper-protocol=squid-2.5-ntlmssp --service=squid

NTLM authenticates a connection, not a request: each handshake gets its own
helper process (a squid-2.5-ntlmssp helper is stateful), started at the
connection's NEGOTIATE and ended with the verdict or the connection.
  no Authorization: NTLM              -> 401, WWW-Authenticate: NTLM
  NTLM <NEGOTIATE>  helper "YR <b64> <client address>"
                                      -> "TT <b64>": 401, WWW-Authenticate: NTLM <CHALLENGE>
  NTLM <AUTHENTICATE> "KK <b64> <client address>"
                                      -> "AF <user>": 200, body "hello <user>"
                                      -> "NA <reason>": 401 and the connection closed
The client address follows each token as Squid's key_extras "%>a" does: the
project's ntlmd then counts wrong passwords per account and address, so one
client's guesses do not lock the account for every other client (Samba's
helper ignores it). At most --max-handshakes (64) handshakes are under way
at once, and at most --max-handshakes-per-address (8) from one client
address; a NEGOTIATE beyond them gets 503 and the connection is closed, so
unauthenticated connections cannot start helpers without bound. A
handshake ends with its verdict, with any request on its connection that
is not its AUTHENTICATE, or when no request comes within
--handshake-timeout (10 s) of the CHALLENGE: an idle client cannot keep its
place. A connection that
authenticated stays authenticated. Every helper verdict is
logged on stdout as one line: "AUTH <client address> <helper reply>", and
requests on stderr, control characters escaped. With --port 0 (the
default) the port the server got is written to --port-file. It stops on
SIGTERM or SIGINT.
"""

import argparse
import base64
import binascii
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HELPER_TIMEOUT = 10.0  # seconds for one helper answer
CONNECTION_TIMEOUT = 30.0  # an idle keep-alive connection is dropped after this
MAX_HANDSHAKES = 64  # helpers alive at once (--max-handshakes)
MAX_HANDSHAKES_PER_ADDRESS = 8  # of them for one client address
HANDSHAKE_TIMEOUT = 10.0  # the AUTHENTICATE is due within this of the CHALLENGE


def printable(text):
    """text with control characters (C0, DEL, C1) as \\xHH, for a log line."""
    return "".join(c if c.isprintable() or c == " " else f"\\x{ord(c):02x}" for c in text)


class HelperError(Exception):
    pass


class Helper:
    """One squid-2.5-ntlmssp helper process: one request line in, one reply out."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr, bufsize=0
        )

    def ask(self, line):
        try:
            self.proc.stdin.write(line.encode("ascii") + b"\n")
        except OSError as e:
            raise HelperError(f"cannot write to the helper: {e}") from None
        # a reply is one line; a dead helper gives EOF
        timer = threading.Timer(HELPER_TIMEOUT, self.proc.kill)
        timer.start()
        try:
            reply = self.proc.stdout.readline()
        finally:
            timer.cancel()
        if not reply.endswith(b"\n"):
            raise HelperError("the helper exited or did not answer in time")
        return reply.decode("utf-8", "replace").rstrip("\r\n")

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=HELPER_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: NTLM authenticates a connection
    timeout = CONNECTION_TIMEOUT
    server_version = "ntlm-http-origin"

    def setup(self):
        super().setup()
        self.helper = None
        self.user = None  # set once the connection authenticated

    def finish(self):
        try:
            super().finish()
        finally:
            self.end_handshake()

    def start_handshake(self):
        """A helper for a new handshake, within --max-handshakes and
        --max-handshakes-per-address; False when there is no room. Until it
        ends, the connection waits HANDSHAKE_TIMEOUT for its next request."""
        self.end_handshake()
        address = self.client_address[0]
        with self.server.lock:
            held = self.server.per_address.get(address, 0)
            if held >= self.server.max_per_address:
                return False
            if not self.server.handshakes.acquire(blocking=False):
                return False
            self.server.per_address[address] = held + 1
        try:
            self.helper = Helper(self.server.helper_argv)
        except OSError:
            self.release_place()
            raise
        self.connection.settimeout(self.server.handshake_timeout)
        return True

    def release_place(self):
        address = self.client_address[0]
        with self.server.lock:
            left = self.server.per_address.get(address, 1) - 1
            if left > 0:
                self.server.per_address[address] = left
            else:
                self.server.per_address.pop(address, None)
            self.server.handshakes.release()

    def end_handshake(self):
        if self.helper is not None:
            self.helper.close()
            self.helper = None
            self.release_place()
            try:
                self.connection.settimeout(CONNECTION_TIMEOUT)
            except OSError:
                pass  # the connection is gone already

    def log_message(self, format, *args):  # noqa: A002  (BaseHTTPRequestHandler's name)
        sys.stderr.write(f"http: {self.client_address[0]} " + printable(format % args) + "\n")

    def verdict(self, reply):
        print(f"AUTH {self.client_address[0]} {printable(reply)}", flush=True)

    def ask(self, command, token):
        """One helper request, with the client address as Squid's key_extras."""
        return self.helper.ask(f"{command} {token} {self.client_address[0]}")

    def answer(self, code, body, ntlm_token=None, close=False):
        data = body.encode("utf-8")
        self.send_response(code)
        if code == 401:
            self.send_header("WWW-Authenticate", "NTLM" if ntlm_token is None else "NTLM " + ntlm_token)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def discard_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= 65536:
            self.rfile.read(length)
        elif length:
            self.close_connection = True

    def do_GET(self):
        self.discard_body()
        if self.user is not None:
            self.answer(200, f"hello {self.user}\n")
            return
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.upper() != "NTLM" or not token:
            self.end_handshake()  # not its AUTHENTICATE: the handshake is over
            self.answer(401, "authentication required\n")
            return
        try:
            msg = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            self.end_handshake()
            self.answer(400, "bad NTLM token\n", close=True)
            return
        if len(msg) < 12 or msg[:8] != b"NTLMSSP\0" or msg[8] not in (1, 3):
            self.end_handshake()
            self.answer(400, "not an NTLMSSP NEGOTIATE or AUTHENTICATE\n", close=True)
            return
        try:
            if msg[8] == 1:
                # a new handshake: a fresh helper state
                if not self.start_handshake():
                    self.answer(503, "too many NTLM handshakes under way\n", close=True)
                    return
                reply = self.ask("YR", token)
                if reply.startswith("TT "):
                    self.answer(401, "challenge\n", reply[3:].split(" ")[0])
                    return
                self.end_handshake()
                self.verdict(reply)
                self.answer(401, "access denied\n", close=True)
                return
            if self.helper is None:
                self.answer(400, "AUTHENTICATE without a NEGOTIATE on this connection\n", close=True)
                return
            reply = self.ask("KK", token)
            self.end_handshake()
            self.verdict(reply)
            if reply.startswith("AF ") or reply.startswith("OK "):
                user = reply[3:].strip()
                if user.startswith("user="):
                    user = user[5:].split(" ")[0]
                self.user = user
                self.answer(200, f"hello {self.user}\n")
            else:
                self.answer(401, "access denied\n", close=True)
        except HelperError as e:
            self.end_handshake()
            self.verdict(f"BH {e}")
            self.answer(500, "authentication helper failure\n", close=True)

    do_HEAD = do_GET


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--max-handshakes", type=int, default=MAX_HANDSHAKES)
    parser.add_argument("--max-handshakes-per-address", type=int, default=MAX_HANDSHAKES_PER_ADDRESS)
    parser.add_argument("--handshake-timeout", type=float, default=HANDSHAKE_TIMEOUT)
    parser.add_argument("helper", nargs="+", help="the helper command and its arguments")
    args = parser.parse_args()

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    server.helper_argv = args.helper
    server.handshakes = threading.BoundedSemaphore(max(1, args.max_handshakes))
    server.max_per_address = max(1, args.max_handshakes_per_address)
    server.per_address = {}
    server.lock = threading.Lock()
    server.handshake_timeout = max(0.1, args.handshake_timeout)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{server.server_address[1]}\n")
        os.rename(tmp, args.port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
