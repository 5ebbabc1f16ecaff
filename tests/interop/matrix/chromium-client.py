#!/usr/bin/python3
"""HTTP client of test-matrix.sh: Debian's Chromium, headless, driven through
the DevTools protocol over a pipe (--remote-debugging-pipe: fd 3 in, fd 4
out, NUL-terminated JSON). The credentials are given when Chromium asks for
them, by Fetch.continueWithAuth; a second request for them (the password was
refused) is cancelled.

    chromium-client.py [--proxy-server URL] [--trust-spki BASE64] URL USER DOMAIN

The password is the first line of stdin. Prints the final HTTP status of the
page's document. --proxy-server fetches URL through that proxy, loopback
included (Chromium bypasses proxies for loopback unless told otherwise), and
the credentials go to the proxy's 407. --trust-spki accepts the certificate
whose public key has that SHA-256 (base64) despite its errors, as a site that
trusts it would (--ignore-certificate-errors-spki-list): the certificate,
and so its channel binding, is still the server's."""
import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 20.0


class DevTools:
    def __init__(self, profile, extra_args=()):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        os.set_inheritable(to_browser_r, True)
        os.set_inheritable(from_browser_w, True)
        argv = [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            *extra_args,
            "about:blank",
        ]

        def fds():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            argv, preexec_fn=fds, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_browser, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise TimeoutError("no DevTools message in time")
            chunk = os.read(self.from_browser, 65536)
            if not chunk:
                raise EOFError("Chromium closed its DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        want = self.send(method, params, session)
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.read(deadline)
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def close(self):
        try:
            self.send("Browser.close")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proxy-server")
    parser.add_argument("--trust-spki")
    parser.add_argument("url")
    parser.add_argument("user")
    parser.add_argument("domain")
    args = parser.parse_args()
    url, user, domain = args.url, args.user, args.domain
    extra = []
    if args.proxy_server:
        # <-loopback>: the origin under test is on 127.0.0.1. Google's hosts
        # go direct (and fail: no network): Chromium's own background
        # fetches, which headless mode makes despite
        # --disable-background-networking, would otherwise reach the proxy
        # under test and, once the credentials are cached, log on again.
        bypass = "<-loopback>;*.google.com;*.googleapis.com;*.gstatic.com"
        extra += [f"--proxy-server={args.proxy_server}", f"--proxy-bypass-list={bypass}"]
    if args.trust_spki:
        extra.append(f"--ignore-certificate-errors-spki-list={args.trust_spki}")
    password = sys.stdin.readline().rstrip("\n")
    login = f"{domain}\\{user}" if domain else user
    profile = tempfile.mkdtemp(prefix="chromium-matrix-")
    dt = DevTools(profile, extra)
    status = failure = None
    try:
        target = dt.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = dt.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        dt.call("Fetch.enable", {"handleAuthRequests": True, "patterns": [{"urlPattern": "*"}]}, session)
        dt.call("Network.enable", {}, session)
        dt.call("Page.enable", {}, session)
        dt.send("Page.navigate", {"url": url}, session)
        asked = 0
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = dt.events.pop(0) if dt.events else dt.read(deadline)
            method = msg.get("method")
            params = msg.get("params", {})
            if method == "Fetch.requestPaused":
                dt.send("Fetch.continueRequest", {"requestId": params["requestId"]}, session)
            elif method == "Fetch.authRequired":
                asked += 1
                # the 407 of a proxy comes as source "Proxy", a 401 as "Server"
                source = params.get("authChallenge", {}).get("source")
                want = "Proxy" if args.proxy_server else "Server"
                if source != want:
                    raise RuntimeError(f"credentials asked for by {source}, wanted {want}")
                answer = {"response": "ProvideCredentials", "username": login, "password": password}
                if asked > 1:
                    answer = {"response": "CancelAuth"}
                dt.send(
                    "Fetch.continueWithAuth",
                    {"requestId": params["requestId"], "authChallengeResponse": answer},
                    session,
                )
            elif method == "Network.responseReceived" and params.get("type") == "Document":
                status = params["response"]["status"]
            elif method == "Network.loadingFailed" and params.get("type") == "Document":
                failure = params.get("errorText", "loading failed")
                break
            elif method == "Page.loadEventFired" and status is not None:
                break
    finally:
        dt.close()
        shutil.rmtree(profile, ignore_errors=True)
    if status is None:
        sys.stderr.write(f"chromium: no document: {failure or 'no response'}\n")
        return 1
    print(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
