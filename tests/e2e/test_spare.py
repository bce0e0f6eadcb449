"""e2e — the sandbox built ahead (the "spare") on a connection that runs commands without a pty
(gateway/monitor.c, sandbox_prepare): it must serve exactly what a fresh sandbox would, and
never an old policy or a revoked account.

1. A connection that has run one command keeps no spare (a single `ssh host cmd` pays nothing);
   after two, one is waiting (wsgate-init in its own pid namespace, for its go-ahead).
2. Commands served by spares are each in a fresh sandbox (a file in one's /tmp is gone in the
   next), as the account, in the area, with the airlock reachable.
3. A pty channel does not take the spare and gets its terminal.
4. SIGHUP with a new `hide` list: the spare built before is thrown away; the next command no
   longer sees the hidden program (control: it saw it through a spare before).
5. A locked account: the spare is gone and the next command is refused with the `wsgate: ` line.
6. session.end is committed before its fsync (group commit, MON_SYNC_MS): a kill -9 of the
   monitor right after a command ends still leaves the record.
7. One network namespace per connection (SECURITY.md "The sandbox built ahead"): a listener on
   127.0.0.1 in one of ana's sandboxes is reached by her next command on the same connection
   (the control), never from bob's connection, and no interface but lo exists in either.
"""
import os
import signal
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, audit_events, check, comm, fresh_step, finish, tree_pids

PORT = 22262


def monitors(g):
    return [p for p in tree_pids(g.proc.pid) if _ppid(p) == g.proc.pid]


ANA = []  # ana's connection's monitor, once her master is up


def spares(g):
    """Sandboxes built ahead on ana's connection: children of its monitor in a pid namespace of
    their own whose pid 1 (wsgate-init) still holds its go socket, fd 4: it waits for a command.
    A running sandbox's init closed it when its command came."""
    out = []
    for mon in ANA or monitors(g):
        mine = _ns(mon)
        out += [p for p in tree_pids(mon) if _ppid(p) == mon and _ns(p) not in (None, mine)
                and _state(p) not in (None, "Z") and _waits_for_go(p)]
    return out


def _waits_for_go(pid):
    try:
        return os.readlink("/proc/%d/fd/4" % pid).startswith("socket:")
    except OSError:
        return False


def _state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _ns(pid):
    try:
        return os.readlink("/proc/%d/ns/pid" % pid)
    except OSError:
        return None


def wait_for(cond, secs=5.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


g = E2E(PORT, "spare")
try:
    g.init()
    g.user("ana")
    g.user("bob")
    g.start()
    fresh_step()
    sock = g.persist_master("ana", "ana")
    check(sock is not None, "ControlMaster up")
    ANA[:] = monitors(g)

    # 1. one command: no spare; two: one spare.
    r = g.mux(sock, "true")
    check(r.returncode == 0, "first command runs")
    time.sleep(0.3)  # a spare, if one were built, is begun 2 ms after the command ends
    check(spares(g) == [], "after one command no sandbox is built ahead")
    g.mux(sock, "true")
    check(wait_for(lambda: len(spares(g)) == 1), "after two commands one sandbox waits")

    # 2. served by spares: fresh each time, the account's, its area, airlock reachable.
    r = g.mux(sock, "id -un; echo mark > /tmp/mark; touch /work/from-spare; airlock status;"
                    " echo rc=$?")
    check(r.returncode == 0 and r.stdout.startswith("ana\n") and "rc=0" in r.stdout,
          "a command from the spare runs as ana with the airlock (%r)" % r.stdout[-200:])
    check(os.path.exists(os.path.join(g.area_path("p1", "remote"), "from-spare")),
          "its /work is the project's area")
    check(wait_for(lambda: len(spares(g)) == 1), "a new spare after it")
    r = g.mux(sock, "test -e /tmp/mark && echo stale || echo fresh")
    check(r.stdout.strip() == "fresh", "the next command's /tmp is its own (%r)" % r.stdout)

    # 3. a pty channel leaves the spare alone and has its terminal.
    check(wait_for(lambda: len(spares(g)) == 1), "a spare waits before the pty command")
    before = spares(g)
    r = g.mux(sock, "tty", extra=("-tt",))
    check("/dev/" in r.stdout, "a pty command gets a terminal (%r)" % r.stdout)
    check(spares(g) == before, "the pty command did not take the spare")

    # 4. SIGHUP with /usr/bin/od hidden: the spare of the old policy is not used.
    r = g.mux(sock, "test -e /usr/bin/od && echo seen")
    check(r.stdout.strip() == "seen", "control: od is there before the reload")
    check(wait_for(lambda: len(spares(g)) == 1), "a spare waits before the reload")
    old = spares(g)
    g.extra_sandbox = "hide = /usr/bin/od"
    g.write_conf()
    g.proc.send_signal(signal.SIGHUP)
    check(wait_for(lambda: not set(old) & set(spares(g))),
          "the reload threw the spare of the old policy away")
    r = g.mux(sock, "test -e /usr/bin/od && echo seen || echo hidden")
    check(r.stdout.strip() == "hidden", "after the reload od is hidden (%r)" % r.stdout)

    # 7. the connection's network namespace: shared by its sandboxes, nobody else's.
    sock_b = g.persist_master("bob", "bob")
    listen = ("python3 -c \"import socket; s = socket.socket(); s.bind(('127.0.0.1', 47011)); "
              "s.listen(); print('up', flush=True); c, _ = s.accept(); print(c.recv(20).decode())\"")
    lst = subprocess.Popen(["ssh", "-S", sock, "-o", "ControlMaster=no", "x@127.0.0.1", listen],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        check(lst.stdout.readline().strip() == "up", "ana's listener is up on 127.0.0.1:47011")
        knock = ("python3 -c \"import socket; c = socket.create_connection(('127.0.0.1', 47011), 3);"
                 " c.send(b'%s'); print('connected')\" 2>&1 | tail -1")
        r = g.mux(sock_b, knock % "from-bob")
        check("connected" not in r.stdout and "refused" in r.stdout,
              "bob's sandbox cannot reach it (%r)" % r.stdout)
        r = g.mux(sock_b, "tail -n +3 /proc/net/dev | cut -d: -f1")
        check(r.stdout.split() == ["lo"], "bob's sandbox has lo only (%r)" % r.stdout)
        r = g.mux(sock, knock % "same-connection")
        check("connected" in r.stdout, "control: ana's next command reaches it (%r)" % r.stdout)
        out, _ = lst.communicate(timeout=20)
        check(out.strip() == "same-connection", "the listener got ana's bytes only (%r)" % out)
    finally:
        lst.kill()

    # 5. locked: no spare survives, the next command is refused.
    g.mux(sock, "true")
    check(wait_for(lambda: len(spares(g)) == 1), "a spare waits before the lock")
    g.ctl("user", "lock", "ana")
    check(wait_for(lambda: spares(g) == []), "the revocation threw the spare away")
    r = g.mux(sock, "echo ran")
    check("ran" not in r.stdout and r.returncode != 0 and "wsgate: " in r.stderr,
          "a locked account's command is refused (%r %r)" % (r.stdout, r.stderr[-200:]))

    # 6. kill -9 of bob's monitor the moment his session.end is committed (it is written once
    # his recording closes too, [audit] record: a moment after the client has its status).
    bob_ends = lambda: len([e for e in audit_events(g) if e[1] == "bob" and e[2] == "session.end"])
    check(wait_for(lambda: bob_ends() == 2), "bob's two commands of step 7 ended on the record")
    r = g.mux(sock_b, "echo bye")
    mons = monitors(g)
    check(r.stdout == "bye\n" and mons, "bob's command ran")
    wait_for(lambda: bob_ends() == 3)
    for p in mons:
        os.kill(p, signal.SIGKILL)
    check(bob_ends() == 3, "bob's last session.end survived the kill -9 (%d of 3)" % bob_ends())
    check(g.ctl("audit", "verify").returncode == 0, "the audit chain still verifies")
finally:
    g.cleanup()
finish()
