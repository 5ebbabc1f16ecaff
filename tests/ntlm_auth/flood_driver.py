#!/usr/bin/python3
"""The NEGOTIATE flood of issue 13, through ntlm_auth as Squid runs it with
key_extras "%>a": one client address sends COUNT NEGOTIATEs it never
finishes (one ntlm_auth process, every line piped in at once), while
another address logs on again and again through a second ntlm_auth.

    flood_driver.py flood --ntlm-auth PATH --socket S --ntlmd-pid PID
                          --count N --cap C --rss-growth-mib M --log NTLMD_LOG

Cases: the flooding address gets exactly C challenges (its limit,
max_pending_challenges_per_address) and BH NT_STATUS_INSUFFICIENT_RESOURCES
for the rest; the other address logs on every time, during the flood and
after it; ntlmd's resident memory (VmRSS) grows by less than M MiB over
its value before the flood; the limit is logged once, naming the
address; the audit lines of ntlmd's log carry the client addresses. The
figures (flood rate, RSS before and at its peak) are printed as "INFO"
lines. One line per case ("PASS name" / "FAIL name: why"), then
"N passed, M failed".
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from helper_driver import ACCOUNTS, Client, LineProcess, Runner, b64, enable_md4_for_ntlm_auth, unb64  # noqa: E402
from clients import DOMAIN  # noqa: E402

FLOODER = "192.0.2.66"  # TEST-NET-1
CLIENT = "198.51.100.7"  # TEST-NET-2
MIB = 1024 * 1024
PENDING_LIFETIME = 60  # seconds: the default of pending_challenge_lifetime


def rss_bytes(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise ValueError(f"no VmRSS for pid {pid}")


class Flood:
    """COUNT lines "YR <negotiate> FLOODER" piped into one ntlm_auth; its
    replies are counted by kind as they come."""

    def __init__(self, prog, sock, count):
        negotiate = b64(Client("mallory", "x").negotiate())
        self.lines = tempfile.TemporaryFile()
        self.lines.write(f"YR {negotiate} {FLOODER}\n".encode("ascii") * count)
        self.lines.seek(0)
        self.count = count
        self.replies = {}
        self.proc = subprocess.Popen(
            [prog, "--helper-protocol=squid-2.5-ntlmssp", "--ntlmd-socket", sock],
            stdin=self.lines, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.started = time.monotonic()
        self.ended = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            kind = line.decode("ascii", "replace").rstrip("\n")
            kind = kind if kind.startswith("BH ") else kind[:2]
            self.replies[kind] = self.replies.get(kind, 0) + 1
        self.ended = time.monotonic()

    def running(self):
        return self.reader.is_alive()

    def wait(self, timeout):
        self.reader.join(timeout)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.lines.close()

    def seconds(self):
        return (self.ended or time.monotonic()) - self.started


def logon(h):
    """One NTLM logon of alice from CLIENT: [] when it gives AF."""
    alice = ACCOUNTS["alice"]
    c = Client("alice", alice.password)
    tt = h.request(f"YR {b64(c.negotiate())} {CLIENT}")
    if not tt.startswith("TT "):
        return [f"YR answered {tt!r}"]
    af = h.request(f"KK {b64(c.authenticate(unb64(tt[3:])))} {CLIENT}")
    return [] if af == f"AF {DOMAIN}\\alice" else [f"KK answered {af!r}"]


def flood(args):
    enable_md4_for_ntlm_auth()
    run = Runner()
    h = LineProcess([args.ntlm_auth, "--helper-protocol=squid-2.5-ntlmssp", "--ntlmd-socket", args.socket],
                    "ntlm_auth (client)")
    before = rss_bytes(args.ntlmd_pid)
    peak = before
    during, failures = 0, []

    f = Flood(args.ntlm_auth, args.socket, args.count)
    while f.running() and f.seconds() < args.timeout:
        problems = logon(h)
        during += 1
        if problems:
            failures.append(f"logon {during} at {f.seconds():.1f} s: {problems[0]}")
        peak = max(peak, rss_bytes(args.ntlmd_pid))
        time.sleep(0.02)
    f.wait(max(1.0, args.timeout - f.seconds()))
    peak = max(peak, rss_bytes(args.ntlmd_pid))
    seconds = f.seconds()
    after = [logon(h) for _ in range(3)]
    rc, err = h.close()

    answered = sum(f.replies.values())
    print(f"INFO flood: {answered} NEGOTIATEs answered in {seconds:.1f} s ({answered / seconds:.0f}/s): "
          f"{dict(sorted(f.replies.items()))}")
    print(f"INFO ntlmd VmRSS: {before / MIB:.1f} MiB before the flood, {peak / MIB:.1f} MiB at its peak; "
          f"bound {before / MIB + args.rss_growth_mib:.1f} MiB (+{args.rss_growth_mib} MiB)")
    print(f"INFO logons from {CLIENT}: {during} during the flood, {during - len(failures)} succeeded")
    sys.stdout.flush()

    refused = "BH NT_STATUS_INSUFFICIENT_RESOURCES NT_STATUS_INSUFFICIENT_RESOURCES"

    def flood_replies():
        # the cap, once per pending_challenge_lifetime (60 s) the flood lasted
        most = args.cap * (1 + int(seconds // PENDING_LIFETIME))
        granted = f.replies.get("TT", 0)
        if granted < args.cap or granted > most or granted + f.replies.get(refused, 0) != args.count:
            return [f"replies {f.replies} in {seconds:.1f} s"]
        return []

    run.case(f"{args.count} NEGOTIATEs from {FLOODER}: {args.cap} challenges (its limit), then {refused}",
             flood_replies)
    run.case(f"{CLIENT} logs on every time during the flood ({during} logons, at least 10)",
             lambda: failures[:3] + ([] if during >= 10 else [f"only {during} logons"]))
    run.case(f"{CLIENT} logs on after the flood", lambda: [p for a in after for p in a])
    run.case(f"ntlmd's VmRSS grows by less than {args.rss_growth_mib} MiB",
             lambda: [] if peak - before < args.rss_growth_mib * MIB
             else [f"{before / MIB:.1f} MiB before, {peak / MIB:.1f} MiB at the peak"])
    run.case("the client helper exited cleanly", lambda: [] if rc == 0 else [f"exit status {rc}: {err[-200:]}"])

    def logged_once():
        with open(args.log, encoding="utf-8", errors="replace") as log:
            lines = [x for x in log if "challenge refused to uid=" in x]
        want = f"for client address {FLOODER}: it holds {args.cap} unused challenges"
        most = 1 + int(seconds // 60)  # one a minute at most
        return [] if 1 <= len(lines) <= most and want in lines[0] else [f"log lines: {lines[:3]}"]

    def audited():
        ok = refused = 0
        with open(args.log, encoding="utf-8", errors="replace") as log:
            for line in log:
                if "VERIFY success status=STATUS_SUCCESS " in line:
                    ok += 1 if f'client="{CLIENT}"' in line else 0
                elif "CHALLENGE error status=STATUS_INSUFFICIENT_RESOURCES " in line:
                    refused += 1 if f'client="{FLOODER}"' in line else 0
        want = during + len(after) - len(failures)
        most = 1 + int(seconds // 60)  # the refusals are audited with the warning only
        return [] if ok == want and 1 <= refused <= most else \
            [f"{ok} logons from {CLIENT} (of {want}), {refused} refusals naming {FLOODER} audited "
             f"(1 to {most} expected: a flood is not audited line by line)"]

    run.case(f"ntlmd logged the limit once, naming {FLOODER}", logged_once)
    run.case(f"ntlmd's audit lines carry the addresses ({CLIENT} on VERIFY, {FLOODER} on the first refusal "
             "of each minute, not on each of the flood's)", audited)
    print(f"{run.passed} passed, {run.failed} failed")
    return 1 if run.failed else 0


def cli():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("flood")
    p.add_argument("--ntlm-auth", required=True)
    p.add_argument("--socket", required=True)
    p.add_argument("--ntlmd-pid", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--cap", type=int, required=True)
    p.add_argument("--rss-growth-mib", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    return flood(args)


if __name__ == "__main__":
    sys.exit(cli())
