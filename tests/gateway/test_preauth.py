"""SPEC "Limits under attack": connections still logging in are capped by max_unauthenticated and
max_unauthenticated_per_source, apart from max_sessions, so idle pre-auth connections from an
attacker in a registered zone cannot crowd out analysts' sessions; login_grace closes them.

The attack as issue 14 tried it: hold idle TCP connections that never log in. Before, they
counted against max_sessions and locked every analyst out."""
import errno, sys, os, socket, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step

GRACE = 40  # long enough for three logins on a loaded machine
g = Gateway(22360, name="preauth", zones={"office": ("127.0.0.0/24 ::1/128", "remote")},
            extra_gateway="max_sessions = 3\nmax_unauthenticated = 4\n"
            "max_unauthenticated_per_source = 2\nlogin_grace = %ds" % GRACE)


def hold(src):
    """An idle connection from src that got the server's banner (a monitor serves it), or None
    if the listener closed it without a byte."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", g.port))
    try:
        banner = s.recv(100)
    except OSError:
        banner = b""
    if not banner.startswith(b"SSH-2.0-"):
        s.close()
        return None
    return s


def still_open(s):
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except OSError as e:
        return e.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
    finally:
        s.settimeout(10)


def accept_queue():
    """Connections the kernel completed that the listener has not accept()ed yet: rx_queue of
    its LISTEN socket in /proc/net/tcp. A connect() returns before the accept, so a closed
    probe can still become a connection process after the count below read 0."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1].endswith(":%04X" % g.port) and fields[3] == "0A":
                return int(fields[4].split(":")[1], 16)
    return 0


def wait_connections(n, deadline=30):
    """Polls until the listener has accepted every queued connection and has exactly n
    connection processes (its children, reaped or not): the count slots.c keeps, read from
    outside without adding a connection to it."""
    path = "/proc/%d/task/%d/children" % (g.proc.pid, g.proc.pid)
    end, seen = time.time() + deadline, 0
    while time.time() < end:
        with open(path) as f:
            children = len(f.read().split())
        # Five readings in a row, 0.25 s: an accept() just before its fork() reads as neither.
        seen = seen + 1 if accept_queue() == 0 and children == n else 0
        if seen == 5:
            return True
        time.sleep(0.05)
    return False


try:
    g.init()
    for u in ("a1", "a2", "a3", "a4"):
        g.user(u)
    g.start()
    # start() knew the listener was up by connecting once from 127.0.0.1: that connection's
    # process counts against max_unauthenticated until it has gone.
    check(wait_connections(0), "the start-up probe's connection process has gone")
    fresh_step(15)

    attack = [hold("127.0.0.2"), hold("127.0.0.2")]
    check(all(attack), "two idle connections from one address are served")
    check(hold("127.0.0.2") is None, "a third from that address is closed before the banner")
    check("max_unauthenticated_per_source (2) reached" in g.logtext(), "and that is logged")
    other = [hold("127.0.0.3"), hold("127.0.0.3")]
    check(all(other), "two more from a second address are served (4 still logging in)")
    check(hold("127.0.0.4") is None, "a fifth connection still logging in is closed")
    check("max_unauthenticated (4) reached" in g.logtext(), "and that is logged")
    for s in other:
        s.close()
    check(wait_connections(2), "closed pre-auth connections free their places")

    # The attacker keeps its two; three analysts log in and stay (ControlMaster): their
    # sessions count against max_sessions = 3, the attacker's against the pre-auth caps.
    socks = [g.master(u, extra=["-b", "127.0.0.5"]) for u in ("a1", "a2", "a3")]
    check(all(still_open(s) for s in attack),
          "the attacker's connections are still held while analysts log in")
    outs = [g.mux(s, "echo works-%d" % i) for i, s in enumerate(socks)]
    check(all(o.returncode == 0 and o.stdout == "works-%d\n" % i for i, o in enumerate(outs)),
          "3 sessions (= max_sessions) work beside 2 connections still logging in")
    rc, out, _ = g.login("a4", "echo fourth", extra=["-b", "127.0.0.6"])
    check(rc == 255 and "fourth" not in out, "a 4th session is refused at max_sessions = 3")
    check("max_sessions (3) reached" in g.logtext(), "and that is logged")

    t0 = time.time()
    for s in attack:
        s.settimeout(GRACE + 15)
        try:
            while s.recv(1000):
                pass
        except OSError:
            pass
    check(time.time() - t0 < GRACE + 10, "login_grace closes the attacker's idle connections")
    outs = [g.mux(s, "echo after") for s in socks]
    check(all(o.returncode == 0 and o.stdout == "after\n" for o in outs),
          "the logged-in sessions outlive login_grace")
finally:
    g.cleanup()
