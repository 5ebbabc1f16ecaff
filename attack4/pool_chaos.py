#!/usr/bin/python3
"""attack4/pool_chaos.py SOCKET SLAPD_PID NTLMD_PID ROUNDS COUNT

The store workers' life cycle pushed from outside, ROUNDS times: with the
directory stopped (SIGSTOP), COUNT VERIFYs (right and wrong passwords: the
wrong ones leave lockout write-backs) on COUNT connections; then a third of
the clients hang up (some with a RST), ntlmd reloads twice (SIGHUP) while
the lookups wait, the next third is answered at store_timeout and sends a
second VERIFY (a fresh exchange) on the same connection at once (queued
behind its own abandoned lookup), the last third hangs up after that, and the directory
comes back (SIGCONT). After each round: PING and a fresh directory logon
must work (it is retried every 50 ms for up to 15 s: the time it took
is printed). Prints one line per round; exit 1 when ntlmd stopped answering.
"""
import os
import signal
import socket
import struct
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import ntlmd_driver as nd  # noqa: E402
import ldap_driver as ld  # noqa: E402

USERS = ["lalice", "lhank", "ljane", "lcache", "lmulti", "lkill"]


def main(sock, slapd, ntlmd, rounds, count):
    nd.enable_md4_for_ntlm_auth()
    bad = 0
    for rnd in range(rounds):
        users = [USERS[i % len(USERS)] for i in range(count)]
        frames = [ld.verify_frame(sock, u, ld.password_of(u) if i % 3 else nd.WRONG_PASSWORD)
                  for i, u in enumerate(users)]
        again = [ld.verify_frame(sock, u, ld.password_of(u)) for u in users]
        kept = [nd.Kept(sock, timeout=30) for _ in users]
        os.kill(slapd, signal.SIGSTOP)
        try:
            for k, f in zip(kept, frames):
                k.send(f)
            time.sleep(0.2)
            third = count // 3
            for k in kept[:third:2]:
                k.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            for k in kept[:third]:
                k.close()
            os.kill(ntlmd, signal.SIGHUP)
            time.sleep(0.1)
            os.kill(ntlmd, signal.SIGHUP)
            got = []
            for i, k in enumerate(kept[third:2 * third]):
                try:
                    got.append(k.reply(nd.VERIFY).status)
                    k.send(again[third + i])  # a fresh VERIFY at once: queued behind its own abandoned lookup
                except (nd.Closed, OSError) as e:
                    got.append(f"no reply ({e})")
            for k in kept[2 * third:]:
                k.close()
        finally:
            os.kill(slapd, signal.SIGCONT)
        second = []
        for k in kept[third:2 * third]:
            try:
                second.append(k.reply(nd.VERIFY).status)
            except (nd.Closed, OSError) as e:
                second.append(f"no reply ({e})")
            k.close()
        t0 = time.monotonic()
        after, statuses = None, []
        while time.monotonic() - t0 < 15:
            try:
                after = ld.logon(sock, "lalice", ld.password_of("lalice")).status
            except (nd.Closed, OSError) as e:
                after = f"no answer ({e})"
                break
            statuses.append(after)
            if after == "STATUS_SUCCESS":
                break
            time.sleep(0.05)
        took = time.monotonic() - t0
        try:
            waiting = nd.call(sock, nd.PING).u64(ld.T_STORE_WAITING)
        except (nd.Closed, OSError):
            waiting = None
        refused = sum(1 for x in statuses if x == "STATUS_INSUFFICIENT_RESOURCES")
        print(f"# round {rnd}: at store_timeout {sorted(set(got))}, second VERIFY {sorted(set(second))}, "
              f"then a fresh logon: {after} after {took:.2f} s and {len(statuses)} tries "
              f"({refused} STATUS_INSUFFICIENT_RESOURCES), store_waiting then {waiting}")
        if after != "STATUS_SUCCESS":
            bad += 1
            break
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
