"""Issue 14 point 6: the wall clock jumps forward and back under a running wsgated (the test clock
hook tests/gateway/timeshift.c, its offset in a file the daemon maps when it starts; the
monotonic clock is left alone, as a real clock step leaves it; libfaketime cannot be used: the
network worker, chroot and seccomp, cannot open its file and would run on the real clock). Each TOTP code is accepted once across the jumps: a code used before a
jump back is refused when it is inside the window again, a never-used code of the corrected
clock is accepted once. A logged-in session and a login in progress live through a jump of an
hour forward: login grace and idle time run on the monotonic clock."""
import errno, os, socket, struct, subprocess, sys, time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gwtest import Gateway, check

g = Gateway(22362, name="clockjump", extra_gateway="idle_timeout = 30m\nlogin_grace = 60s\n"
            "lockout_failures = 100")
clock = os.path.join(g.dir, "faketime")


def set_clock(target):
    """Makes the daemon's wall clock read `target` (epoch seconds) now, and run on from there.
    Written in place, one aligned 8-byte write: the daemon has the file mapped."""
    fd = os.open(clock, os.O_RDWR | os.O_CREAT, 0o600)
    os.pwrite(fd, struct.pack("=q", round(target - time.time())).ljust(4096, b"\0"), 0)
    os.close(fd)


def code(at):
    return subprocess.check_output(["oathtool", "--totp", "-b", "JBSWY3DPEHPK3PXP",
                                    "--now=@%d" % at], text=True).strip()


def login(user, at):
    rc, out, _ = g.login(user, "echo in-%s" % user, code=code(at))
    return rc == 0 and ("in-%s" % user) in out


def once(user, at, what):
    check(login(user, at), "%s: the code is accepted" % what)
    check(not login(user, at), "%s: the same code again is refused" % what)


try:
    g.init()
    for u in ("idle", "u1"):
        g.user(u)
    set_clock(time.time())
    shim = os.path.join(g.dir, "timeshift.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", shim, os.path.join(HERE, "timeshift.c")],
                   check=True)
    # An ASan build (-DWSGATE_SANITIZE=ON) wants its runtime first; the shim only adds time().
    asan = ":".join(x for x in (os.environ.get("ASAN_OPTIONS"), "verify_asan_link_order=0") if x)
    g.start(env=dict(os.environ, LD_PRELOAD=shim, WSGATE_TIME_FILE=clock, ASAN_OPTIONS=asan))
    # Every phase sits 5 s into a step of its own, so no step changes under it.
    base = (int(time.time()) // 30 + 20) * 30 + 5
    set_clock(base - 600)
    master = g.master("idle")
    pending = socket.create_connection(("127.0.0.1", g.port), timeout=10)
    check(pending.recv(100).startswith(b"SSH-2.0-"), "a connection is logging in")

    set_clock(base)
    once("u1", base, "at the start")
    set_clock(base + 3600)
    once("u1", base + 3600, "an hour forward")
    check(g.mux(master, "echo still").stdout == "still\n",
          "a session idle before the jump forward is still open (idle time is monotonic)")
    pending.setblocking(False)
    try:
        alive = pending.recv(1) != b""
    except OSError as e:
        alive = e.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
    check(alive, "the login in progress was not ended by the jump (login grace is monotonic)")
    pending.close()

    set_clock(base - 25)  # back: the first code's step is inside the window again
    check(not login("u1", base), "back 25 s before the first login: its code is refused")
    set_clock(base - 300)
    once("u1", base - 300, "back 5 minutes (a code never used)")
    set_clock(base + 3600 + 30)
    check(not login("u1", base + 3600), "forward again: the hour's code is still refused")
    once("u1", base + 3600 + 30, "forward again, the next step")
    check("totp code replayed" in g.ctl("audit", "list").stdout, "the refusals are audited")
    check(g.ctl("audit", "verify", check_rc=False).returncode == 0,
          "the audit chain verifies across the jumps")
finally:
    g.cleanup()
