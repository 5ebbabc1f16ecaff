#!/usr/bin/python3
"""hostile_ntlmd.py SOCKET CASE: a daemon on SOCKET that answers every
request with a STATS reply carrying hostile text, for test-stats.sh to
check what ntlmtool stats prints of it:

  inject-help   a store figure whose name holds a line feed and a whole
                metric line (Prometheus: must not become a line of its own)
  labels        a count name with '"', '\\', a line feed, a CR and an ESC
  esc-text      a store and a server with terminal escape sequences

Serves until killed."""
import os
import socket
import struct
import sys

import ntlmd_driver as nd  # tests/lib, on PYTHONPATH

T_VERSION = 60
T_STATS_REQUESTS, T_STORES = 90, 98  # common/protocol.h, docs/PROTOCOL.md "STATS"


def text(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


def count(name, value):
    return text(name) + struct.pack("<Q", value)


def store(st, name, server, detail, value):
    return text(st) + text(name) + text(server) + text(detail) + struct.pack("<Q", value)


CASES = {
    "inject-help": (T_STORES, store("ldap", "cache_hits_total\nntlmd_injected_total 42\n# x", "", "", 1)),
    "labels": (T_STATS_REQUESTS, count('a"b\\c\nntlmd_injected 1\r\x1b[2J', 7)),
    "esc-text": (T_STORES, store("\x1b]0;owned\x07\x1b[31mldap", "server_up", "ldap://x\x1b[2J", "", 1)),
}


def reply(rtype, case):
    fields = [(nd.T_STATUS, struct.pack("<I", 0)), (nd.T_STATUS_NAME, "STATUS_SUCCESS"), (T_VERSION, "9.9"),
              CASES[case]]
    payload = b"".join(nd.field(t, v) for t, v in fields)
    return nd.HEADER.pack(nd.MAGIC, nd.VERSION, rtype | nd.REPLY, 0, len(payload)) + payload


def main(path, case):
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    while True:
        c, _ = srv.accept()
        with c:
            try:
                _, _, rtype, _, n = nd.HEADER.unpack(nd.recv_exact(c, nd.HEADER.size))
                nd.recv_exact(c, n)
                c.sendall(reply(rtype, case))
            except (nd.Closed, OSError):
                pass


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
