"""Egress (SPEC "The terminal is a display, not a file transfer"): without a pty only the
programs in exec_without_pty (default `airlock`) run; cat > copy, legacy scp, rsync, sftp -s PATH,
tar | ssh and a shell fed on stdin all get the one `wsgate: ` line and exit 1, and are audited.
Controls: airlock without a pty, any command with a pty, and SFTP /outbox still work. Roles:
stats and admin refusals print what the role may do and exit 1."""
import sys, os, shutil, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, SSH_OPTS

LINE = "wsgate: commands need a terminal (ssh -t); files leave only through airlock export"
STATS = "wsgate: account sta (stats) may only download released exports over sftp"
ADMIN = "wsgate: account adm (admin) may only run 'transfer ...' and 'audit ...' commands"
SECRET = "secret-cell-counts-4711"

g = Gateway(22227, name="egress", exec_without_pty="airlock")
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
    mux_ssh = " ".join(["ssh"] + SSH_OPTS + ["-S", asock, "-o", "ControlMaster=no",
                                             "-p", str(g.port)])

    # Positive controls first: a pty runs anything, so the file exists for the attacks below.
    r = g.mux(asock, "printf '%s\\n' > /work/x.csv && cat /work/x.csv" % SECRET, extra=["-tt"])
    check(r.returncode == 0 and SECRET in r.stdout,
          "pty: a command runs and shows the file (%d %r)" % (r.returncode, r.stderr))
    r = g.mux(asock, "airlock status")
    check(r.returncode == 0 and "wsgate:" not in r.stderr,
          "no pty: airlock status runs (%d %r)" % (r.returncode, r.stderr))

    def refused(r, what, line=LINE):
        err = r.stderr if isinstance(r.stderr, str) else r.stderr.decode(errors="replace")
        out = r.stdout if isinstance(r.stdout, str) else r.stdout.decode(errors="replace")
        check(r.returncode == 1 and err.strip().endswith(line) and err.count("wsgate:") == 1
              and SECRET not in out,
              "%s: refused with the line, exit 1 (%d %r %r)" % (what, r.returncode, err, out[:80]))

    # ssh host cat FILE > copy
    copy = os.path.join(g.dir, "copy.csv")
    with open(copy, "wb") as f:
        r = subprocess.run(["sh", "-c", mux_ssh + " x@127.0.0.1 'cat /work/x.csv'"],
                           stdout=f, stderr=subprocess.PIPE, text=True, timeout=60)
    check(r.returncode == 1 and r.stderr.strip() == LINE and os.path.getsize(copy) == 0,
          "ssh host cat > copy: exit 1, the exact line, copy empty (%d %r %d)"
          % (r.returncode, r.stderr, os.path.getsize(copy)))

    # Smuggling past the list through the shell.
    for cmd in ("airlock status; cat /work/x.csv", "airlock status && cat /work/x.csv",
                "airlock status | cat /work/x.csv", "airlock $(cat /work/x.csv)",
                "airlock `cat /work/x.csv`", "sh -c 'cat /work/x.csv'", "env X=1 cat /work/x.csv",
                "X=1 cat /work/x.csv", "exec cat /work/x.csv", "'airlock' status",
                "\\airlock status", "air\"\"lock status", "airlock status\ncat /work/x.csv",
                "airlock status > /work/y.csv"):
        refused(g.mux(asock, cmd), "no pty: %r" % cmd)

    # Legacy scp (an exec of scp -f / scp -t), both ways.
    got = os.path.join(g.dir, "scp-got.csv")
    r = subprocess.run(["scp", "-O"] + SSH_OPTS + ["-o", "ControlPath=" + asock,
                        "-P", str(g.port), "x@127.0.0.1:/work/x.csv", got],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and LINE in r.stderr and not os.path.exists(got),
          "scp -O host:/work/x.csv .: refused with the line (%d %r)" % (r.returncode, r.stderr))
    up = os.path.join(g.dir, "up.csv")
    with open(up, "w") as f:
        f.write("uploaded\n")
    r = subprocess.run(["scp", "-O"] + SSH_OPTS + ["-o", "ControlPath=" + asock,
                        "-P", str(g.port), up, "x@127.0.0.1:/work/"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and LINE in r.stderr,
          "scp -O x host:/work/: refused with the line (%d %r)" % (r.returncode, r.stderr))

    # sftp -s PATH: OpenSSH sends an exec request when the subsystem has a slash.
    r = subprocess.run(["sftp"] + SSH_OPTS + ["-o", "ControlPath=" + asock, "-P", str(g.port),
                        "-s", "/usr/lib/openssh/sftp-server", "-b", "-", "x@127.0.0.1"],
                       input="get /work/x.csv %s\n" % got, capture_output=True, text=True,
                       timeout=60)
    check(r.returncode != 0 and LINE in r.stderr and not os.path.exists(got),
          "sftp -s /usr/lib/openssh/sftp-server: refused (%d %r)" % (r.returncode, r.stderr))

    # rsync over ssh.
    if shutil.which("rsync"):
        r = subprocess.run(["rsync", "-e", mux_ssh, "x@127.0.0.1:/work/x.csv", got],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and LINE in r.stderr and not os.path.exists(got),
              "rsync -e ssh: refused (%d %r)" % (r.returncode, r.stderr))
    else:
        print("skipped: rsync is not installed")

    # tar | ssh host 'tar x', and a shell fed its commands on stdin.
    src = os.path.join(g.dir, "tarsrc")
    os.makedirs(src)
    with open(os.path.join(src, "smuggled.txt"), "w") as f:
        f.write("in\n")
    r = subprocess.run(["sh", "-c", "tar c -C %s smuggled.txt | %s x@127.0.0.1 'cd /work && tar x'"
                        % (src, mux_ssh)], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and r.stderr.strip() == LINE, "tar | ssh host 'tar x': refused (%d %r)"
          % (r.returncode, r.stderr))
    r = g.mux(asock, None, extra=["-T"], stdin="cat /work/x.csv\ntouch /work/shell-ran\n")
    refused(r, "no pty: a shell reading commands from stdin")
    r = g.mux(asock, "ls /work", extra=["-tt"])
    check(r.returncode == 0 and "x.csv" in r.stdout and "shell-ran" not in r.stdout
          and "smuggled.txt" not in r.stdout and "y.csv" not in r.stdout,
          "nothing of the refused commands ran (%r)" % r.stdout)

    # Audited: the refused command, who, and why.
    audit = g.ctl("audit", "list").stdout
    rows = [l for l in audit.splitlines() if "session.refused" in l and "ana" in l]
    check(any("cat /work/x.csv" in l and "exec_without_pty" in l for l in rows),
          "a refused command is audited with the command and why (%r)" % rows[:3])

    # The airlock still works without a pty, and the released export downloads over SFTP.
    r = g.mux(asock, "airlock export /work/x.csv --reason 'egress test'")
    check(r.returncode == 0, "no pty: airlock export runs (%r)" % r.stderr)
    import json
    reqs = json.loads(g.mux(dsock, "transfer list --json").stdout or "[]")
    rid = [q["id"] for q in reqs if q.get("kind") == "export"]
    check(len(rid) == 1, "the export is queued")
    r = g.mux(dsock, "transfer approve %d --note ok" % rid[0])
    check(r.returncode == 0, "admin approves (%r)" % r.stderr)
    out = os.path.join(g.dir, "dl.csv")
    r = subprocess.run(["sftp"] + SSH_OPTS + ["-o", "ControlPath=" + asock, "-P", str(g.port),
                        "-b", "-", "x@127.0.0.1"],
                       input="get /outbox/%d/x.csv %s\n" % (rid[0], out),
                       capture_output=True, text=True, timeout=60)
    check(os.path.exists(out) and SECRET in open(out).read(),
          "SFTP /outbox download still works (%r)" % r.stderr)

    # Roles: one line saying what the role may do, exit 1.
    refused(g.mux(ssock, "cat /work/x.csv"), "stats: exec", STATS)
    r = g.mux(ssock, None, extra=["-tt"], stdin="echo no\nexit\n")
    check(r.returncode == 1 and STATS in r.stderr and "no\r" not in r.stdout,
          "stats: shell refused with its line (%d %r)" % (r.returncode, r.stderr))
    refused(g.mux(dsock, "ls /"), "admin: other command", ADMIN)
    refused(g.mux(dsock, "transfer; id"), "admin: shell syntax", ADMIN)
    r = g.mux(dsock, None, extra=["-tt"], stdin="echo no\nexit\n")
    check(r.returncode == 1 and ADMIN in r.stderr and "no\r" not in r.stdout,
          "admin: shell refused with its line (%d %r)" % (r.returncode, r.stderr))
    r = subprocess.run(["sftp"] + SSH_OPTS + ["-o", "ControlPath=" + dsock, "-P", str(g.port),
                        "-b", "-", "x@127.0.0.1"], input="ls /\n",
                       capture_output=True, text=True, timeout=60)
    check(r.returncode != 0 and ADMIN in r.stderr, "admin: sftp refused with its line (%r)"
          % r.stderr)
    r = g.mux(dsock, "audit verify")
    check(r.returncode == 0, "admin: audit verify still runs")
    print("ok")
finally:
    g.cleanup()
