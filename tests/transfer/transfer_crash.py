#!/usr/bin/env python3
"""Crash safety of the airlock queue (issue 5 point 6).

500 mixed operations (analyst exports and withdrawals through transfer-drv, which makes the
monitor's calls; admin imports, approvals and rejections through wsgatectl). About a third of
them are killed: either SIGKILL after a random delay, or _exit() at a named step through the
WSGATE_CRASH_AT test hook (blob written, blob linked, blob stored, before/after commit, after
delivery copy). Then the start-up scan runs and the state is checked:
  - zero lost: every submission that reported an id is recorded with that id;
  - zero duplicated: no submission (tagged by a unique reason) is recorded twice;
  - every referenced blob hashes to its record; after the scan no orphan blob or staging file;
  - every decision acknowledged to its caller is recorded, each request has at most one
    decision (exactly one if decided) in an intact audit chain.
usage: transfer_crash.py BINDIR [OPS]
"""
import json, os, random, shutil, signal, subprocess, sys, tempfile, time

B = sys.argv[1]
OPS = int(sys.argv[2]) if len(sys.argv) > 2 else 500
random.seed(int(os.environ.get("SEED", "5")))
T = tempfile.mkdtemp(prefix="wsgate-crash-")
STATE = T + "/state"
CONF = T + "/wsgate.conf"
POINTS = ["blob.copied", "blob.staged", "blob.stored", "submit.before_commit",
          "submit.committed", "decide.before_commit", "decide.committed", "deliver.copied"]


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def run(args, stdin=None, crash=None, kill_after=None):
    env = dict(os.environ)
    if crash:
        env["WSGATE_CRASH_AT"] = crash
    fin = subprocess.DEVNULL
    if stdin is not None:
        with open(T + "/stdin.bin", "wb") as f:
            f.write(stdin)
        fin = open(T + "/stdin.bin", "rb")
    p = subprocess.Popen(args, stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if kill_after is not None:
        time.sleep(kill_after)
        p.kill()
    out, err = p.communicate()
    if stdin is not None:
        fin.close()
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def ctl(*a, **kw):
    return run([B + "/wsgatectl", "-c", CONF] + list(a), **kw)


def drv(*a, **kw):
    return run([B + "/transfer-drv", CONF] + list(a), **kw)


def main():
    with open(CONF, "w") as f:
        f.write(f"""[gateway]
listen = 127.0.0.1:2299
state_dir = {STATE}
[zone onsite]
networks = 10.10.0.0/24
area = onsite
[airlock]
export_max_size = 50M
""")
    for a in (["init"], ["project", "add", "p1"],
              ["user", "add", "alice", "--role", "analyst", "--project", "p1", "--zone", "onsite"],
              ["user", "add", "adm1", "--role", "admin", "--zone", "onsite"],
              ["user", "add", "adm2", "--role", "admin", "--zone", "onsite"]):
        rc, out, err = ctl(*a)
        if rc:
            fail(f"{a}: {err}")
    seed = T + "/seed.txt"
    open(seed, "w").write("seed\n")
    ctl("transfer", "import", "p1", "onsite", seed)
    ctl("--as", "adm1", "transfer", "approve", "1", "--note", "seed")
    area = STATE + "/projects/p1/onsite"

    acked = {}        # reason -> id reported to the caller
    decided = {}      # id -> state the caller was told
    killed = 0
    for i in range(OPS):
        op = random.choice(["export", "export", "import", "decide", "decide", "withdraw"])
        mode = random.random()
        crash = random.choice(POINTS) if mode < 0.2 else None
        kill_after = random.uniform(0, 0.03) if 0.2 <= mode < 0.35 else None
        reason = f"op-{i}"
        if op == "export":
            name = f"e{i % 7}.csv"
            with open(f"{area}/{name}", "w") as f:
                f.write("a,n\n" + "".join(f"x{j},{random.randint(0, 99)}\n"
                                          for j in range(random.randint(1, 20000))))
            rc, out, err = drv("export", "alice", "p1", "onsite", name, reason,
                               crash=crash, kill_after=kill_after)
        elif op == "import":
            data = os.urandom(random.randint(1, 300000))
            rc, out, err = ctl("--as", "adm1", "transfer", "import", "p1", "onsite", "-",
                               "--name", f"i{i}.bin", "--reason", reason, stdin=data,
                               crash=crash, kill_after=kill_after)
            out = out.replace("import request", "id").replace(" pending", "")
        elif op == "decide":
            rc, out, err = ctl("--json", "transfer", "list", "--state", "pending")
            pend = [r["id"] for r in json.loads(out)] if rc == 0 else []
            if not pend:
                continue
            rid = random.choice(pend)
            verb = random.choice(["approve", "reject"])
            rc, out, err = ctl("--as", "adm2", "transfer", verb, str(rid), "--note", reason,
                               crash=crash, kill_after=kill_after)
            if rc == 0:
                decided[rid] = "released" if verb == "approve" else "rejected"
            continue
        else:
            rc, out, err = ctl("--json", "transfer", "list", "--state", "pending")
            pend = [r["id"] for r in json.loads(out) if r["requester"] == "alice"] if rc == 0 else []
            if not pend:
                continue
            rid = random.choice(pend)
            rc, out, err = drv("withdraw", "alice", "p1", "onsite", str(rid),
                               crash=crash, kill_after=kill_after)
            if rc == 0:
                decided[rid] = "withdrawn"
            continue
        if rc == 0 and out.startswith("id "):
            acked[reason] = int(out.split()[1])
        elif rc in (-9, 99):
            killed += 1
        elif rc != 0 and crash is None and kill_after is None:
            fail(f"op {i} {op} failed without a crash: {err.strip()}")
        if rc in (-9, 99) and op != "export":
            pass

    # restart: the start-up scan, then the checks
    rc, out, err = ctl("--json", "transfer", "list", "--state", "approved")
    undelivered = len(json.loads(out)) if rc == 0 else -1
    rc, out, err = drv("scan")
    if rc:
        fail("scan: " + err)
    rc, out, err = drv("scan")
    if "staging_removed 0 blobs_removed 0" not in out:
        fail("second scan still found orphans: " + out)
    rc, out, err = drv("verify")
    lines = [l.split(" ", 5) for l in out.splitlines() if l.startswith("req ")]
    if rc != 0:
        fail("verify: " + out[-500:])
    by_reason = {}
    state = {}
    hashes = set()
    for _, rid, kind, st, h, why in lines:
        state[int(rid)] = st
        hashes.add(h)
        if why.startswith("op-"):
            if why in by_reason:
                fail(f"duplicated: {why} recorded as {by_reason[why]} and {rid}")
            by_reason[why] = int(rid)
    for why, rid in acked.items():
        if by_reason.get(why) != rid:
            fail(f"lost: {why} was acknowledged as request {rid}")
    for rid, want in decided.items():
        if state.get(rid) != want:
            fail(f"decision lost: request {rid} is {state.get(rid)}, caller was told {want}")
    blobs = set()
    for root, _, files in os.walk(STATE + "/blobs"):
        blobs.update(files)
    if blobs != hashes:
        fail(f"blobs on disk != referenced: {len(blobs - hashes)} orphans, {len(hashes - blobs)} missing")
    if os.listdir(STATE + "/staging"):
        fail("staging not empty")
    rc, out, err = ctl("audit", "verify")
    if rc:
        fail("audit verify: " + err)
    rc, out, err = ctl("audit", "export")
    ndec = {}
    for l in out.splitlines():
        r = json.loads(l)
        if r["event"] in ("transfer.approve", "transfer.reject", "transfer.withdraw"):
            rid = int(r["detail"].split()[0][3:])
            ndec[rid] = ndec.get(rid, 0) + 1
    for rid, st in state.items():
        want = 0 if st == "pending" else 1
        if ndec.get(rid, 0) != want:
            fail(f"request {rid} ({st}) has {ndec.get(rid, 0)} decisions in the audit log")
    stuck = sum(1 for s in state.values() if s == "approved")
    print(f"PASS: {OPS} ops, {len(lines)} requests, {len(acked)} acknowledged submissions, "
          f"{len(decided)} acknowledged decisions, {killed} submissions killed, "
          f"{len(blobs)} blobs, {undelivered} approved-but-undelivered before the scan, {stuck} after")


try:
    main()
finally:
    shutil.rmtree(T, ignore_errors=True)
