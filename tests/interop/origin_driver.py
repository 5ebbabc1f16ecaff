#!/usr/bin/python3
"""Driver of test-origin.sh: NTLM clients of examples/ntlm-http-origin.py
(over the project's ntlm_auth and a private ntlmd), one subcommand per case;
each prints PASS/FAIL lines and then "N passed, M failed".

    origin_driver.py full    --port P --server-pid PID --out FILE
    origin_driver.py limit   --port P --server-pid PID
    origin_driver.py inject  --port P --out FILE --err FILE
    origin_driver.py lockout --port P --ntlmd-log FILE

The client is python3-ntlm-auth's NtlmContext, as clients.py uses it; the
passwords are those of clients.py's accounts, never on a command line.
"""

import argparse
import os
import socket
import sys
import threading
import time

import clients

TIMEOUT = clients.TIMEOUT
DOMAIN = clients.DOMAIN
ALICE = clients.ACCOUNTS["alice"]
EXPECTED_USER = f"{DOMAIN}\\alice"  # the name the helper returns (AF ...)

passed = 0
failed = 0


def report(ok, text):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS origin: {text}", flush=True)
    else:
        failed += 1
        print(f"FAIL origin: {text}", flush=True)


# ---------------------------------------------------------------------------
# HTTP over one socket: keep-alive, exact bytes, EOF seen


class Closed(Exception):
    pass


class Conn:
    """One TCP connection to the origin, optionally from a chosen local
    address; responses read by hand so that EOF is seen as such."""

    def __init__(self, port, source="127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT, source_address=(source, 0))
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Closed("the server closed the connection")
        self.buf += chunk

    def response(self):
        """(status, {header: value}, body) of the next response."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("iso-8859-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body.decode("utf-8", "replace")

    def get(self, token=None):
        auth = f"Authorization: NTLM {clients.b64(token)}\r\n" if token is not None else ""
        self.send(f"GET / HTTP/1.1\r\nHost: origin\r\n{auth}\r\n".encode("ascii"))
        return self.response()

    def at_eof(self, seconds=TIMEOUT):
        """True when the server closes the connection within seconds."""
        self.sock.settimeout(seconds)
        try:
            return self.sock.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(TIMEOUT)

    def close(self):
        self.sock.close()


class Handshake:
    """An NTLM handshake of python3-ntlm-auth over one Conn."""

    def __init__(self, conn, password, user="alice"):
        from ntlm_auth.ntlm import NtlmContext

        self.conn = conn
        self.ctx = NtlmContext(user, password, domain=DOMAIN, workstation=clients.WORKSTATION)

    def negotiate(self):
        """Sends the NEGOTIATE: (status, headers, body, CHALLENGE or None)."""
        status, headers, body = self.conn.get(self.ctx.step())
        challenge = None
        scheme, _, token = headers.get("www-authenticate", "").partition(" ")
        if status == 401 and scheme == "NTLM" and token:
            challenge = clients.unb64(token)
        return status, headers, body, challenge

    def authenticate(self, challenge):
        return self.conn.get(self.ctx.step(challenge))


def exchange(port, password, source):
    """A whole handshake on a fresh connection: (status, body), closed after."""
    conn = Conn(port, source)
    try:
        hs = Handshake(conn, password)
        status, _h, body, challenge = hs.negotiate()
        if challenge is None:
            return status, f"no CHALLENGE: {body.strip()}"
        status, _h, body = hs.authenticate(challenge)
        return status, body.strip()
    except (OSError, Closed) as e:
        return None, str(e)
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# The server's helper processes: its children, from /proc


def children(pid):
    """Pids of the children of pid, zombies included (not yet reaped)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split(" ")  # state ppid ...
        if fields[1] == str(pid):
            kids.append(int(entry))
    return kids


def exited(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def wait_for(predicate, seconds=TIMEOUT):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class ChildSampler(threading.Thread):
    """Counts the server's children every few milliseconds; most = the most seen."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.most = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.most = max(self.most, len(children(self.pid)))
            time.sleep(0.005)

    def stop(self):
        self.done.set()
        self.join()
        self.most = max(self.most, len(children(self.pid)))


def out_lines_since(path, mark):
    with open(path, "rb") as f:
        return f.read()[mark:].decode("utf-8", "replace").splitlines()


# ---------------------------------------------------------------------------
# The cases


def case_full(args):
    """The right password: 200 "hello TESTDOM\\alice", and the handshake's
    helper has exited once the verdict is given, the connection still open."""
    mark = os.path.getsize(args.out)
    conn = Conn(args.port)
    problems = []
    try:
        hs = Handshake(conn, ALICE.password)
        status, _h, body, challenge = hs.negotiate()
        if challenge is None:
            report(False, f"full exchange: NEGOTIATE got HTTP {status} without a CHALLENGE: {body.strip()}")
            return
        helpers = children(args.server_pid)
        if len(helpers) != 1:
            problems.append(f"{len(helpers)} helper processes while the CHALLENGE is held, wanted 1")
        status, _h, body = hs.authenticate(challenge)
        if status != 200 or body != f"hello {EXPECTED_USER}\n":
            problems.append(f"HTTP {status} {body.strip()!r}, wanted 200 'hello {EXPECTED_USER}'")
        # the verdict is given, the keep-alive connection still open: the
        # helper must be gone (the fixed server waits for it before answering)
        alive = [pid for pid in helpers if not exited(pid)]
        if alive:
            problems.append(f"the handshake's helper (pid {alive[0]}) still runs after the verdict")
        left = children(args.server_pid)
        if left:
            problems.append(f"{len(left)} helper processes after the verdict, connection open")
        # the connection stays authenticated without a helper
        status, _h, body = conn.get()
        if status != 200:
            problems.append(f"the next request on the connection got HTTP {status}")
    except (OSError, Closed) as e:
        problems.append(str(e))
    finally:
        conn.close()
    verdicts = [line for line in out_lines_since(args.out, mark) if line.startswith("AUTH ")]
    if verdicts != [f"AUTH 127.0.0.1 AF {EXPECTED_USER}"]:
        problems.append(f"verdict lines on stdout: {verdicts}")
    report(
        not problems,
        f"full exchange, right password: HTTP 200 'hello {EXPECTED_USER}', its helper exited with the verdict"
        + (": " + "; ".join(problems) if problems else ""),
    )


def case_limit(args):
    """--max-handshakes 2: two held CHALLENGEs keep two helpers, a third
    NEGOTIATE gets 503 and a closed connection, a finished handshake frees
    its place, and never more than 2 helpers run."""
    sampler = ChildSampler(args.server_pid)
    sampler.start()
    conns = []
    problems = []

    def connect():
        c = Conn(args.port)
        conns.append(c)
        return c

    def hold(what, grace=0.0):
        """A NEGOTIATE whose CHALLENGE is held; within grace seconds a 503
        is tried again (the server frees a place once it saw a close)."""
        deadline = time.monotonic() + grace
        while True:
            hs = Handshake(connect(), ALICE.password)
            status, _h, body, challenge = hs.negotiate()
            if status != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if challenge is None:
            problems.append(f"{what}: HTTP {status} without a CHALLENGE ({body.strip()})")
        return hs, challenge

    try:
        hs1, chal1 = hold("first NEGOTIATE")
        hold("second NEGOTIATE")
        n = len(children(args.server_pid))
        if n != 2:
            problems.append(f"{n} helpers while two CHALLENGEs are held, wanted 2")

        third = connect()
        status, _h, body, _c = Handshake(third, ALICE.password).negotiate()
        if status != 503:
            problems.append(f"third NEGOTIATE: HTTP {status} ({body.strip()}), wanted 503")
        if not third.at_eof(5):
            problems.append("third NEGOTIATE: the server kept its connection open")
        n = len(children(args.server_pid))
        if n != 2:
            problems.append(f"{n} helpers after the refused NEGOTIATE, wanted 2")

        # the first handshake ends with its verdict (the connection stays
        # open): its place is free for a new one
        if chal1 is not None:
            status, _h, body = hs1.authenticate(chal1)
            if status != 200:
                problems.append(f"first handshake, right password: HTTP {status} ({body.strip()})")
        hold("NEGOTIATE after a handshake ended with its verdict")

        # the second ends with its connection: once the server saw the close
        # (its helper gone), a new NEGOTIATE is accepted
        conns[1].close()
        if not wait_for(lambda: len(children(args.server_pid)) <= 1):
            problems.append("the closed connection's helper still runs")
        hold("NEGOTIATE after a connection with a held CHALLENGE closed", grace=2.0)
    except (OSError, Closed) as e:
        problems.append(str(e))
    finally:
        for c in conns:
            c.close()
        sampler.stop()
    if sampler.most > 2:
        problems.append(f"{sampler.most} helper processes at once (limit 2)")
    report(
        not problems,
        "--max-handshakes 2: two held CHALLENGEs, the third NEGOTIATE 503 and closed, "
        f"a place freed by a verdict and by a close is taken again; at most {sampler.most} helpers"
        + (": " + "; ".join(problems) if problems else ""),
    )


def case_hold(args):
    """--max-handshakes-per-address 2 --handshake-timeout 1: a third held
    NEGOTIATE from one address gets 503 while another address still gets a
    CHALLENGE; a request on a held connection that is not its AUTHENTICATE
    ends its handshake (its helper exits, its place is free); a CHALLENGE
    left unanswered past the timeout ends with its connection."""
    problems = []
    conns = []

    def held(source):
        c = Conn(args.port, source)
        conns.append(c)
        status, _h, body, challenge = Handshake(c, ALICE.password).negotiate()
        return c, status, body, challenge

    try:
        a1, s1, _b, _c = held("127.0.0.4")
        a2, s2, _b, _c = held("127.0.0.4")
        if (s1, s2) != (401, 401):
            problems.append(f"two NEGOTIATEs from 127.0.0.4: HTTP {s1}, {s2}, wanted two CHALLENGEs")
        _a3, s3, body, _c = held("127.0.0.4")
        if s3 != 503:
            problems.append(f"a third from 127.0.0.4: HTTP {s3} ({body.strip()}), wanted 503")
        _b1, s4, body, challenge = held("127.0.0.5")
        if challenge is None:
            problems.append(f"a NEGOTIATE from 127.0.0.5: HTTP {s4} ({body.strip()}), wanted a CHALLENGE")
        before = len(children(args.server_pid))
        status, _h, _body = a1.get()  # a plain GET where the AUTHENTICATE was due
        if status != 401:
            problems.append(f"a plain GET on a held connection: HTTP {status}, wanted 401")
        if not wait_for(lambda: len(children(args.server_pid)) == before - 1):
            problems.append(f"after a plain GET on a held connection {len(children(args.server_pid))} helpers, "
                            f"wanted {before - 1}")
        _a4, s5, body, _c = held("127.0.0.4")
        if s5 != 401:
            problems.append(f"a NEGOTIATE from 127.0.0.4 once its place was free: HTTP {s5} ({body.strip()})")
        # a2 sent nothing since its CHALLENGE: the server drops it after 1 s
        if not a2.at_eof(4):
            problems.append("a CHALLENGE left unanswered: the connection was still open after 4 s")
    except (OSError, Closed) as e:
        problems.append(str(e))
    finally:
        for c in conns:
            c.close()
    report(
        not problems,
        "--max-handshakes-per-address 2: a third NEGOTIATE from one address 503, another address served; "
        "a request that is not the AUTHENTICATE ends the handshake; an unanswered CHALLENGE is dropped "
        "after --handshake-timeout" + (": " + "; ".join(problems) if problems else ""),
    )


# ESC (a terminal escape), CR (a forged log line) and NEL (a C1 control,
# 0x85: latin-1 of the request line; Python's str.split() takes it and CR for
# spaces, so the request is answered 400 and logged)
INJECT_PATH = b"/\x1b[31mred\rhttp: 10.0.0.1 \x85forged"
INJECT_ESCAPED = '"GET /\\x1b[31mred\\x0dhttp: 10.0.0.1 \\x85forged HTTP/1.1" 400'


def raw_controls(data):
    """The control characters of a log (UTF-8): C0 but LF and TAB, DEL, C1
    (U+0080-U+009F, or a raw byte 0x80-0x9F that is no UTF-8)."""
    found = set()
    for c in data.decode("utf-8", "surrogateescape"):
        o = ord(c)
        if 0xDC80 <= o <= 0xDC9F:  # an undecodable byte 0x80-0x9F
            found.add(f"byte 0x{o - 0xDC00:02x}")
        elif (o < 0x20 and c not in "\n\t") or 0x7F <= o <= 0x9F:
            found.add(f"U+{o:04X}")
    return sorted(found)


def case_inject(args):
    problems = []
    conn = Conn(args.port)
    try:
        conn.send(b"GET " + INJECT_PATH + b" HTTP/1.1\r\nHost: origin\r\n\r\n")
        status, _h, _body = conn.response()
        if status != 400:
            problems.append(f"HTTP {status}, wanted 400")
    except (OSError, Closed) as e:
        problems.append(str(e))
    finally:
        conn.close()
    with open(args.err, "rb") as f:
        err = f.read()
    with open(args.out, "rb") as f:
        out = f.read()
    if INJECT_ESCAPED.encode("ascii") not in err:
        problems.append(f"no {INJECT_ESCAPED} on stderr")
    for name, data in (("stderr", err), ("stdout", out)):
        bad = raw_controls(data)
        if bad:
            problems.append(f"raw control characters on {name}: {' '.join(bad)}")
    report(
        not problems,
        "a request line with ESC, CR and NEL (0x85) is logged escaped (\\x1b, \\x0d, \\x85); "
        "no raw control character on stderr or stdout" + (": " + "; ".join(problems) if problems else ""),
    )


def audit_clients(path, mark, request):
    """(status, client) of ntlmd's audit lines of request written after mark."""
    with open(path, "rb") as f:
        lines = f.read()[mark:].decode("utf-8", "replace").splitlines()
    found = []
    for line in lines:
        if f" {request} " not in line or "user=" not in line:
            continue
        client = None
        if ' client="' in line:
            client = line.split(' client="', 1)[1].split('"', 1)[0]
        status = line.split(f" {request} ", 1)[1].split(" ", 1)[0]
        found.append((status, client))
    return found


def case_lockout(args):
    """lockout_threshold 3: three wrong passwords from 127.0.0.3 lock alice
    for 127.0.0.3 only; the right one from 127.0.0.2 gets 200."""
    mark = os.path.getsize(args.ntlmd_log)
    problems = []
    wrong = [exchange(args.port, clients.WRONG_PASSWORD, "127.0.0.3")[0] for _ in range(3)]
    if wrong != [401, 401, 401]:
        problems.append(f"wrong passwords from 127.0.0.3 got {wrong}, wanted 401 x3")
    status, body = exchange(args.port, ALICE.password, "127.0.0.2")
    if status != 200 or body != f"hello {EXPECTED_USER}":
        problems.append(f"right password from 127.0.0.2 got HTTP {status} {body!r}, wanted 200")
    # the lockout does hold for the guessing address (else this case proves nothing)
    locked, body = exchange(args.port, ALICE.password, "127.0.0.3")
    if locked != 401:
        problems.append(f"right password from 127.0.0.3 (locked there): HTTP {locked} {body!r}, wanted 401")
    # ntlmd's audit: the verdicts name the address each came from
    want = ["127.0.0.3"] * 3 + ["127.0.0.2", "127.0.0.3"]
    wait_for(lambda: len(audit_clients(args.ntlmd_log, mark, "VERIFY")) >= len(want), 2)
    seen = audit_clients(args.ntlmd_log, mark, "VERIFY")
    clients_seen = [c for _s, c in seen]
    if clients_seen != want:
        problems.append(f"ntlmd's VERIFY records name the clients {clients_seen}, wanted {want}")
    elif seen[3][0] != "success":
        problems.append(f"ntlmd's record of 127.0.0.2: {seen[3][0]}, wanted success")
    report(
        not problems,
        "3 wrong passwords for alice from 127.0.0.3 do not lock her for 127.0.0.2 (200 there, 401 from "
        '127.0.0.3); ntlmd\'s audit says client="127.0.0.3" / "127.0.0.2"'
        + (": " + "; ".join(problems) if problems else ""),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=["full", "limit", "hold", "inject", "lockout"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--out")
    parser.add_argument("--err")
    parser.add_argument("--ntlmd-log")
    args = parser.parse_args()
    clients.enable_md4_for_ntlm_auth()
    {"full": case_full, "limit": case_limit, "hold": case_hold, "inject": case_inject, "lockout": case_lockout}[args.case](args)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
