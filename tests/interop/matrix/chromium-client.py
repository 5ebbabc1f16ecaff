#!/usr/bin/python3
"""HTTP client of test-matrix.sh: Debian's Chromium, headless, driven through
the DevTools protocol over a pipe (--remote-debugging-pipe: fd 3 in, fd 4
out, NUL-terminated JSON). The credentials are given when Chromium asks for
them, by Fetch.continueWithAuth; a second request for them (the password was
refused) is cancelled. Usage: chromium-client.py URL USER DOMAIN; the
password is the first line of stdin. Prints the final HTTP status of the
page's document."""
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
    def __init__(self, profile):
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
    url, user, domain = sys.argv[1:4]
    password = sys.stdin.readline().rstrip("\n")
    login = f"{domain}\\{user}" if domain else user
    profile = tempfile.mkdtemp(prefix="chromium-matrix-")
    dt = DevTools(profile)
    status = None
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
            elif method == "Page.loadEventFired" and status is not None:
                break
    finally:
        dt.close()
        shutil.rmtree(profile, ignore_errors=True)
    print(status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
