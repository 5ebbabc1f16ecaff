#!/usr/bin/python3
"""The cases of test-stats.sh: a known set of requests to a running ntlmd,
then checks of what `ntlmtool stats` reports of them (JSON and the
Prometheus text format, parsed here by a strict parser of its own).

    stats_driver.py requests --socket S
        3 good NTLMv2 VERIFYs (python3-ntlm-auth, with MIC), 2 wrong
        passwords, 1 unknown user, 1 CHALLENGE alone, 1 PING
    stats_driver.py deltas BEFORE.json AFTER.json
        AFTER - BEFORE is exactly what `requests` sent (and the STATS that
        wrote BEFORE)
    stats_driver.py prometheus FILE.prom FILE.json
        FILE.prom parses strictly (exposition format 0.0.4), every family
        has HELP and TYPE, names start with ntlmd_, histograms are
        cumulative with +Inf = _count, and the values are FILE.json's
    stats_driver.py raw --socket S FILE.json
        a STATS sent and decoded here, from docs/PROTOCOL.md alone (not
        through ntlmtool): every record fills its field exactly, the
        histograms hold, and the counts are FILE.json's (taken just before:
        one STATS less)
    stats_driver.py store FILE.json NAME [SERVER]   prints a store figure's value
    stats_driver.py store-detail FILE.json NAME SERVER   prints its detail

Each command but store prints "PASS name" / "FAIL name: why" lines and a
final "N passed, M failed"; it exits 1 when a case failed.
"""

import json
import math
import re
import struct
import sys

import ntlmd_driver as d  # the protocol, the accounts, the NTLM clients (tests/lib, on PYTHONPATH)

GOOD, WRONG, UNKNOWN = 3, 2, 1


def requests(sock):
    run = d.Runner()
    alice = d.ACCOUNTS["alice"]
    d.enable_md4_for_ntlm_auth()

    def verify(user, password, status, **fields):
        return lambda: d.expect(d.ntlm_auth_exchange(sock, user, password).verify(), status, **fields)

    for i in range(GOOD):
        run.case(f"good NTLMv2 VERIFY {i + 1}", verify("alice", alice.password, "STATUS_SUCCESS", type="NTLMv2",
                                                       mic="valid"))
    for i in range(WRONG):
        run.case(f"wrong password {i + 1}", verify("alice", d.WRONG_PASSWORD, "STATUS_WRONG_PASSWORD"))
    for i in range(UNKNOWN):
        run.case(f"unknown user {i + 1}", verify(d.UNKNOWN_USER, d.UNKNOWN_PASSWORD, "STATUS_NO_SUCH_USER"))

    def challenge():
        r = d.call(sock, d.CHALLENGE, [(d.T_SERVICE, "")])
        return d.expect(r, "STATUS_SUCCESS")

    run.case("CHALLENGE alone", challenge)
    run.case("PING", lambda: d.expect(d.call(sock, d.PING), "STATUS_SUCCESS"))
    return run.finish()


def delta(before, after, *path):
    a, b = after, before
    for k in path:
        a = a.get(k, 0) if isinstance(a, dict) else 0
        b = b.get(k, 0) if isinstance(b, dict) else 0
    return a - b


def deltas(before_path, after_path):
    run = d.Runner()
    with open(before_path) as f:
        before = json.load(f)
    with open(after_path) as f:
        after = json.load(f)
    verifies = GOOD + WRONG + UNKNOWN
    challenges = verifies + 1
    # the STATS that wrote BEFORE is counted once answered: in AFTER
    want_types = {"VERIFY": verifies, "CHALLENGE": challenges, "PING": 1, "STATS": 1, "VERIFY_RESPONSE": 0,
                  "CHECK_PASSWORD": 0, "ACCOUNT_STATUS": 0, "CHANGE_PASSWORD": 0}
    total = sum(want_types.values())

    def eq(name, got, want):
        run.case(name, lambda: [] if got == want else [f"{got}, expected {want}"])

    for t, n in want_types.items():
        eq(f"requests by type: {t} +{n}", delta(before, after, "requests_by_type", t), n)
    eq(f"requests answered +{total}", delta(before, after, "requests"), total)
    eq(f"STATUS_SUCCESS +{GOOD + challenges + 2}", delta(before, after, "replies_by_status", "STATUS_SUCCESS"),
       GOOD + challenges + 2)
    eq(f"STATUS_WRONG_PASSWORD +{WRONG}", delta(before, after, "replies_by_status", "STATUS_WRONG_PASSWORD"), WRONG)
    eq(f"STATUS_NO_SUCH_USER +{UNKNOWN}", delta(before, after, "replies_by_status", "STATUS_NO_SUCH_USER"), UNKNOWN)
    statuses = set(after["replies_by_status"]) | set(before.get("replies_by_status", {}))
    eq("no other status moved", sum(delta(before, after, "replies_by_status", s) for s in statuses), total)
    eq(f"outcome success +{GOOD + challenges + 2}", delta(before, after, "replies_by_outcome", "success"),
       GOOD + challenges + 2)
    eq(f"outcome failure +{WRONG + UNKNOWN}", delta(before, after, "replies_by_outcome", "failure"), WRONG + UNKNOWN)
    eq("outcome error +0", delta(before, after, "replies_by_outcome", "error"), 0)
    eq(f"response type NTLMv2 +{verifies}", delta(before, after, "response_types", "NTLMv2"), verifies)
    for t in ("LM", "NTLMv1", "NTLMv1-ESS", "LMv2", "MS-CHAPv2", "anonymous"):
        eq(f"response type {t} +0", delta(before, after, "response_types", t), 0)
    eq(f"MIC valid +{GOOD}", delta(before, after, "mic_verdicts", "valid"), GOOD)
    eq(f"MIC verdicts +{verifies} in all",
       sum(delta(before, after, "mic_verdicts", v) for v in after["mic_verdicts"]), verifies)
    eq(f"channel bindings absent +{verifies}", delta(before, after, "channel_binding_verdicts", "absent"), verifies)
    eq(f"request latency count +{total}", delta(before, after, "request_seconds", "count"), total)
    eq("request latency count = requests answered", after["request_seconds"]["count"], after["requests"])
    eq("request latency count = sum by type", after["request_seconds"]["count"],
       sum(after["requests_by_type"].values()))
    # the files store answers from memory, on the loop: no worker call
    eq("store call latency count +0 (files)", delta(before, after, "store_call_seconds", "count"), 0)
    eq("store calls +0 (files)", delta(before, after, "store_calls"), 0)
    eq("challenge capacity is max_challenges", after["challenge_capacity"], 5000)
    run.case("challenges remembered within capacity",
             lambda: [] if 0 < after["challenges"] <= after["challenge_capacity"] else [str(after["challenges"])])
    eq("store workers is store_workers", after["store_workers"], 3)
    eq("store workers busy 0 (none asked)", after["store_busy"], 0)
    eq("store calls queued 0", after["store_queued"], 0)
    eq("one connection open (the STATS)", after["connections"], 1)
    run.case("uptime and version", lambda: [] if after["uptime_seconds"] >= 0 and after["version"] else ["missing"])
    return run.finish()


# ---------------------------------------------------------------------------
# A strict parser of the Prometheus text exposition format 0.0.4

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+)|[+-]Inf|NaN)"


def parse_labels(text, where):
    """The label pairs of {text}: value escapes \\\\, \\" and \\n only."""
    labels, i = {}, 0
    while i < len(text):
        m = re.compile(LABEL + "=\"").match(text, i)
        if not m:
            raise ValueError(f"{where}: bad label at {text[i:]!r}")
        key = text[i:m.end() - 2]
        i, val = m.end(), []
        while True:
            if i >= len(text):
                raise ValueError(f"{where}: unterminated label value")
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ValueError(f"{where}: bad escape \\{nxt}")
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ValueError(f"{where}: raw line feed in a label value")
            else:
                val.append(c)
                i += 1
        if key in labels:
            raise ValueError(f"{where}: label {key} twice")
        labels[key] = "".join(val)
        if i < len(text):
            if text[i] != ",":
                raise ValueError(f"{where}: expected ',' at {text[i:]!r}")
            i += 1
    return labels


def parse_prometheus(text):
    """{family: {"help", "type", "samples": [(name, labels, value)]}}, strictly."""
    if not text.endswith("\n"):
        raise ValueError("the text does not end with a line feed")
    families, current, seen_done = {}, None, set()
    sample = re.compile(rf"^({NAME})(?:\{{(.*)\}})? ({VALUE})$")
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {n}"
        if line.startswith("# HELP "):
            m = re.match(rf"^# HELP ({NAME}) (.+)$", line)
            if not m:
                raise ValueError(f"{where}: bad HELP")
            name = m.group(1)
            if name in families:
                raise ValueError(f"{where}: {name} declared twice")
            if current is not None:
                seen_done.add(current)
            families[name] = {"help": m.group(2), "type": None, "samples": []}
            current = name
        elif line.startswith("# TYPE "):
            m = re.match(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$", line)
            if not m or m.group(1) != current or families[current]["type"] is not None:
                raise ValueError(f"{where}: TYPE not right after its HELP")
            families[current]["type"] = m.group(2)
        elif line.startswith("#") or line == "":
            raise ValueError(f"{where}: unexpected line {line!r}")
        else:
            m = sample.match(line)
            if not m:
                raise ValueError(f"{where}: bad sample {line!r}")
            name, labels = m.group(1), parse_labels(m.group(2) or "", where)
            fam = families.get(current)
            if fam is None or fam["type"] is None:
                raise ValueError(f"{where}: sample before HELP and TYPE")
            allowed = {current}
            if fam["type"] == "histogram":
                allowed = {current + "_bucket", current + "_sum", current + "_count"}
            elif fam["type"] == "counter" and not current.endswith("_total"):
                raise ValueError(f"{where}: counter {current} not named *_total")
            if name not in allowed:
                raise ValueError(f"{where}: sample {name} outside its family {current}")
            key = (name, tuple(sorted(labels.items())))
            if any((s[0], tuple(sorted(s[1].items()))) == key for s in fam["samples"]):
                raise ValueError(f"{where}: sample {name}{labels} twice")
            fam["samples"].append((name, labels, float(m.group(3))))
    return families


def check_histogram(name, fam):
    buckets = [(s[1]["le"], s[2]) for s in fam["samples"] if s[0] == name + "_bucket"]
    count = [s[2] for s in fam["samples"] if s[0] == name + "_count"]
    total = [s[2] for s in fam["samples"] if s[0] == name + "_sum"]
    problems = []
    if not buckets or buckets[-1][0] != "+Inf":
        problems.append("no +Inf bucket last")
    les = [math.inf if le == "+Inf" else float(le) for le, _ in buckets]
    if les != sorted(les) or len(set(les)) != len(les):
        problems.append("le not ascending")
    if [v for _, v in buckets] != sorted(v for _, v in buckets):
        problems.append("buckets not cumulative")
    if len(count) != 1 or len(total) != 1 or buckets[-1][1] != count[0]:
        problems.append("+Inf bucket is not _count")
    if les[:2] != [0.0005, 0.001] or 10.0 not in les:
        problems.append(f"buckets {les}")
    return problems


def prometheus(prom_path, json_path):
    run = d.Runner()
    with open(prom_path) as f:
        text = f.read()
    with open(json_path) as f:
        js = json.load(f)
    try:
        fams = parse_prometheus(text)
    except ValueError as e:
        run.case("the text parses strictly", lambda: [str(e)])
        return run.finish()
    run.case("the text parses strictly", lambda: [])
    run.case("every metric is named ntlmd_*", lambda: [n for n in fams if not n.startswith("ntlmd_")])
    run.case("every family has HELP and TYPE", lambda: [n for n, f in fams.items() if not f["help"] or not f["type"]])

    def value(name, **labels):
        for fam in fams.values():
            for s in fam["samples"]:
                if s[0] == name and s[1] == labels:
                    return s[2]
        return None

    def eq(name, got, want):
        run.case(name, lambda: [] if got == want else [f"{got}, expected {want}"])

    for h in ("ntlmd_request_seconds", "ntlmd_store_call_seconds"):
        run.case(f"{h} is a histogram", lambda h=h: [] if fams.get(h, {}).get("type") == "histogram" else ["no"])
        if h in fams:
            run.case(f"{h}: cumulative buckets, +Inf = _count", lambda h=h: check_histogram(h, fams[h]))
    eq("ntlmd_request_seconds_count = JSON", value("ntlmd_request_seconds_count"), js["request_seconds"]["count"])
    eq("ntlmd_request_seconds_count = the requests by type",
       value("ntlmd_request_seconds_count"),
       sum(s[2] for s in fams["ntlmd_requests_by_type_total"]["samples"]))
    # the JSON may be a later view (one STATS more): its sum is no smaller
    run.case("ntlmd_request_seconds_sum within 0 .. JSON's",
             lambda: [] if 0 < value("ntlmd_request_seconds_sum") <= float(js["request_seconds"]["sum"]) + 1e-6
             else [f"{value('ntlmd_request_seconds_sum')} vs {js['request_seconds']['sum']}"])
    for t, n in js["requests_by_type"].items():
        eq(f"ntlmd_requests_by_type_total{{type={t}}} = JSON", value("ntlmd_requests_by_type_total", type=t), n)
    for st, n in js["replies_by_status"].items():
        eq(f"ntlmd_replies_by_status_total{{status={st}}} = JSON",
           value("ntlmd_replies_by_status_total", status=st), n)
    eq("ntlmd_response_types_total{type=NTLMv2} = JSON", value("ntlmd_response_types_total", type="NTLMv2"),
       js["response_types"]["NTLMv2"])
    eq("ntlmd_mic_verdicts_total{verdict=valid} = JSON", value("ntlmd_mic_verdicts_total", verdict="valid"),
       js["mic_verdicts"]["valid"])
    eq("ntlmd_challenge_capacity = JSON", value("ntlmd_challenge_capacity"), js["challenge_capacity"])
    eq("ntlmd_requests_total = JSON", value("ntlmd_requests_total"), js["requests"])
    eq("ntlmd_info carries the version", value("ntlmd_info", version=js["version"]), 1)
    for s in js["stores"]:
        labels = {"store": s["store"]}
        if s["server"] is not None:
            labels["server"] = s["server"]
        if s["detail"] is not None:
            labels["detail"] = s["detail"]
        eq(f"ntlmd_store_{s['name']}{labels} = JSON", value("ntlmd_store_" + s["name"], **labels), s["value"])
    return run.finish()


# ---------------------------------------------------------------------------
# The STATS reply, decoded from docs/PROTOCOL.md ("10 STATS")

STATS = 10
T_COUNTS = {90: "requests_by_type", 91: "replies_by_outcome", 92: "replies_by_status",
            93: "response_types", 94: "mic_verdicts", 95: "channel_binding_verdicts"}
T_HISTOGRAMS = {96: "store_call_seconds", 97: "request_seconds"}
T_STORES = 98
U64 = struct.Struct("<Q")


class Records:
    """A bounded reader of one field's value."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def left(self):
        return len(self.data) - self.pos

    def take(self, n):
        if n > self.left():
            raise ValueError(f"record past the end of its field ({n} > {self.left()})")
        v = self.data[self.pos:self.pos + n]
        self.pos += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u64(self):
        return U64.unpack(self.take(8))[0]

    def text(self):
        n = struct.unpack("<H", self.take(2))[0]
        if n > 256:
            raise ValueError(f"text of {n} bytes")
        t = self.take(n).decode("utf-8")
        if "\0" in t:
            raise ValueError("NUL in a text")
        return t


def decode_counts(data):
    r, out = Records(data), {}
    while r.left():
        name = r.text()
        if name in out:
            raise ValueError(f"{name} twice")
        out[name] = r.u64()
    return out


def decode_histogram(data):
    r = Records(data)
    count, sum_us, n = r.u64(), r.u64(), r.u8()
    buckets = [(r.u64(), r.u64()) for _ in range(n)]
    if r.left():
        raise ValueError("bytes after the histogram")
    les = [le for le, _ in buckets]
    if les != sorted(set(les)) or [c for _, c in buckets] != sorted(c for _, c in buckets) or \
            any(c > count for _, c in buckets):
        raise ValueError(f"histogram does not hold: {buckets} count {count}")
    return {"count": count, "sum_us": sum_us, "buckets": buckets}


def decode_stores(data):
    r, out = Records(data), []
    while r.left():
        out.append({"store": r.text(), "name": r.text(), "server": r.text() or None, "detail": r.text() or None,
                    "value": r.u64()})
    return out


def raw(sock, json_path):
    run = d.Runner()
    with open(json_path) as f:
        js = json.load(f)
    reply = d.call(sock, STATS)
    run.case("raw STATS: STATUS_SUCCESS", lambda: d.expect(reply, "STATUS_SUCCESS"))
    got = {}

    def decode():
        for tag, key in T_COUNTS.items():
            got[key] = decode_counts(reply.bytes(tag))
        for tag, key in T_HISTOGRAMS.items():
            got[key] = decode_histogram(reply.bytes(tag))
        got["stores"] = decode_stores(reply.bytes(T_STORES))
        return []

    run.case("raw STATS: every record decodes and fills its field", decode)
    if not got:
        return run.finish()
    # JSON's STATS was answered before this one: it counts one STATS more
    want = dict(js["requests_by_type"], STATS=js["requests_by_type"]["STATS"] + 1)
    run.case("raw STATS: requests by type = ntlmtool's + its STATS",
             lambda: [] if got["requests_by_type"] == want else [f"{got['requests_by_type']} vs {want}"])
    for key in ("response_types", "mic_verdicts", "channel_binding_verdicts"):
        run.case(f"raw STATS: {key} = ntlmtool's",
                 lambda key=key: [] if got[key] == js[key] else [f"{got[key]} vs {js[key]}"])
    run.case("raw STATS: request histogram count = ntlmtool's + 1",
             lambda: [] if got["request_seconds"]["count"] == js["request_seconds"]["count"] + 1 else ["differs"])
    run.case("raw STATS: histogram bounds 500 us .. 10 s, 14 of them",
             lambda: [] if [le for le, _ in got["request_seconds"]["buckets"]][::13] == [500, 10000000] and
             len(got["request_seconds"]["buckets"]) == 14 else ["bounds"])
    run.case("raw STATS: the counters of PING too",
             lambda: [] if reply.u64(d.T_REQUESTS) == js["requests"] + 1 and reply.str(d.T_VERSION) == js["version"]
             else ["differ"])
    return run.finish()


def store_figure(json_path, name, server=None, field="value"):
    with open(json_path) as f:
        js = json.load(f)
    for s in js["stores"]:
        if s["name"] == name and s["server"] == server:
            print(s[field] if s[field] is not None else "")
            return 0
    print(f"no store figure {name} {server}", file=sys.stderr)
    return 1


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "requests" and len(sys.argv) == 4 and sys.argv[2] == "--socket":
        return requests(sys.argv[3])
    if cmd == "deltas" and len(sys.argv) == 4:
        return deltas(sys.argv[2], sys.argv[3])
    if cmd == "prometheus" and len(sys.argv) == 4:
        return prometheus(sys.argv[2], sys.argv[3])
    if cmd == "raw" and len(sys.argv) == 5 and sys.argv[2] == "--socket":
        return raw(sys.argv[3], sys.argv[4])
    if cmd == "store" and len(sys.argv) in (4, 5):
        return store_figure(*sys.argv[2:])
    if cmd == "store-detail" and len(sys.argv) == 5:
        return store_figure(sys.argv[2], sys.argv[3], sys.argv[4], "detail")
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
