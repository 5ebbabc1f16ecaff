#!/usr/bin/python3
"""A tiny HTTP server on 127.0.0.1 that authenticates with NTLM
(WWW-Authenticate: NTLM, one handshake per keep-alive connection) through
ntlm-test-acceptor.

    http_ntlm_server.py --acceptor PATH --hashes FILE --port-file FILE
        [--time-limit S] [--max-requests N] [--close-unless-challenge] [--proxy]
        [--tls-cert FILE --tls-key FILE] [--port N] [-- ACCEPTOR OPTIONS...]

It binds --port (default 0: any) and writes the port it got to --port-file. Every answer of
the acceptor to an AUTHENTICATE is printed on stdout as "VERDICT <answer>".
Requests:
  no Authorization: NTLM header          -> 401, WWW-Authenticate: NTLM
  Authorization: NTLM <NEGOTIATE>        -> 401, WWW-Authenticate: NTLM <CHALLENGE>
  Authorization: NTLM <AUTHENTICATE> ok  -> 200, body "hello <user>"
  ... refused                            -> 401, WWW-Authenticate: NTLM
With --proxy it answers as a proxy does (cntlm's parent proxy): 407 and
Proxy-Authenticate for 401 and WWW-Authenticate, the token in
Proxy-Authorization, and any request line (an absolute URL) served alike.
With --close-unless-challenge every answer but a CHALLENGE closes the
connection: this server serves one connection at a time, and a client that
keeps an idle connection open (a browser, a JVM) would hold it.
With --tls-cert and --tls-key it speaks HTTPS (TLS 1.2 or 1.3, HTTP/1.1
only); the channel binding a client makes of that certificate is checked by
the acceptor when it is given --cb-app-data (tls-server-end-point, RFC 5929). It stops on
SIGTERM, after --max-requests requests or after --time-limit
seconds, and exits 0 only when the acceptor also exited cleanly.
"""

import argparse
import binascii
import os
import signal
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402  (the line-protocol helpers)

NTLMSSP = b"NTLMSSP\0"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: NTLM authenticates a connection
    timeout = clients.TIMEOUT  # an idle connection is dropped after this
    server_version = "ntlm-interop"

    def log_message(self, format, *args):  # noqa: A002  (BaseHTTPRequestHandler's name)
        sys.stderr.write("http: " + (format % args) + "\n")

    def answer(self, code, body, ntlm_token=None, close=False):
        data = body.encode("utf-8")
        proxy = self.server.proxy
        if code == 401 and proxy:
            code = 407
        self.send_response(code)
        if code in (401, 407):
            self.send_header(
                "Proxy-Authenticate" if proxy else "WWW-Authenticate",
                "NTLM" if ntlm_token is None else "NTLM " + ntlm_token,
            )
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.server.requests += 1

    def discard_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= 65536:
            self.rfile.read(length)
        elif length:
            self.close_connection = True

    def do_GET(self):
        self.discard_body()
        auth = self.headers.get("Proxy-Authorization" if self.server.proxy else "Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.upper() != "NTLM" or not token.strip():
            self.answer(401, "authentication required\n", close=self.server.close_unless_challenge)
            return
        token = token.strip()
        try:
            msg = clients.unb64(token)
        except (binascii.Error, ValueError):
            self.answer(400, "bad NTLM token\n", close=True)
            return
        if len(msg) < 12 or msg[:8] != NTLMSSP:
            self.answer(400, "not an NTLMSSP message\n", close=True)
            return
        acceptor = self.server.acceptor
        try:
            if msg[8] == 1:
                reply = acceptor.request("NEGOTIATE " + token)
                if reply.startswith("CHALLENGE "):
                    self.answer(401, "challenge\n", reply[len("CHALLENGE ") :])
                else:
                    print("VERDICT " + reply, flush=True)
                    self.answer(400, "bad NEGOTIATE\n", close=True)
            elif msg[8] == 3:
                reply = acceptor.request("AUTHENTICATE " + token)
                print("VERDICT " + reply, flush=True)
                kind, _status, fields = clients.parse_reply(reply)
                if kind == "OK":
                    self.answer(200, f"hello {fields.get('user', '')}\n", close=self.server.close_unless_challenge)
                elif kind == "FAIL":
                    self.answer(401, "access denied\n", close=True)
                else:
                    self.answer(400, "bad AUTHENTICATE\n", close=True)
            else:
                self.answer(400, "unexpected NTLMSSP message type\n", close=True)
        except clients.ProtocolError as e:
            sys.stderr.write(f"http: {e}\n")
            self.answer(500, "acceptor failure\n", close=True)

    do_HEAD = do_GET


class Stop(Exception):
    """Raised by the SIGTERM handler."""


def stop(_signum, _frame):
    raise Stop()


class Server(HTTPServer):
    allow_reuse_address = False

    def __init__(self, acceptor, port=0, tls=None):
        super().__init__(("127.0.0.1", port), Handler)
        self.acceptor = acceptor
        self.requests = 0
        self.close_unless_challenge = False
        self.proxy = False
        self.tls = tls  # an ssl.SSLContext, or None

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is not None:
            # the handshake here, bounded: a client's speculative connection
            # that never completes one must not hold this one-at-a-time server
            sock.settimeout(clients.TIMEOUT)
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                sock.close()
                raise
        return sock, addr


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--acceptor", required=True)
    parser.add_argument("--hashes", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--max-requests", type=int, default=200)
    parser.add_argument("--close-unless-challenge", action="store_true")
    parser.add_argument("--proxy", action="store_true", help="answer as a proxy: 407, Proxy-Authenticate")
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate")
    parser.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("acceptor_options", nargs="*")
    args = parser.parse_args()
    tls = None
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.set_alpn_protocols(["http/1.1"])
        tls.load_cert_chain(args.tls_cert, args.tls_key)

    signal.signal(signal.SIGTERM, stop)
    acceptor = clients.Acceptor(args.acceptor, args.hashes, args.acceptor_options)
    try:
        with Server(acceptor, args.port, tls) as server:
            server.timeout = 0.5
            server.close_unless_challenge = args.close_unless_challenge
            server.proxy = args.proxy
            tmp = args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(f"{server.server_address[1]}\n")
            os.rename(tmp, args.port_file)
            deadline = time.monotonic() + args.time_limit
            while server.requests < args.max_requests and time.monotonic() < deadline:
                server.handle_request()
    except Stop:
        pass
    finally:
        status, err = acceptor.close()
        if err:
            sys.stderr.write(err)
    if status != 0:
        sys.stderr.write(f"http: the acceptor exited with status {status}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
