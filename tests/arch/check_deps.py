#!/usr/bin/env python3
"""The dependencies that must never exist (docs/ARCHITECTURE.md), checked from the #include lines.

Includes are followed through our own headers, so a file that reaches a forbidden header through
another one (worker.c -> policy/account.h -> common/store.h) is caught too; the line reported is
the file's own #include that leads there. A second rule is about calls: only the two halves of
the monitor protocol frame its messages. Prints one line per violation and exits 1 if any.

Usage: check_deps.py [SOURCE_ROOT]
"""
import fnmatch
import os
import re
import sys

SOURCE_DIRS = ["common", "policy", "auth", "sandbox", "transfer", "gateway", "ctl"]

# The files that run in the unprivileged network worker.
WORKER = ["gateway/worker.[ch]", "gateway/session.c", "gateway/monitor_wrap.[ch]",
          "gateway/privsep.c", "gateway/sftp_*.[ch]", "gateway/recorder.[ch]"]

# The files of wsgate-confined, the parsers of untrusted files (transfer/confined.h).
CONFINED = ["transfer/check.[ch]", "transfer/check_*.[ch]", "transfer/confined*.[ch]",
            "transfer/safetext.h"]

# (files, forbidden include targets, why). Files are folder names or globs.
RULES = [
    (["common"], r"^(policy|auth|sandbox|transfer|gateway|ctl)/",
     "common/ is the bottom layer: it depends on nothing of ours"),
    (["policy"], r"^(auth|sandbox|transfer|gateway|ctl)/",
     "policy depends on nothing above it (only common/)"),
    (["sandbox", "auth", "transfer"], r"^(gateway|ctl)/",
     "sandbox, auth and the airlock never include the SSH side or wsgatectl"),
    (["common", "policy", "sandbox", "auth", "transfer"], r"^libssh/",
     "only gateway/ speaks SSH (ctl/ uses libssh's key functions only)"),
    (["common", "policy", "sandbox", "auth", "transfer", "gateway"], r"^jansson\.h$",
     "JSON output is wsgatectl's: the daemon's code never carries it"),
    (["ctl"], r"^gateway/", "wsgatectl stands beside the daemon, not inside it"),
    (WORKER, r"^(transfer|auth|ctl)/",
     "the worker reaches the queue and the credentials only through the monitor"),
    (WORKER, r"^(common/store\.h|common/audit\.h|common/secrets\.h|lmdb\.h)$",
     "the worker never holds the database or the keys"),
    (CONFINED, r"^(common/store\.h|common/audit\.h|common/secrets\.h|lmdb\.h|"
     r"transfer/(queue|ledger|blob|airlock|export_check)\.h)$",
     "the confined parsers of untrusted files never hold the database or the keys"),
    (["transfer/airlock_client.c"],
     r"^(common/store\.h|lmdb\.h|transfer/(airlock|queue|blob|check)\.h)$",
     "the airlock client runs in the sandbox: it only talks to its socket"),
]

# Only these frame monitor messages (mon_send/mon_recv); everyone else calls mm_*().
PROTOCOL_HALVES = {"gateway/monitor.c", "gateway/monitor_wrap.c", "gateway/monitor_proto.c",
                   "gateway/monitor_proto.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
FRAMING = re.compile(r"\bmon_(send|recv)\s*\(")


def sources(root):
    for d in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, d)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(dirpath, n), root)


def includes(root, path, cache={}):
    """[(line, target)] of one file's own #include lines."""
    if path not in cache:
        out = []
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m:
                    out.append((no, m.group(1)))
        cache[path] = out
    return cache[path]


def reach(root, target, seen):
    """Every header reached from target, itself included, following our own headers."""
    if target in seen:
        return
    seen.add(target)
    if os.path.isfile(os.path.join(root, target)):
        for _, t in includes(root, target):
            reach(root, t, seen)


def matches(path, patterns):
    return any(path == p or path.startswith(p + "/") or fnmatch.fnmatch(path, p)
               for p in patterns)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    root = os.path.abspath(root)
    bad = []
    files = list(sources(root))
    for path in files:
        for patterns, forbidden, why in RULES:
            if not matches(path, patterns):
                continue
            for no, target in includes(root, path):
                seen = set()
                reach(root, target, seen)
                hit = sorted(t for t in seen if re.search(forbidden, t))
                for h in hit:
                    via = "" if h == target else f" (through {target})"
                    bad.append(f"{path}:{no}: includes {h}{via}: {why}")
        if path not in PROTOCOL_HALVES:
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                for no, line in enumerate(f, 1):
                    if FRAMING.search(line):
                        bad.append(f"{path}:{no}: frames a monitor message: only monitor.c and "
                                   "monitor_wrap.c may (call mm_*())")
    for line in dict.fromkeys(bad):
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
