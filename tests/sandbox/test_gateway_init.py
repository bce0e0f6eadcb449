"""Nothing of the monitor lives on inside a sandbox (issue 10): through a real wsgated and a real
ssh session, every process of the sandbox is read from the host's /proc. pid 1 must be the
exec'd wsgate-init, and no process may map liblmdb, libssh, libcrypto or the state store's
data.mdb, or hold an fd on it. Control: the session's monitor, the sandbox's parent, does map
them (so the check can fail). Also: the default [sandbox] hide list is in force in a session."""
import sys, os, re, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway"))
from gwtest import Gateway, check, fresh_step, pexpect

BAD = re.compile(r"liblmdb|libssh|libcrypto|data\.mdb")


def procs():
    for d in os.listdir("/proc"):
        if d.isdigit():
            yield int(d)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def ppid(pid):
    m = re.search(r"^PPid:\s+(\d+)", read("/proc/%d/status" % pid), re.M)
    return int(m.group(1)) if m else 0


def fds(pid):
    out = {}
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                pass
    except OSError:
        pass
    return out


g = Gateway(22224, name="sbinit")
try:
    g.init()
    g.user("ann")
    g.start()
    fresh_step()
    c = g.spawn("ann")
    c.sendline("for p in /usr/bin/scp /bin/ssh /usr/lib/openssh/sftp-server /usr/bin/sha256sum; "
               "do test -e $p && echo \"HAS:$p\" || echo \"NO:$p\"; done; echo M''1")
    c.expect("M1\r\n")
    seen = c.before
    check("NO:/usr/bin/scp" in seen and "NO:/bin/ssh" in seen and
          "NO:/usr/lib/openssh/sftp-server" in seen,
          "the default hide list is in force in a session: %r" % seen)
    check("HAS:/usr/bin/sha256sum" in seen, "control: the rest of /usr/bin is there")
    c.sendline("sleep 120")
    init = cmd = None
    for _ in range(100):
        for p in procs():
            if read("/proc/%d/comm" % p).strip() == "wsgate-init":
                a = p
                while a > 1 and a != g.proc.pid:
                    a = ppid(a)
                if a == g.proc.pid:
                    init = p
        if init:
            kids = [p for p in procs() if ppid(p) == init]
            if any(read("/proc/%d/comm" % k).strip() == "sleep" for k in kids) or any(
                    read("/proc/%d/comm" % q).strip() == "sleep"
                    for k in kids for q in procs() if ppid(q) == k):
                break
        time.sleep(0.1)
    check(init is not None, "found the sandbox's init under wsgated")
    monitor = ppid(init)
    mmaps = read("/proc/%d/maps" % monitor)
    check("data.mdb" in mmaps and "liblmdb" in mmaps,
          "control: the monitor (pid %d) maps liblmdb and data.mdb" % monitor)
    check(any(t.endswith("data.mdb") for t in fds(monitor).values()),
          "control: the monitor holds an fd on data.mdb")
    ns = os.readlink("/proc/%d/ns/pid" % init)
    inside = [p for p in procs() if read("/proc/%d/comm" % p) and
              os.path.exists("/proc/%d/ns/pid" % p) and os.readlink("/proc/%d/ns/pid" % p) == ns]
    check(len(inside) >= 3, "init, bash and sleep are in the sandbox: %s" % inside)
    for p in inside:
        bad = [l for l in read("/proc/%d/maps" % p).splitlines() if BAD.search(l)]
        check(not bad, "pid %d (%s) maps nothing of the monitor: %s"
              % (p, read("/proc/%d/comm" % p).strip(), bad[:3]))
        held = [t for t in fds(p).values() if "data.mdb" in t or t.startswith("socket:")]
        check(not held, "pid %d holds no fd of the monitor: %s" % (p, held))
    files = {l.split()[5] for l in read("/proc/%d/maps" % init).splitlines()
             if len(l.split()) >= 6 and l.split()[5].startswith("/")}
    check(len(files) == 1 and next(iter(files)).endswith("/wsgate-init"),
          "pid 1 maps only wsgate-init: %s" % files)
    check(sorted(fds(init)) == [0, 1, 2, 3, 5], "pid 1 holds fds 0-3 and 5 (the exit pipe) only: %s" % fds(init))
    c.sendcontrol("c")
    c.sendline("exit")
    c.expect(pexpect.EOF)
    print("PASS")
finally:
    g.cleanup()
