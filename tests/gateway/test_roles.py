"""Roles: stats users get only the sftp subsystem; admins get only `transfer ...` and `audit ...`
run under their own name; analysts export through the airlock and stats users download the
released file over SFTP; uploads to /inbox become import requests."""
import sys, os, subprocess, time, hashlib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, pexpect, SSH_OPTS

g = Gateway(22211, name="roles")
try:
    g.init()
    g.user("ana")
    g.user("sta", role="stats")
    g.user("adm", role="admin", project=None)
    g.start()
    fresh_step()
    asock = g.master("ana")
    ssock = g.master("sta")
    dsock = g.master("adm")

    r = g.mux(ssock, "echo no")
    check(r.returncode != 0 and "no" not in r.stdout, "stats: exec is refused")
    r = g.mux(ssock, None, extra=["-tt"], stdin="echo no\nexit\n")
    check(r.returncode != 0 and "no\r" not in r.stdout, "stats: shell is refused")
    r = g.mux(dsock, None, extra=["-tt"], stdin="echo no\nexit\n")
    check(r.returncode != 0 and "no\r" not in r.stdout, "admin: shell is refused")
    r = g.mux(dsock, "ls /")
    check(r.returncode != 0 and "bin" not in r.stdout, "admin: other commands are refused")
    r = g.mux(dsock, "transfer; id")
    check(r.returncode != 0 and "uid=" not in r.stdout, "admin: no shell syntax")
    r = g.mux(dsock, "transfer list")
    check(r.returncode == 0, "admin: transfer list runs (%s)" % r.stderr.strip())
    r = g.mux(dsock, "audit verify")
    check(r.returncode == 0, "admin: audit verify runs")

    data = "age_group,count\n20-24,0\n25-29,12\n"
    r = g.mux(asock, "cat > result.csv && airlock export result.csv --reason 'table 1'",
              stdin=data)
    check(r.returncode == 0, "analyst: airlock export from the session (%s)" % r.stderr.strip())
    r = g.mux(dsock, "transfer list --json")
    import json
    reqs = json.loads(r.stdout) if r.stdout.strip().startswith("[") else []
    rid = [q["id"] for q in reqs if q.get("kind") == "export"]
    check(len(rid) == 1, "admin sees the export request")
    rid = rid[0]
    r = g.mux(dsock, 'transfer approve %d --note "ok for release"' % rid)
    check(r.returncode == 0, "admin approves over SSH (%s)" % r.stderr.strip())
    audit = g.ctl("audit", "list").stdout
    check(any("adm" in l and "approve" in l for l in audit.splitlines()),
          "the approval is recorded under the admin's name")

    out = os.path.join(g.dir, "dl.csv")
    r = subprocess.run(["sftp"] + SSH_OPTS + ["-o", "ControlPath=" + ssock, "-P", str(g.port),
                        "-b", "-", "x@127.0.0.1"],
                       input="ls -l /outbox/%d\nget /outbox/%d/result.csv %s\n" % (rid, rid, out),
                       capture_output=True, text=True, timeout=60)
    got = open(out).read() if os.path.exists(out) else None
    check(got == data, "stats: downloads the released export over sftp (%s %s)" % (r.stdout, r.stderr.strip()))

    # Uploads declare their SHA-256 first (NAME.sha256, sha256sum's output): wsgate's default.
    def with_sidecar(name, data):
        path = os.path.join(g.dir, name)
        with open(path, "w") as f:
            f.write(data)
        with open(path + ".sha256", "w") as f:
            f.write("%s  %s\n" % (hashlib.sha256(data.encode()).hexdigest(), name))
        return path
    up = with_sidecar("in.txt", "lookup table\n")
    r = subprocess.run(["sftp"] + SSH_OPTS + ["-o", "ControlPath=" + asock, "-P", str(g.port),
                        "-b", "-", "x@127.0.0.1"],
                       input="put %s.sha256 /inbox/\nput %s /inbox/in.txt\n" % (up, up),
                       capture_output=True, text=True, timeout=60)
    r2 = g.mux(dsock, "transfer list --json")
    kinds = [q.get("kind") for q in json.loads(r2.stdout)] if r2.stdout.strip() else []
    check(r.returncode == 0 and "import" in kinds, "analyst: an upload to /inbox becomes an import "
          "request (%s / %s)" % (r.stdout.strip(), r.stderr.strip()))
    bys = with_sidecar("by-scp.txt", "lookup table\n")
    r = subprocess.run(["scp"] + SSH_OPTS + ["-o", "ControlPath=" + asock, "-P", str(g.port),
                        bys + ".sha256", bys, "x@127.0.0.1:/inbox/"], capture_output=True,
                       text=True, timeout=60)
    r2 = g.mux(dsock, "transfer list --json")
    names = [q.get("name") for q in json.loads(r2.stdout)] if r2.stdout.strip() else []
    check(r.returncode == 0 and "by-scp.txt" in names,
          "analyst: scp to /inbox queues an import (scp rc %d: %s)" % (r.returncode, r.stderr.strip()))
    r = subprocess.run(["sftp"] + SSH_OPTS + ["-o", "ControlPath=" + ssock, "-P", str(g.port),
                        "-b", "-", "x@127.0.0.1"], input="put %s /inbox/x.txt\n" % up,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0, "stats: cannot upload")
finally:
    g.cleanup()
