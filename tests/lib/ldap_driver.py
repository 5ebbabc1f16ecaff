#!/usr/bin/python3
"""The ldap backend's test cases, through a running ntlmd (its socket) and a
real slapd that test-ldap.sh starts. The protocol and the NTLM clients are
those of tests/lib/ntlmd_driver.py.

    ldap_driver.py ldif SUFFIX BINDPW             the test entries (LDIF) on stdout
    ldap_driver.py user-ldif SUFFIX USER          one user's entry (LDIF) on stdout
    ldap_driver.py files FILE                     the files backend's accounts (smbpasswd)
    ldap_driver.py expect --socket S [--domain D] [--within SECONDS] [--at-least SECONDS] CASE...
        CASE is USER=STATUS (the user's password) or USER/wrong=STATUS; each
        logon takes at most --within, at least --at-least seconds (both
        measured, and then printed in the case line)
    ldap_driver.py stream --socket S --count N --kill PID --at K USER
        N logons of USER; PID is killed (SIGKILL) before logon K: all succeed
    ldap_driver.py concurrent --socket S --count N --slapd PID --then cont|hang|kill|reload
            [--kill PID] [--daemon PID] [--store-timeout SECONDS] [--workers N]
        N VERIFYs of directory users sent at once on N connections while
        slapd PID is stopped (SIGSTOP); while they wait, PING, CHALLENGE and
        a files user's VERIFY and CHECK_PASSWORD are answered, and no
        directory VERIFY is. Then: cont (SIGCONT: all succeed), hang (all
        answered STATUS_NO_LOGON_SERVERS at store_timeout, the N - --workers
        queued calls taken off the queue then (STORE_CANCELLED); after
        SIGCONT the running ones' late answers are dropped and counted, and
        a logon works again),
        kill (the --kill PID, the first server, is killed: all succeed on
        the second), reload (SIGHUP to --daemon PID while they wait, then
        SIGCONT: all succeed, then a new logon)
    ldap_driver.py share --socket S --slapd PID --max-connections N
        one uid's share of the queue (N / 2 waiting; ntlmd with one store
        worker, cache_ttl, lockout_writeback, store_timeout 3 s) with slapd
        stopped: full, one more lookup is refused; the wrong passwords of
        a cached account still get their write-backs queued (none dropped,
        but the one past max_connections pending);
        the queued lookups whose clients hang up, then those answered at
        store_timeout, leave the queue at once: a fresh lookup waits
        instead of being refused; SIGCONT: they succeed
    ldap_driver.py change --socket S USER         CHANGE_PASSWORD to the user's new password
    ldap_driver.py identity --socket S [--threshold N]
        spaced and cased spellings verify as the entry's own account, and
        share one lockout counter
    ldap_driver.py twin --socket S --mode ambiguous|domains [--files-domain D] [--ldap-domain D]
        a name both stores hold: refused as ambiguous in one domain; in two,
        two accounts, each changed and group-checked as itself
    ldap_driver.py nthash USER [new]              the NT hash (hex) of the user's password
    ldap_driver.py nthash-stdin                   the NT hash (hex) of the password on stdin
    ldap_driver.py helper USER -- NTLM_AUTH ARGV...
        one squid-2.5-ntlmssp handshake of USER (python3-ntlm-auth) with
        ntlm_auth; prints the helper's last reply line

Each command prints "PASS name" / "FAIL name: why" lines and a final
"N passed, M failed" (but ldif, files and nthash); it exits 1 when a case
failed.
"""

import argparse
import os
import select
import signal
import sys
import time

import ntlmd_driver as nd  # the protocol, the clients, Runner, expect (tests/lib, on PYTHONPATH)
from ntlmd_driver import DOMAIN, WRONG_PASSWORD, nt_hash

NOW = int(time.time())
SID = "S-1-5-21-1111111111-2222222222-3333333333"

# user: (password, extra attributes); uidNumber from 3000 in this order
USERS = {
    "lalice": ("Lalice-pass1", {"sambaAcctFlags": "[UX         ]", "sambaPrimaryGroupSID": f"{SID}-513"}),
    "lbob": ("Lbob-pass2", {"sambaAcctFlags": "[DU         ]"}),
    "lcarol": ("Lcarol-pass3", {"sambaAcctFlags": "[LU         ]"}),
    "ldave": ("Ldave-pass4", {"sambaKickoffTime": str(NOW - 3600)}),
    "lerin": ("Lerin-pass5", {"sambaPwdLastSet": "0"}),
    "lfrank": ("Lfrank-pass6", {"sambaPwdLastSet": str(NOW - 7200), "sambaPwdMustChange": str(NOW - 60)}),
    "lgina": ("Lgina-pass7", {"sambaLogonHours": "0" * 42}),
    "lhank": ("Lhank-pass8", {"sambaLogonHours": "F" * 42}),
    "livan": ("Livan-pass9", {"sambaUserWorkstations": "OTHERPC,ELSEWHERE"}),
    "ljane": ("Ljane-pass10", {"sambaUserWorkstations": "OTHERPC, client1"}),
    "lkim": ("Lkim-pass11", {"sambaAcctFlags": "[W          ]"}),
    "lleo": ("Lleo-pass12", {"sambaNTPassword": None}),
    "lmia": ("Lmia-pass13", {"sambaPwdMustChange": str(NOW + 86400 * 30)}),
    "lshort": ("Lshort-pass14", {"sambaNTPassword": "0123456789ABCDEF0123456789ABCD"}),
    "lnothex": ("Lnothex-pass15", {"sambaNTPassword": "Z" * 32}),
    "lflags": ("Lflags-pass16", {"sambaAcctFlags": "UX"}),
    "lcache": ("Lcache-pass17", {}),
    "lzed": ("Lzed-pass19", {}),  # added while ntlmd runs (negative cache)
    "lspell": ("Lspell-pass21", {}),  # lockout under spellings the directory matches alike
    "ltwin": ("Ltwin-pass22", {}),  # also in the files store, with another password
    # test-multihost.sh: lockout across two ntlmd and two providers
    "lmulti": ("Lmulti-pass25", {}),
    "lfail": ("Lfail-pass26", {}),
    "lkill": ("Lkill-pass27", {}),
    "lreplay": ("Lreplay-pass28", {}),
    "lrace": ("Lrace-pass29", {}),
    "lspelled": ("Lspelled-pass30", {}),  # its own lock hidden behind another spelling's cache entry
    "ltime": ("Ltime-pass31", {}),  # an L with a sambaBadPasswordTime past any sum
    "lflood": ("Lflood-pass32", {}),  # write-backs behind its caller's own flood of lookups
}
LATE_USERS = {"lzed"}
FILES_USERS = {"falice": ("Falice-pass1", "[UX         ]"), "ltwin": ("Ftwin-pass23", "[UX         ]")}
NEW_PASSWORDS = {"lmia": "Lmia-new-pass18", "ltwin": "Ftwin-new-pass24"}


def password_of(user):
    # " lspelled" and "LSPELLED" are the account lspelled to the
    # directory (uid matching ignores case and surrounding blanks)
    if user not in USERS and user.strip().lower() in USERS:
        user = user.strip().lower()
    if user in USERS:
        return USERS[user][0]
    if user in FILES_USERS:
        return FILES_USERS[user][0]
    return "Unknown-pass0"


def user_ldif(suffix, i, user, password, extra):
    attrs = {"sambaNTPassword": nt_hash(password).hex().upper(), "sambaAcctFlags": "[U          ]",
             "sambaPwdLastSet": str(NOW - 100)}
    attrs.update(extra)
    lines = [f"dn: uid={user},ou=people,{suffix}", "objectClass: account", "objectClass: posixAccount",
             "objectClass: sambaSamAccount", f"uid: {user}", f"cn: {user}", f"uidNumber: {3000 + i}",
             "gidNumber: 3000", f"homeDirectory: /home/{user}", f"sambaSID: {SID}-{3000 + 2 * i}"]
    lines += [f"{k}: {v}" for k, v in attrs.items() if v is not None]
    return "\n".join(lines) + "\n"


def ldif(suffix, bindpw):
    dc = suffix.split(",")[0].split("=")[1]
    out = [f"dn: {suffix}\nobjectClass: dcObject\nobjectClass: organization\no: {dc}\ndc: {dc}\n",
           f"dn: sambaDomainName={DOMAIN},{suffix}\nobjectClass: sambaDomain\nsambaDomainName: {DOMAIN}\n"
           f"sambaSID: {SID}\n",
           f"dn: ou=people,{suffix}\nobjectClass: organizationalUnit\nou: people\n"]
    for who in ("reader", "ntlmd"):
        out.append(f"dn: cn={who},{suffix}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
                   f"cn: {who}\nuserPassword: {bindpw}\n")
    for i, (user, (password, extra)) in enumerate(USERS.items()):
        if user in LATE_USERS:
            continue
        out.append(user_ldif(suffix, i, user, password, extra))
    # "ldup" twice under the base: ambiguous, refused
    out.append(f"dn: ou=extra,ou=people,{suffix}\nobjectClass: organizationalUnit\nou: extra\n")
    for n, ou in enumerate(("ou=people", "ou=extra,ou=people")):
        out.append(user_ldif(f"{suffix}", 90 + n, "ldup", "Ldup-pass20", {}).replace(
            "ou=people,", f"{ou},", 1))
    out.append(groups_ldif(suffix))
    return "\n".join(out)


def groups_ldif(suffix):
    """The group search's entries: a posixGroup (memberUid, one of them in
    capitals and one a user of the files store), a groupOfNames (member
    DNs, spelled with blanks and capitals, as directories hold them) and a
    posixGroup with Samba's sambaGroupMapping (found by its sambaSID)."""
    return (f"dn: ou=groups,{suffix}\nobjectClass: organizationalUnit\nou: groups\n\n"
            f"dn: cn=webusers,ou=groups,{suffix}\nobjectClass: posixGroup\ncn: webusers\ngidNumber: 4000\n"
            "memberUid: lalice\nmemberUid: LHANK\nmemberUid: falice\n\n"
            f"dn: cn=webadmins,ou=groups,{suffix}\nobjectClass: groupOfNames\ncn: webadmins\n"
            f"member: UID=ljane, ou=people,{suffix}\nmember: cn=ntlmd,{suffix}\n\n"
            f"dn: cn=twins,ou=groups,{suffix}\nobjectClass: groupOfNames\ncn: twins\n"
            f"member: uid=ltwin,ou=people,{suffix}\n\n"
            f"dn: cn=sidgroup,ou=groups,{suffix}\nobjectClass: posixGroup\nobjectClass: sambaGroupMapping\n"
            f"cn: sidgroup\ngidNumber: 4100\nsambaSID: {SID}-5001\nsambaGroupType: 2\n"
            "memberUid: lalice\nmemberUid: falice\n")


def write_files(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for i, (user, (password, flags)) in enumerate(FILES_USERS.items()):
            f.write(f"{user}:{2000 + i}:{'X' * 32}:{nt_hash(password).hex().upper()}:{flags}:"
                    f"LCT-{NOW:08X}:\n")


def cmd_helper(args):
    """YR / KK with the helper, the client's messages from python3-ntlm-auth."""
    import base64
    import subprocess

    from ntlm_auth.ntlm import NtlmContext

    nd.enable_md4_for_ntlm_auth()
    ctx = NtlmContext(args.user, password_of(args.user), domain=DOMAIN, workstation="CLIENT1",
                      ntlm_compatibility=3)
    proc = subprocess.Popen(args.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = ""
    try:
        proc.stdin.write("YR " + base64.b64encode(ctx.step()).decode() + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline().strip()
        if line.startswith("TT "):
            auth = ctx.step(base64.b64decode(line.split()[1]))
            proc.stdin.write("KK " + base64.b64encode(auth).decode() + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    print(line)
    return 0


def logon(sock, user, password, domain=DOMAIN):
    return nd.ntlm_auth_exchange(sock, user, password, domain=domain).verify()


def cmd_expect(args):
    run = nd.Runner()
    nd.enable_md4_for_ntlm_auth()
    for case in args.cases:
        who, status = case.split("=", 1)
        user, _, variant = who.partition("/")
        password = WRONG_PASSWORD if variant == "wrong" else password_of(user)

        def f(user=user, password=password, status=status):
            start = time.monotonic()
            problems = nd.expect(logon(args.socket, user, password, args.domain), status)
            took = time.monotonic() - start
            if args.within and took > args.within:
                problems.append(f"took {took:.3f} s, over {args.within} s")
            if args.at_least and took < args.at_least:
                problems.append(f"took {took:.3f} s, under {args.at_least} s")
            if args.within or args.at_least:
                print(f"# {args.label}{who}: {took * 1000:.1f} ms")
            return problems

        run.case(f"{args.label}{who} in {args.domain} -> {status}", f)
    return run.finish()


def cmd_replay(args):
    """An AUTHENTICATE answered by one ntlmd (which issued its challenge),
    sent again to the other: it never issued that challenge."""
    run = nd.Runner()
    nd.enable_md4_for_ntlm_auth()

    def f():
        ex = nd.ntlm_auth_exchange(args.socket, args.user, password_of(args.user))
        first = ex.verify()
        ex.sock = args.other
        second = ex.verify()
        third = ex.verify()
        print(f"# replay on the other host: {second.status}, again: {third.status}")
        key = args.status == "STATUS_SUCCESS"
        return [f"first: {p}" for p in nd.expect(first, "STATUS_SUCCESS")] + [
            f"other host: {p}" for p in nd.expect(second, args.status, key=key)] + [
            f"other host again: {p}" for p in nd.expect(third, "STATUS_NTLM_CHALLENGE_EXPIRED", key=False)]

    run.case(f"AUTHENTICATE replayed to the other host -> {args.status}, "
             "then STATUS_NTLM_CHALLENGE_EXPIRED there", f)
    return run.finish()


def cmd_stream(args):
    run = nd.Runner()
    nd.enable_md4_for_ntlm_auth()
    bad = []
    for i in range(args.count):
        if i == args.at:
            os.kill(args.kill, signal.SIGKILL)
        r = logon(args.socket, args.user, password_of(args.user))
        if r.status != "STATUS_SUCCESS":
            bad.append(f"logon {i}: {r.status}")
    run.case(f"{args.count} logons of {args.user}, the first server killed before logon {args.at}: "
             "every one succeeds", lambda: bad)
    return run.finish()


# PING's counters of the store workers (docs/PROTOCOL.md)
T_STORE_WAITING, T_STORE_CALLS, T_STORE_TIMEOUTS, T_LATE_ANSWERS = 79, 80, 81, 82
T_WRITEBACKS, T_WRITEBACKS_DROPPED, T_STORE_CANCELLED = 83, 84, 85
STATS, T_STORE_BUSY = 10, 101
CONCURRENT_USERS = ["lalice", "lhank", "ljane", "lcache"]


def verify_frame(sock, user, password):
    """A VERIFY of user's exchange (with ntlmd's CHALLENGE), ready to send."""
    ex = nd.ntlm_auth_exchange(sock, user, password)
    return nd.frame(nd.VERIFY, [(nd.T_SERVICE, ex.service), (nd.T_NEGOTIATE, ex.negotiate),
                                (nd.T_CHALLENGE, ex.challenge), (nd.T_AUTHENTICATE, ex.authenticate)])


def ping(sock):
    return nd.call(sock, nd.PING)


def challenge(sock):
    """A CHALLENGE for a fresh NEGOTIATE (python3-ntlm-auth)."""
    from ntlm_auth.ntlm import NtlmContext

    ctx = NtlmContext("falice", password_of("falice"), domain=DOMAIN, ntlm_compatibility=3)
    return nd.call(sock, nd.CHALLENGE, [(nd.T_NEGOTIATE, ctx.step())])


def wait_counter(sock, tag, want, seconds, down=False):
    """PING until counter tag reaches want (down: falls to want): its last value."""
    deadline = time.monotonic() + seconds
    got = ping(sock).u64(tag)
    while got is not None and (got > want if down else got < want) and time.monotonic() < deadline:
        time.sleep(0.05)
        got = ping(sock).u64(tag)
    return got


def read_replies(kept):
    out = []
    for k in kept:
        try:
            out.append(k.reply(nd.VERIFY).status)
        except (nd.Closed, OSError) as e:
            out.append(f"no reply ({e})")
    return out


def cmd_concurrent(args):
    """Many directory lookups outstanding while the loop serves the rest."""
    run = nd.Runner()
    nd.enable_md4_for_ntlm_auth()
    users = [CONCURRENT_USERS[i % len(CONCURRENT_USERS)] for i in range(args.count)]
    frames = [verify_frame(args.socket, u, password_of(u)) for u in users]
    kept = [nd.Kept(args.socket, timeout=60) for _ in users]
    nd.freeze(args.slapd)
    stopped = True
    try:
        t0 = time.monotonic()
        for k, f in zip(kept, frames):
            k.send(f)
        waiting = wait_counter(args.socket, T_STORE_WAITING, args.count, 5)
        run.case(f"{args.count} directory VERIFYs sent with slapd stopped: all wait for a store worker",
                 lambda: [] if waiting == args.count else [f"PING says {waiting} waiting"])

        def others():
            p = []
            for name, fn, status in (
                    ("PING", lambda: ping(args.socket), "STATUS_SUCCESS"),
                    ("CHALLENGE", lambda: challenge(args.socket), "STATUS_SUCCESS"),
                    ("files VERIFY", lambda: logon(args.socket, "falice", password_of("falice")),
                     "STATUS_SUCCESS"),
                    ("files CHECK_PASSWORD", lambda: nd.call(args.socket, nd.CHECK_PASSWORD, [
                        (nd.T_USER, "falice"), (nd.T_PASSWORD, password_of("falice"))]), "STATUS_SUCCESS")):
                start = time.monotonic()
                r = fn()
                took = time.monotonic() - start
                print(f"# while {args.count} directory lookups wait: {name}: {took * 1000:.1f} ms")
                p += [f"{name}: {x}" for x in nd.expect(r, status)]
            answered = [i for i, k in enumerate(kept) if select.select([k.sock], [], [], 0)[0]]
            if answered:
                p.append(f"directory VERIFYs answered meanwhile: {answered} "
                         f"(slapd {args.slapd}: {process_state(args.slapd)})")
            return p

        run.case("while they wait: PING, CHALLENGE, a files user's VERIFY and CHECK_PASSWORD are answered, "
                 "no directory VERIFY is", others)
        if args.then == "hang":
            got = read_replies(kept)
            took = time.monotonic() - t0
            run.case(f"the directory hung: every waiting VERIFY is answered STATUS_NO_LOGON_SERVERS at "
                     f"store_timeout ({args.store_timeout} s)",
                     lambda: [f"{i}: {g}" for i, g in enumerate(got) if g != "STATUS_NO_LOGON_SERVERS"] +
                     ([f"after {took:.2f} s"] if not args.store_timeout - 0.2 <= took <= args.store_timeout + 2
                      else []))
            print(f"# answered after {took * 1000:.0f} ms")
            timeouts = ping(args.socket).u64(T_STORE_TIMEOUTS)
            run.case("PING counts them as store timeouts",
                     lambda: [] if timeouts == args.count else [f"store timeouts {timeouts}"])
            if args.workers is not None:
                queued = args.count - args.workers
                cancelled = ping(args.socket).u64(T_STORE_CANCELLED)
                run.case(f"the {queued} calls no worker took are taken off the queue at store_timeout "
                         f"(STORE_CANCELLED)",
                         lambda: [] if cancelled == queued else [f"store cancelled {cancelled}"])
        if args.then == "kill":
            os.kill(args.kill, signal.SIGKILL)
        if args.then == "reload":
            os.kill(args.daemon, signal.SIGHUP)
            time.sleep(0.3)
            r = ping(args.socket)
            run.case("SIGHUP while they wait: ntlmd answers PING", lambda: nd.expect(r, "STATUS_SUCCESS"))
        if args.then != "kill":
            os.kill(args.slapd, signal.SIGCONT)
            stopped = False
        if args.then in ("cont", "kill", "reload"):
            got = read_replies(kept)
            run.case(f"then ({args.then}): every directory VERIFY succeeds",
                     lambda: [f"{i} ({users[i]}): {g}" for i, g in enumerate(got) if g != "STATUS_SUCCESS"])
        if args.then == "hang":
            running = args.count if args.workers is None else min(args.workers, args.count)
            late = wait_counter(args.socket, T_LATE_ANSWERS, running, 15)
            run.case(f"after SIGCONT the late answers of the {running} running calls come back: dropped and "
                     f"counted", lambda: [] if late == running else [f"late answers {late}"])
        run.case(f"after {args.then}: a directory logon works",
                 lambda: nd.expect(logon(args.socket, "lalice", password_of("lalice")), "STATUS_SUCCESS"))
    finally:
        resume_and_close(args.slapd if stopped else None, kept)
    return run.finish()


def resume_and_close(slapd, kept):
    """The end of a case that stopped slapd: slapd (a pid; None: not
    stopped) goes on, the kept connections are closed."""
    if slapd is not None:
        try:
            os.kill(slapd, signal.SIGCONT)
        except ProcessLookupError:
            pass
    for k in kept:
        k.close()


def process_state(pid):
    """The state letter of pid's /proc stat (T: stopped), for a failure's message."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError as e:
        return f"unknown ({e.strerror})"


def flood(sock, count):
    """count directory VERIFYs of names no store holds, sent on count
    connections (slapd stopped: they wait); the connections."""
    frames = [verify_frame(sock, f"lnobody{i}", "x") for i in range(count)]
    kept = [nd.Kept(sock, timeout=60) for _ in frames]
    busy = nd.call(sock, STATS).u64(T_STORE_BUSY)
    # the first runs (a worker took it) before the others queue
    kept[0].send(frames[0])
    deadline = time.monotonic() + 5
    while nd.call(sock, STATS).u64(T_STORE_BUSY) == busy and time.monotonic() < deadline:
        time.sleep(0.02)
    for k, f in zip(kept[1:], frames[1:]):
        k.send(f)
    return kept


def answered_now(k):
    """The daemon answered on k (or closed it) already."""
    return bool(select.select([k.sock], [], [], 0)[0])


def reply_status(k):
    try:
        return k.reply(nd.VERIFY).status
    except (nd.Closed, OSError, ValueError) as e:
        return f"no reply ({e})"


def cmd_share(args):
    """The share of one uid (half of max_connections) with the directory
    stopped and one store worker: the calls nobody waits for any more
    leave it at once (attack3 F9), and the write-backs are not in it
    (attack3 F3)."""
    run = nd.Runner()
    nd.enable_md4_for_ntlm_auth()
    share = args.max_connections // 2
    kept = []
    # lflood is cached (cache_ttl) before the directory stops
    r = logon(args.socket, "lflood", password_of("lflood"))
    run.case("lflood logs on (cached)", lambda: nd.expect(r, "STATUS_SUCCESS"))
    fresh = verify_frame(args.socket, "lalice", password_of("lalice"))
    guesses = [nd.ntlm_auth_exchange(args.socket, "lflood", WRONG_PASSWORD, address=f"192.0.2.{i + 1}")
               for i in range(3)]
    # then max_connections - 2 more: one past the write-backs' own bound
    more = [nd.ntlm_auth_exchange(args.socket, "lflood", WRONG_PASSWORD, address=f"192.0.2.{i + 4}")
            for i in range(args.max_connections - 2)]
    before = ping(args.socket)
    nd.freeze(args.slapd)
    try:
        # one call runs, share wait: the uid's share is full
        kept = flood(args.socket, share + 1)
        waiting = wait_counter(args.socket, T_STORE_WAITING, share + 1, 5)
        over = verify_frame(args.socket, "lhank", password_of("lhank"))
        k = nd.Kept(args.socket)
        k.send(over)
        r = reply_status(k)
        k.close()
        run.case(f"{share + 1} lookups wait (1 runs, {share} queued): one more is refused "
                 f"STATUS_INSUFFICIENT_RESOURCES (the uid's share)",
                 lambda: ([] if waiting == share + 1 else [f"{waiting} waiting"]) +
                 ([] if r == "STATUS_INSUFFICIENT_RESOURCES" else [r]))
        # F3: wrong passwords of a cached account: verdicts, and their
        # write-backs queued although the caller's share is full
        st = [g.verify().status for g in guesses]
        mid = ping(args.socket)
        dropped = (mid.u64(T_WRITEBACKS_DROPPED) or 0) - (before.u64(T_WRITEBACKS_DROPPED) or 0)
        run.case("the uid's share full: 3 wrong passwords of cached lflood get their verdict, and no "
                 "write-back is dropped",
                 lambda: [f"{i}: {s}" for i, s in enumerate(st) if s != "STATUS_WRONG_PASSWORD"] +
                 ([f"writebacks_dropped +{dropped}"] if dropped != 0 else []))
        st = [g.verify().status for g in more]
        dropped = (ping(args.socket).u64(T_WRITEBACKS_DROPPED) or 0) - (before.u64(T_WRITEBACKS_DROPPED) or 0)
        run.case(f"{len(more)} more get their verdict; the write-backs' own bound ({args.max_connections} "
                 "pending, max_connections): the last one is dropped and counted",
                 lambda: [f"{i}: {s}" for i, s in enumerate(st) if s != "STATUS_WRONG_PASSWORD"] +
                 ([f"writebacks_dropped +{dropped}"] if dropped != 1 else []))
        # F9: the clients of the queued lookups hang up: their calls leave
        # the queue at once, the running one stays with its worker
        for k in kept:
            k.close()
        kept = []
        waiting = wait_counter(args.socket, T_STORE_WAITING, 1, 5, down=True)
        cancelled = (ping(args.socket).u64(T_STORE_CANCELLED) or 0) - (before.u64(T_STORE_CANCELLED) or 0)
        run.case(f"their clients hang up: the {share} queued calls are taken off the queue (STORE_CANCELLED), "
                 "the running one stays",
                 lambda: ([] if waiting == 1 else [f"{waiting} waiting"]) +
                 ([] if cancelled == share else [f"store cancelled +{cancelled}"]))
        k = nd.Kept(args.socket, timeout=60)
        kept = [k]
        k.send(fresh)
        time.sleep(0.3)
        early = answered_now(k)
        os.kill(args.slapd, signal.SIGCONT)
        r = reply_status(k)
        run.case("a fresh lookup of that uid then waits for a worker (not refused); SIGCONT: it succeeds",
                 lambda: (["answered at once"] if early else []) + ([] if r == "STATUS_SUCCESS" else [r]))
        n = args.max_connections
        written = wait_counter(args.socket, T_WRITEBACKS, before.u64(T_WRITEBACKS) + n, 15)
        run.case(f"the {n} write-backs kept run (WRITEBACKS)",
                 lambda: [] if written - before.u64(T_WRITEBACKS) == n else [f"+{written - before.u64(T_WRITEBACKS)}"])
        # F9 at store_timeout: the calls answered STATUS_NO_LOGON_SERVERS
        # leave the queue (but the running one); the same connections ask
        # again and wait
        nd.freeze(args.slapd)
        kept += flood(args.socket, share + 1)
        got = read_replies(kept[1:])
        run.case(f"the directory hung: the {share + 1} lookups are answered STATUS_NO_LOGON_SERVERS at "
                 "store_timeout", lambda: [f"{i}: {g}" for i, g in enumerate(got)
                                           if g != "STATUS_NO_LOGON_SERVERS"])
        again = [verify_frame(args.socket, "lhank", password_of("lhank")) for _ in range(share)]
        for kp, f in zip(kept[2:], again):
            kp.send(f)
        time.sleep(0.3)
        early = [i for i, kp in enumerate(kept[2:]) if answered_now(kp)]
        run.case(f"{share} of their connections ask again at once: they wait for a worker (not refused)",
                 lambda: [f"answered at once: {early}"] if early else [])
        os.kill(args.slapd, signal.SIGCONT)
        got = read_replies(kept[2:])
        run.case("SIGCONT: they succeed", lambda: [f"{i}: {g}" for i, g in enumerate(got)
                                                   if g != "STATUS_SUCCESS"])
    finally:
        resume_and_close(args.slapd, kept)
    return run.finish()


def cmd_change(args):
    run = nd.Runner()
    old, new = password_of(args.user), NEW_PASSWORDS[args.user]

    def change():
        problems = nd.expect(nd.call(args.socket, nd.CHANGE_PASSWORD, [
            (nd.T_USER, args.user), (nd.T_PASSWORD, old), (nd.T_NEW_PASSWORD, new)]), "STATUS_SUCCESS")
        problems += [f"new: {p}" for p in nd.expect(nd.call(args.socket, nd.CHECK_PASSWORD, [
            (nd.T_USER, args.user), (nd.T_PASSWORD, new)]), "STATUS_SUCCESS")]
        problems += [f"old: {p}" for p in nd.expect(nd.call(args.socket, nd.CHECK_PASSWORD, [
            (nd.T_USER, args.user), (nd.T_PASSWORD, old)]), "STATUS_WRONG_PASSWORD")]
        return problems

    run.case(f"CHANGE_PASSWORD of {args.user}, then the new password works and the old one not", change)
    return run.finish()


def cmd_identity(args):
    """The account a directory entry gives is its own, whatever spelling
    found it: the verdict names it, and one lockout counter holds it."""
    run = nd.Runner()
    nd.enable_md4_for_ntlm_auth()
    lalice = password_of("lalice")

    def spellings():
        problems = []
        for typed in (" lalice", "lalice  ", "LALICE", "  LAlice "):
            for domain in (DOMAIN, DOMAIN.lower(), ""):
                r = logon(args.socket, typed, lalice, domain)
                problems += [f"{domain}\\{typed!r}: {p}" for p in nd.expect(
                    r, "STATUS_SUCCESS", user=f"{DOMAIN}\\lalice", account="lalice", account_domain=DOMAIN)]
        return problems

    run.case("spaced and cased spellings of lalice verify as TESTDOM\\lalice", spellings)

    def lockout():
        problems = []
        forms = [" lspell", "lspell ", "LSPELL", "  lspell", "lSpell  "]
        for i in range(args.threshold):
            r = logon(args.socket, forms[i % len(forms)], WRONG_PASSWORD)
            problems += [f"failure {i + 1}: {p}" for p in nd.expect(r, "STATUS_WRONG_PASSWORD")]
        for typed in ["lspell"] + forms:
            r = logon(args.socket, typed, password_of("lspell"))
            problems += [f"right password as {typed!r}: {p}" for p in nd.expect(r, "STATUS_ACCOUNT_LOCKED_OUT")]
        return problems

    run.case(f"lockout: {args.threshold} failures spread over 5 spellings lock lspell for all of them", lockout)
    return run.finish()


CHECK_MEMBERSHIP, T_GROUP, T_MEMBER = 8, 40, 62


def cmd_twin(args):
    """ltwin is in the directory and in the files store (backends ldap
    files). In one domain they would be two accounts under one name: the
    files one is refused as ambiguous. In two domains (the directory's
    `domains LDAPDOM`) they are two accounts: each verdict, password change
    and group check is the proven one's."""
    run = nd.Runner()
    files_old, ldap_pw, new = FILES_USERS["ltwin"][0], USERS["ltwin"][0], NEW_PASSWORDS["ltwin"]

    def check(domain, password, status, **fields):
        return nd.expect(nd.call(args.socket, nd.CHECK_PASSWORD, [
            (nd.T_USER, "ltwin"), (nd.T_DOMAIN, domain), (nd.T_PASSWORD, password)]), status, **fields)

    def change(domain, status):
        return nd.expect(nd.call(args.socket, nd.CHANGE_PASSWORD, [
            (nd.T_USER, "ltwin"), (nd.T_DOMAIN, domain), (nd.T_PASSWORD, files_old),
            (nd.T_NEW_PASSWORD, new)]), status)

    def member(domain):
        r = nd.call(args.socket, CHECK_MEMBERSHIP, [(nd.T_USER, "ltwin"), (nd.T_DOMAIN, domain),
                                                    (T_GROUP, "twins")])
        got = r.bytes(T_MEMBER)
        return None if r.status != "STATUS_SUCCESS" or got is None else got[0]

    if args.mode == "ldap-down":
        def down():
            p = []
            for domain in (DOMAIN, "", DOMAIN.lower()):
                p += [f"files password typed {domain!r}: {x}" for x in check(domain, files_old,
                                                                             "STATUS_NO_LOGON_SERVERS")]
            return p

        run.case("the directory down: its namesake in a later store is not trusted (no logon servers)", down)
        return run.finish()

    if args.mode == "ambiguous":
        def ambiguous():
            p = [f"ldap: {x}" for x in check(DOMAIN, ldap_pw, "STATUS_SUCCESS", account_domain=DOMAIN)]
            p += [f"files under {args.files_domain}: {x}" for x in check(args.files_domain, files_old,
                                                                        "STATUS_NO_SUCH_USER")]
            p += [f"change: {x}" for x in change(args.files_domain, "STATUS_NO_SUCH_USER")]
            p += [f"ldap after: {x}" for x in check(DOMAIN, ldap_pw, "STATUS_SUCCESS")]
            p += [f"ldap not the new: {x}" for x in check(DOMAIN, new, "STATUS_WRONG_PASSWORD")]
            return p

        run.case("one name in both stores and one domain: the files namesake is refused as ambiguous, "
                 "nothing is written", ambiguous)
        return run.finish()

    def two_accounts():
        ldap_dom = args.ldap_domain
        p = [f"ldap: {x}" for x in check(ldap_dom, ldap_pw, "STATUS_SUCCESS", account_domain=ldap_dom,
                                          user=f"{ldap_dom}\\ltwin")]
        p += [f"files: {x}" for x in check(DOMAIN, files_old, "STATUS_SUCCESS", account_domain=DOMAIN,
                                           user=f"{DOMAIN}\\ltwin")]
        p += [f"change: {x}" for x in change(DOMAIN, "STATUS_SUCCESS")]
        p += [f"files new: {x}" for x in check(DOMAIN, new, "STATUS_SUCCESS")]
        p += [f"ldap untouched: {x}" for x in check(ldap_dom, ldap_pw, "STATUS_SUCCESS")]
        p += [f"ldap not the new: {x}" for x in check(ldap_dom, new, "STATUS_WRONG_PASSWORD")]
        return p

    run.case("one name in two stores and two domains: two accounts; the change proven in files writes "
             "files only", two_accounts)

    def groups():
        got_ldap, got_files = member(args.ldap_domain), member(DOMAIN)
        p = [] if got_ldap == 1 else [f"the directory's ltwin: member={got_ldap}, expected 1"]
        p += [] if got_files == 0 else [f"the files ltwin: member={got_files}, expected 0 (the DN is "
                                        "the other account's)"]
        return p

    run.case("group by DN: the directory's ltwin is a member, its files namesake is not", groups)
    return run.finish()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ldif")
    p.add_argument("suffix")
    p.add_argument("bindpw")
    p = sub.add_parser("user-ldif")
    p.add_argument("suffix")
    p.add_argument("user")
    p = sub.add_parser("files")
    p.add_argument("file")
    p = sub.add_parser("expect")
    p.add_argument("--socket", required=True)
    p.add_argument("--domain", default=DOMAIN)
    p.add_argument("--within", type=float, default=0)
    p.add_argument("--at-least", type=float, default=0)
    p.add_argument("--label", default="")
    p.add_argument("cases", nargs="+")
    p = sub.add_parser("replay")
    p.add_argument("--socket", required=True)
    p.add_argument("--other", required=True)
    p.add_argument("--status", required=True)
    p.add_argument("user")
    p = sub.add_parser("stream")
    p.add_argument("--socket", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--kill", type=int, required=True)
    p.add_argument("--at", type=int, required=True)
    p.add_argument("user")
    p = sub.add_parser("concurrent")
    p.add_argument("--socket", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--slapd", type=int, required=True)
    p.add_argument("--then", choices=("cont", "hang", "kill", "reload"), required=True)
    p.add_argument("--kill", type=int)
    p.add_argument("--daemon", type=int)
    p.add_argument("--store-timeout", type=float, default=8)
    p.add_argument("--workers", type=int)
    p = sub.add_parser("share")
    p.add_argument("--socket", required=True)
    p.add_argument("--slapd", type=int, required=True)
    p.add_argument("--max-connections", type=int, required=True)
    p = sub.add_parser("change")
    p.add_argument("--socket", required=True)
    p.add_argument("user")
    p = sub.add_parser("identity")
    p.add_argument("--socket", required=True)
    p.add_argument("--threshold", type=int, default=10)
    p = sub.add_parser("twin")
    p.add_argument("--socket", required=True)
    p.add_argument("--mode", choices=("ambiguous", "domains", "ldap-down"), required=True)
    p.add_argument("--files-domain", default="TESTSRV")
    p.add_argument("--ldap-domain", default="LDAPDOM")
    p = sub.add_parser("nthash")
    p.add_argument("user")
    p.add_argument("which", nargs="?", default="old")
    sub.add_parser("nthash-stdin")
    p = sub.add_parser("helper")
    p.add_argument("user")
    p.add_argument("argv", nargs="+")
    args = parser.parse_args()
    if args.command == "ldif":
        sys.stdout.write(ldif(args.suffix, args.bindpw))
        return 0
    if args.command == "user-ldif":
        i = list(USERS).index(args.user)
        sys.stdout.write(user_ldif(args.suffix, i, args.user, *USERS[args.user]))
        return 0
    if args.command == "files":
        write_files(args.file)
        return 0
    if args.command == "nthash":
        pw = NEW_PASSWORDS[args.user] if args.which == "new" else password_of(args.user)
        print(nt_hash(pw).hex().upper())
        return 0
    if args.command == "nthash-stdin":
        print(nt_hash(sys.stdin.readline().rstrip("\n")).hex().upper())
        return 0
    return {"helper": cmd_helper, "expect": cmd_expect, "stream": cmd_stream, "concurrent": cmd_concurrent, "share": cmd_share, "change": cmd_change,
            "identity": cmd_identity, "twin": cmd_twin, "replay": cmd_replay}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
