"""Sessions: exit status and signals, stdin relay, pty shell with window changes, env filter,
several channels on one connection, exec output larger than the channel window."""
import sys, os, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, pexpect

g = Gateway(22203, name="session")
try:
    g.init()
    for u in ("ann", "ben", "cid", "dan", "eve"):
        g.user(u)
    g.start()
    fresh_step()
    sock = g.master("ann")
    r = g.mux(sock, "exit 3")
    check(r.returncode == 3, "exit status 3 is passed back (got %d)" % r.returncode)
    r = g.mux(sock, "echo out; echo err >&2; exit 0")
    check(r.stdout == "out\n" and r.stderr == "err\n", "stdout and stderr stay apart")
    rc, out, _ = g.login("cid", "kill -TERM $$", extra=["-v"])
    check(rc == 255 and "rtype exit-signal" in out, "a signal is passed back as exit-signal")
    data = os.urandom(3 * 1024 * 1024)
    r = g.mux(sock, "sha256sum", stdin=data, binary=True)
    import hashlib
    check(r.returncode == 0 and r.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest(),
          "3 MiB of stdin reach the command intact")
    r = g.mux(sock, "head -c 20000000 /dev/zero", binary=True)
    check(r.returncode == 0 and len(r.stdout) == 20000000,
          "20 MB of output arrive in full (window handling)")
    # Key re-exchange every 256 KiB while 16 MiB go through cat both ways: libssh writes
    # nothing while a re-exchange runs, and nothing may be lost then.
    esock = g.master("eve", extra=["-o", "RekeyLimit=256K"])
    data = os.urandom(16 * 1024 * 1024)
    r = g.mux(esock, "cat", stdin=data, binary=True)
    check(r.returncode == 0 and r.stdout == data, "16 MiB through cat across many re-keyings "
          "(rc %s, %d bytes back, %s)" % (r.returncode, len(r.stdout), r.stderr[-300:]))
    res = [g.mux(esock, "head -c 4194304 /dev/zero", binary=True) for _ in range(6)]
    check(all(x.returncode == 0 and len(x.stdout) == 4194304 for x in res),
          "exit status survives re-keying at the end of a command: %s"
          % [x.returncode for x in res])
    # Bulk output goes out in whole SSH packets, the last part of one held back for the next
    # read (gateway/session.c): when the command stops writing mid-packet and waits, that part
    # must still reach the client now, not when the command ends.
    import select, subprocess
    p = subprocess.Popen(["ssh", "-S", sock, "-o", "ControlMaster=no", "-p", str(g.port),
                          "x@127.0.0.1", "head -c 40000 /dev/zero; read x; echo done=$x"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    got, deadline = b"", time.time() + 10
    while len(got) < 40000 and time.time() < deadline:
        if select.select([p.stdout], [], [], 0.5)[0]:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            got += chunk
    check(len(got) == 40000 and p.poll() is None,
          "40000 bytes printed before the command waits arrive while it waits (%d)" % len(got))
    out, _ = p.communicate(b"go\n", timeout=30)
    check(out == b"done=go\n" and p.returncode == 0, "the command then ends normally (%r)" % out)
    os.environ.update(LANG="C.UTF-8", LC_TIME="C", FOO="bar")
    rc, out, _ = g.login("dan", 'echo "[$LANG][$LC_TIME][$FOO]"',
                         extra=["-o", "SendEnv=LANG LC_TIME FOO"])
    check("[C.UTF-8][C][]" in out, "LANG and LC_* pass, other env is refused")
    procs = [subprocess.Popen(["ssh", "-S", sock, "-o", "ControlMaster=no", "-p", str(g.port),
                               "x@127.0.0.1", "sleep 1; echo chan%d; exit %d" % (i, i)],
                              stdout=subprocess.PIPE, text=True) for i in range(5)]
    res = [(p.communicate(timeout=60)[0], p.returncode) for p in procs]
    check(all(res[i] == ("chan%d\n" % i, i) for i in range(5)),
          "5 concurrent channels on one connection each get their own output and status")

    c = g.spawn("ben", rows=24, cols=80)
    c.sendline("stty size; echo M''1")
    c.expect("M1\r\n")
    check("24 80" in c.before, "pty shell starts with the client's window size")
    c.setwinsize(30, 100)
    time.sleep(0.5)
    c.sendline("stty size; echo M''2")
    c.expect("M2\r\n")
    check("30 100" in c.before, "a window change reaches the pty")
    c.sendline("exit 7")
    c.expect(pexpect.EOF)
    c.close()
    check(c.exitstatus == 7, "shell exit status is passed back")
    audit = g.ctl("audit", "list").stdout
    check("session.start" in audit and "session.end" in audit and "sha256sum" in audit,
          "session start/end and exec commands are audited")
finally:
    g.cleanup()
