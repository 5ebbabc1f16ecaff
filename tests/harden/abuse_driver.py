#!/usr/bin/python3
"""Named attacks against a running ntlmd (tests/harden/test-abuse-ntlmd.sh).

It reuses tests/lib/ntlmd_driver.py (the independent implementation of
the daemon protocol, its accounts and its python3-ntlm-auth exchanges).

    abuse_driver.py cases --socket S
        drop-the-MIC, replay on a new challenge, anonymous and an oversized
        AUTHENTICATE, each with the status the default service must answer
    abuse_driver.py flood --socket S --seconds N --connections K --report FILE
        (run as an unprivileged user) keeps K idle connections open,
        reopening each one the daemon closes, for N seconds; writes
        "opened C closed D" to FILE
    abuse_driver.py hold --socket S --seconds N --connections K --report FILE
        keeps K idle connections for N seconds (less than read_timeout) and
        writes "held K closed D" to FILE (D: closed by the daemon meanwhile)
    abuse_driver.py probe --socket S
        one PING that must be closed without a reply (every slot is taken)
    abuse_driver.py privileged --socket S --seconds N --bound-ms B
        full NTLM exchanges for N seconds; every request (CHALLENGE, VERIFY)
        must be answered within B ms, and every exchange must succeed
    abuse_driver.py pending-flood --socket S --granted N --extra K
        (run as an allowed, unprivileged user) CHALLENGE requests never
        answered: exactly N are granted (max_pending_challenges_per_uid),
        the next one and K more get STATUS_INSUFFICIENT_RESOURCES
    abuse_driver.py fill-table --socket S --max M --held H
        a full exchange succeeds; then challenges the caller built
        (VERIFY_RESPONSE) fill the table: M - H are taken, the next one, a
        CHALLENGE and a VERIFY get STATUS_INSUFFICIENT_RESOURCES, and PING
        reports M challenges
    abuse_driver.py late-replay --socket S --service SVC --skew K
        caller-built NTLMv2 exchanges whose client timestamp runs K - 0.5 s
        ahead (service SVC has max_clock_skew K, challenge_lifetime is 1):
        a replay after lifetime + skew seconds, while the acceptor would
        still take the timestamp, is refused by the table
        (STATUS_NTLM_CHALLENGE_EXPIRED); after 2 * skew + 5 s a replay is
        refused by the timestamp check (STATUS_TIME_DIFFERENCE_AT_DC).
        K must exceed 3 (the first replay comes lifetime + K + 1.6 s late)

Each command prints "PASS name" / "FAIL name: why" lines and
"N passed, M failed"; it exits 1 when a case failed.
"""

import argparse
import os
import socket
import struct
import sys
import time

import ntlmd_driver as d  # tests/lib, on PYTHONPATH (tests/Makefile.am, tests/testlib.sh)

NTLM_MAX_MESSAGE = 2888  # libntlm's cap on one NTLM message (HACKING.md)
AV_FLAGS, AV_EOL = 6, 0
AVFLAG_MIC_PRESENT = 0x2
MIC_OFFSET = 72  # MS-NLMP 2.2.1.3: after the 64-byte header and VERSION


def nt_response_bounds(auth):
    """(offset, length) of the NtChallengeResponse security buffer."""
    length, _max, offset = struct.unpack_from("<HHI", auth, 20)
    return offset, length


def clear_mic_bit(auth):
    """The AUTHENTICATE with MsvAvFlags MIC_PRESENT cleared in the NTLMv2
    blob (AV pairs from byte 44 of the response, MS-NLMP 2.2.2.7)."""
    off, n = nt_response_bounds(auth)
    out = bytearray(auth)
    pos, end = off + 44, off + n
    while pos + 4 <= end:
        av_id, av_len = struct.unpack_from("<HH", out, pos)
        if av_id == AV_EOL:
            break
        if av_id == AV_FLAGS:
            flags = struct.unpack_from("<I", out, pos + 4)[0]
            struct.pack_into("<I", out, pos + 4, flags & ~AVFLAG_MIC_PRESENT)
            return bytes(out)
        pos += 4 + av_len
    raise ValueError("no MsvAvFlags in the NTLMv2 response")


def zero_mic(auth):
    return auth[:MIC_OFFSET] + bytes(16) + auth[MIC_OFFSET + 16:]


def anonymous_authenticate():
    """A null session (MS-NLMP 3.2.5.1.2): empty user, NT response empty,
    LM response Z(1); UNICODE | NTLM | ANONYMOUS, no VERSION."""
    flags = 0x00000001 | 0x00000200 | 0x00000800
    payload = 64
    bufs = [(1, payload), (0, payload + 1), (0, payload + 1), (0, payload + 1), (0, payload + 1),
            (0, payload + 1)]
    head = b"NTLMSSP\0" + struct.pack("<I", 3)
    head += b"".join(struct.pack("<HHI", n, n, o) for n, o in bufs)
    head += struct.pack("<I", flags)
    return head + b"\0"


def cases(args):
    sock = args.socket
    run = d.Runner()
    alice = d.ACCOUNTS["alice"]
    d.enable_md4_for_ntlm_auth()

    def exchange():
        return d.ntlm_auth_exchange(sock, "alice", alice.password)

    def baseline():
        return d.expect(exchange().verify(), "STATUS_SUCCESS", mic="valid")

    run.case("baseline: ntlm-auth NTLMv2 with MIC accepted", baseline)

    def drop_mic_zeroed():
        ex = exchange()
        ex.authenticate = zero_mic(ex.authenticate)
        return d.expect(ex.verify(), "STATUS_NTLM_MIC_INVALID", key=False)

    run.case("drop-the-MIC: MIC zeroed, MsvAvFlags kept", drop_mic_zeroed)

    def drop_mic_and_bit():
        ex = exchange()
        ex.authenticate = clear_mic_bit(zero_mic(ex.authenticate))
        return d.expect(ex.verify(), "STATUS_WRONG_PASSWORD", key=False)

    run.case("drop-the-MIC: MIC zeroed and the MsvAvFlags MIC bit cleared", drop_mic_and_bit)

    def replay_new_challenge():
        first = exchange()
        problems = [f"first: {p}" for p in d.expect(first.verify(), "STATUS_SUCCESS")]
        # a new exchange: the captured AUTHENTICATE answers ntlmd's new challenge
        second = exchange()
        second.authenticate = first.authenticate
        second.negotiate = first.negotiate
        return problems + [f"replay: {p}" for p in d.expect(second.verify(), "STATUS_NTLM_CHALLENGE_MISMATCH",
                                                             key=False)]

    run.case("replay of an AUTHENTICATE on a new challenge", replay_new_challenge)

    def anonymous():
        ex = exchange()
        ex.authenticate = anonymous_authenticate()
        return d.expect(ex.verify(), "STATUS_NTLM_ANONYMOUS_REFUSED", key=False)

    run.case("anonymous logon with anonymous off", anonymous)

    def oversized():
        ex = exchange()
        ex.authenticate = ex.authenticate + bytes(NTLM_MAX_MESSAGE + 1 - len(ex.authenticate))
        return d.expect(ex.verify(), "STATUS_NTLM_MESSAGE_TOO_LONG", key=False)

    run.case(f"oversized AUTHENTICATE ({NTLM_MAX_MESSAGE + 1} bytes)", oversized)
    return run.finish()


def flood(args):
    """Idle connections, reopened as soon as the daemon closes them."""
    deadline = time.monotonic() + args.seconds
    conns, opened, closed = [], 0, 0
    while time.monotonic() < deadline:
        while len(conns) < args.connections:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(args.socket)
            except (BlockingIOError, ConnectionRefusedError, OSError):
                s.close()
                break
            conns.append(s)
            opened += 1
        alive = []
        for s in conns:
            try:
                if s.recv(1) == b"":  # closed by the daemon
                    s.close()
                    closed += 1
                    continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                closed += 1
                continue
            alive.append(s)
        conns = alive
        time.sleep(0.005)
    for s in conns:
        s.close()
    with open(args.report, "w") as f:
        f.write(f"opened {opened} closed {closed}\n")
    return 0


def hold(args):
    conns = [d.connect(args.socket) for _ in range(args.connections)]
    for s in conns:
        s.setblocking(False)
    closed = set()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        for i, s in enumerate(conns):
            try:
                if s.recv(1) == b"":
                    closed.add(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.add(i)
        time.sleep(0.01)
    for s in conns:
        s.close()
    with open(args.report, "w") as f:
        f.write(f"held {len(conns)} closed {len(closed)}\n")
    return 0


def probe(args):
    run = d.Runner()
    run.case(f"uid {os.getuid()}: with every slot held by root, a PING is closed without a reply",
             lambda: [] if d.closed_without_reply(args.socket, d.frame(d.PING)) else ["the daemon answered"])
    return run.finish()


def privileged(args):
    run = d.Runner()
    alice = d.ACCOUNTS["alice"]
    d.enable_md4_for_ntlm_auth()
    latencies, failures = [], []
    deadline = time.monotonic() + args.seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        try:
            t0 = time.monotonic()
            ex = d.ntlm_auth_exchange(args.socket, "alice", alice.password)
            t1 = time.monotonic()
            r = ex.verify()
            t2 = time.monotonic()
        except Exception as e:  # refused, closed or timed out
            failures.append(f"exchange {n}: {type(e).__name__}: {e}")
            continue
        # the CHALLENGE time includes the client's NEGOTIATE, the VERIFY time
        # the client's AUTHENTICATE is already built: both are daemon round trips
        latencies += [t1 - t0, t2 - t1]
        if r.status != "STATUS_SUCCESS":
            failures.append(f"exchange {n}: {r.status}")
    latencies.sort()
    worst = latencies[-1] * 1000 if latencies else float("inf")
    median = latencies[len(latencies) // 2] * 1000 if latencies else float("inf")

    def all_served():
        return failures[:3] + ([f"{len(failures)} of {n} exchanges failed"] if failures else [])

    def bounded():
        return [] if worst <= args.bound_ms else [f"slowest request {worst:.0f} ms"]

    run.case(f"privileged caller under the flood: {n} exchanges, all succeed", all_served)
    run.case(f"privileged caller under the flood: every request within {args.bound_ms} ms "
             f"(median {median:.1f} ms, max {worst:.1f} ms)", bounded)
    return run.finish()


def pending_flood(args):
    """CHALLENGE after CHALLENGE on one connection, none answered."""
    run = d.Runner()
    conn = d.Kept(args.socket)
    statuses = []
    try:
        for _ in range(args.granted + 1 + args.extra):
            statuses.append(conn.call(d.CHALLENGE).status)
    finally:
        conn.close()
    granted = statuses.count("STATUS_SUCCESS")

    def capped():
        problems = []
        if statuses[: args.granted] != ["STATUS_SUCCESS"] * args.granted:
            problems.append(f"only {granted} of the first {args.granted} granted")
        rest = set(statuses[args.granted :])
        if rest != {"STATUS_INSUFFICIENT_RESOURCES"}:
            problems.append(f"past the cap: {sorted(rest)}")
        return problems

    run.case(f"uid {os.getuid()}: {args.granted} unused challenges granted, the next {1 + args.extra} "
             f"refused with STATUS_INSUFFICIENT_RESOURCES", capped)
    return run.finish()


FOREIGN_FIELDS = [(d.T_USER, "alice"), (d.T_DOMAIN, d.DOMAIN)]


def verify_response_foreign(sock):
    """One challenge the caller built, answered (wrongly): it is used and
    remembered whatever the verdict."""
    return d.call(sock, d.VERIFY_RESPONSE, FOREIGN_FIELDS + [
        (d.T_SERVER_CHALLENGE, os.urandom(8)), (d.T_NT_RESPONSE, os.urandom(24))])


def fill_table(args):
    run = d.Runner()
    alice = d.ACCOUNTS["alice"]
    d.enable_md4_for_ntlm_auth()

    run.case("root gets a challenge and logs on while nobody is at its cap",
             lambda: d.expect(d.ntlm_auth_exchange(args.socket, "alice", alice.password).verify(),
                              "STATUS_SUCCESS"))
    filled, last = 0, None
    conn = d.Kept(args.socket)  # one connection: quick under valgrind too
    try:
        while filled <= args.max:
            last = conn.call(d.VERIFY_RESPONSE, FOREIGN_FIELDS + [
                (d.T_SERVER_CHALLENGE, os.urandom(8)), (d.T_NT_RESPONSE, os.urandom(24))]).status
            if last == "STATUS_INSUFFICIENT_RESOURCES":
                break
            filled += 1
    finally:
        conn.close()
    want = args.max - args.held

    run.case(f"the table takes {want} challenges the caller built, then refuses one with "
             f"STATUS_INSUFFICIENT_RESOURCES",
             lambda: ([] if filled == want else [f"{filled} taken"]) +
                     ([] if last == "STATUS_INSUFFICIENT_RESOURCES" else [f"last status {last}"]))

    def challenge_refused():
        r = d.call(args.socket, d.CHALLENGE)
        return d.expect(r, "STATUS_INSUFFICIENT_RESOURCES")

    run.case("a full table: CHALLENGE refused with STATUS_INSUFFICIENT_RESOURCES", challenge_refused)

    def verify_refused():
        return d.expect(verify_response_foreign(args.socket), "STATUS_INSUFFICIENT_RESOURCES")

    run.case("a full table: a challenge the caller built refused with STATUS_INSUFFICIENT_RESOURCES",
             verify_refused)

    def ping_counts():
        r = d.call(args.socket, d.PING)
        n = r.u64(77)  # NTLMD_TAG_CHALLENGES
        return [] if n == args.max else [f"PING reports {n} challenges"]

    run.case(f"PING reports {args.max} challenges held", ping_counts)
    return run.finish()


AV_TIMESTAMP = 7  # MS-NLMP 2.2.2.1 MsvAvTimestamp
FILETIME_UNIX_EPOCH = 116444736000000000  # MS-DTYP 2.3.3
TARGET_INFO_FIELDS = 40  # MS-NLMP 2.2.1.2: TargetInfoFields of the CHALLENGE


def shifted_challenge(seconds):
    """A CHALLENGE transform: a server challenge ntlmd never issued (the
    caller built it) whose MsvAvTimestamp runs the given seconds ahead; an
    NTLMv2 client puts that timestamp in its response (MS-NLMP 3.1.5.1.2)."""

    def alter(chal):
        out = bytearray(d.foreign(chal))
        _n, _max, off = struct.unpack_from("<HHI", out, TARGET_INFO_FIELDS)
        pos = off
        while pos + 4 <= len(out):
            av_id, av_len = struct.unpack_from("<HH", out, pos)
            if av_id == AV_EOL:
                break
            if av_id == AV_TIMESTAMP:
                ft = FILETIME_UNIX_EPOCH + int((time.time() + seconds) * 10_000_000)
                struct.pack_into("<Q", out, pos + 4, ft)
                return bytes(out)
            pos += 4 + av_len
        raise ValueError("no MsvAvTimestamp in the CHALLENGE")

    return alter


def late_replay(args):
    run = d.Runner()
    alice = d.ACCOUNTS["alice"]
    d.enable_md4_for_ntlm_auth()
    ahead = args.skew - 0.5
    t0 = time.monotonic()
    # a: verified now, replayed after lifetime + skew; b: verified now,
    # replayed once past the acceptor's window; c: first verified late
    exs = [d.ntlm_auth_exchange(args.socket, "alice", alice.password, service=args.service,
                                alter_challenge=shifted_challenge(ahead)) for _ in range(3)]
    a, b, c = exs

    # b first: it sits before a in the table, so it is dropped on time
    run.case(f"caller-built NTLMv2 exchanges {ahead:.1f} s ahead accepted (skew {args.skew} s)",
             lambda: d.expect(b.verify(), "STATUS_SUCCESS") + d.expect(a.verify(), "STATUS_SUCCESS"))
    # past lifetime + skew, and the second the table may round up
    time.sleep(max(0.0, t0 + 1 + args.skew + 1.6 - time.monotonic()))
    run.case("the acceptor alone still takes that timestamp after lifetime + skew (a first use)",
             lambda: d.expect(c.verify(), "STATUS_SUCCESS"))
    run.case("a replay after lifetime + skew is refused by the table (used challenges are kept "
             "2 * max_clock_skew)", lambda: d.expect(a.verify(), "STATUS_NTLM_CHALLENGE_EXPIRED"))
    time.sleep(max(0.0, t0 + 2 * args.skew + 5 - time.monotonic()))
    run.case("a replay past 2 * skew is refused by the timestamp check",
             lambda: d.expect(b.verify(), "STATUS_TIME_DIFFERENCE_AT_DC"))
    return run.finish()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cases")
    c.add_argument("--socket", required=True)
    f = sub.add_parser("flood")
    f.add_argument("--socket", required=True)
    f.add_argument("--seconds", type=float, required=True)
    f.add_argument("--connections", type=int, required=True)
    f.add_argument("--report", required=True)
    h = sub.add_parser("hold")
    h.add_argument("--socket", required=True)
    h.add_argument("--seconds", type=float, required=True)
    h.add_argument("--connections", type=int, required=True)
    h.add_argument("--report", required=True)
    r = sub.add_parser("probe")
    r.add_argument("--socket", required=True)
    v = sub.add_parser("privileged")
    v.add_argument("--socket", required=True)
    v.add_argument("--seconds", type=float, required=True)
    v.add_argument("--bound-ms", type=float, required=True)
    pf = sub.add_parser("pending-flood")
    pf.add_argument("--socket", required=True)
    pf.add_argument("--granted", type=int, required=True)
    pf.add_argument("--extra", type=int, required=True)
    ft = sub.add_parser("fill-table")
    ft.add_argument("--socket", required=True)
    ft.add_argument("--max", type=int, required=True)
    ft.add_argument("--held", type=int, required=True)
    lr = sub.add_parser("late-replay")
    lr.add_argument("--socket", required=True)
    lr.add_argument("--service", required=True)
    lr.add_argument("--skew", type=int, required=True)
    args = p.parse_args()
    return {"cases": cases, "flood": flood, "hold": hold, "probe": probe, "privileged": privileged,
            "pending-flood": pending_flood, "fill-table": fill_table,
            "late-replay": late_replay}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
