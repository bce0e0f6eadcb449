"""Issue 14 point 6, SPEC "Durability": kill -9 of the listener while sessions are open. The
connections it forked (monitor, worker, sandbox) are not its to take down: open sessions go on
working, a running command finishes, an upload under way is queued; new connections are
refused until wsgated is started again, which then serves new logins beside the old sessions.
The queue is intact: every request with its blob, hash-checked, no staging left over, and the
audit chain verifies."""
import os, signal, socket, subprocess, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../e2e"))
from e2elib import E2E, PASS_TABLE, SSH_OPTS, check, fresh_step, rid_from, sha256_bytes, \
    sha256_file

g = E2E(22363, "kill9", airlock="export_types = csv txt")


def export(sock, name):
    data = PASS_TABLE + "# %s\n" % name
    r = g.mux(sock, "cat > %s && airlock export %s --reason kill9" % (name, name), stdin=data)
    return rid_from(r.stdout), sha256_bytes(data.encode())


try:
    g.init()
    for u in ("an1", "an2"):
        g.user(u)
    g.user("adm1", role="admin")
    g.start()
    fresh_step(10)
    sock = g.master_as("an1", "a")
    expected = {}  # name -> sha256
    rid, sha = export(sock, "before.csv")
    check(rid is not None, "an export before the kill is queued")
    expected["before.csv"] = sha
    big = os.urandom(24 << 20)
    path = g.write("big.bin", big)
    expected["big.bin"] = sha256_bytes(big)
    running = subprocess.Popen(["ssh"] + SSH_OPTS + ["-S", sock, "-o", "ControlMaster=no",
                                "-p", str(g.port), "x@127.0.0.1", "sleep 3; echo survived"],
                               stdout=subprocess.PIPE, text=True)
    batch = g.write("batch", ("put %s /inbox/big.bin\n" % path).encode())
    upload = subprocess.Popen(g.client_args("sftp", sock) + ["-b", batch, "x@127.0.0.1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    listener = g.proc.pid
    os.kill(listener, signal.SIGKILL)
    print("upload %s at the kill" % ("in flight" if upload.poll() is None else "already done"),
          flush=True)
    g.proc.wait()
    g.proc = None
    try:
        socket.create_connection(("127.0.0.1", g.port), timeout=5).close()
        refused = False
    except OSError:
        refused = True
    check(refused, "with the listener gone, new connections are refused")
    check(running.communicate(timeout=60)[0] == "survived\n",
          "a command running at the kill finishes")
    upload.communicate(timeout=120)
    check(upload.returncode == 0, "an upload under way at the kill completes")
    r = g.mux(sock, "echo still-here")
    check(r.returncode == 0 and r.stdout == "still-here\n", "the open session still works")
    rid, sha = export(sock, "between.csv")
    check(rid is not None, "an export while no listener runs is queued")
    expected["between.csv"] = sha

    g.start()
    check("airlock start-up scan" in g.logtext(), "wsgated starts again (start-up scan)")
    sock2 = g.master_as("an2", "b")
    rid, sha = export(sock2, "after.csv")
    check(rid is not None, "a new login after the restart exports")
    expected["after.csv"] = sha
    rid, sha = export(sock, "old-session.csv")
    check(rid is not None, "the session from before the kill still exports")
    expected["old-session.csv"] = sha

    reqs = {q["name"]: q for q in g.jlist()}
    check(set(reqs) == set(expected), "the queue holds exactly the %d requests (%s)"
          % (len(expected), sorted(reqs)))
    check(all(g.jshow(reqs[n]["id"])["sha256"] == h for n, h in expected.items()),
          "each with the SHA-256 of the bytes sent")
    blobs, left = g.store_check()
    check(all(h in blobs for h in expected.values()) and not left,
          "every blob is in quarantine under its hash, no staging file left")
    check(g.ctl("audit", "verify", check_rc=False).returncode == 0, "the audit chain verifies")
    rid = reqs["before.csv"]["id"]
    g.ctl("--as", "adm1", "transfer", "approve", str(rid), "--note", "ok")
    out = os.path.join(g.dir, "got.csv")
    g.sftp(sock2, "get /outbox/%d/before.csv %s\n" % (rid, out))
    check(os.path.exists(out) and sha256_file(out) == expected["before.csv"],
          "the request from before the kill is approved and downloads with its bytes")
finally:
    g.cleanup()
