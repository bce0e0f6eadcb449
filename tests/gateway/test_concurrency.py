"""50 concurrent sessions on 50 separate connections (each its own monitor and worker), plus 50
channels over 5 ControlMaster connections; max_unauthenticated refuses the connection beyond it."""
import sys, os, subprocess, time, socket
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, pexpect

N = 50
g = Gateway(22212, name="conc", extra_gateway="max_sessions = 60\nlockout_failures = 100\n"
            "max_unauthenticated = 60\nmax_unauthenticated_per_source = 60")
try:
    g.init()
    key = g.keypair()
    for i in range(N):
        g.user("c%02d" % i, password=None, key=key)
    for i in range(5):
        g.user("m%d" % i, password=None, key=key)
    g.start()
    fresh_step(10)

    def one(i):
        rc, out, _ = g.login("c%02d" % i, "sleep 4; echo conn-%02d" % i, key=key, timeout=60)
        return rc == 0 and ("conn-%02d" % i) in out

    with ThreadPoolExecutor(N) as ex:
        res = list(ex.map(one, range(N)))
    check(all(res), "%d concurrent connections all work (%d ok)" % (N, sum(res)))

    socks = [g.master("m%d" % i, key=key) for i in range(5)]
    procs = []
    for i in range(N):
        s = socks[i % 5]
        procs.append(subprocess.Popen(["ssh", "-S", s, "-o", "ControlMaster=no", "-p",
                                       str(g.port), "x@127.0.0.1",
                                       "sleep 2; echo chan-%02d" % i],
                                      stdout=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=120)[0] for p in procs]
    check(all(outs[i] == "chan-%02d\n" % i for i in range(N)),
          "%d concurrent channels over 5 masters all work" % N)
    for c in g.masters:
        c.close(force=True)
    g.masters = []
    time.sleep(1)

    # Pre-auth connections are capped by max_unauthenticated (here 60), not by max_sessions:
    # 60 idle connections still logging in, the next one is closed (test_preauth.py has the
    # per-source cap and shows working sessions are not crowded out).
    held = []
    for i in range(60):
        s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        s.recv(100)
        held.append(s)
    s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
    s.settimeout(5)
    try:
        extra = s.recv(100)
    except OSError:
        extra = b""
    check(extra == b"", "connection 61 is closed at max_unauthenticated = 60")
    check("max_unauthenticated (60) reached" in g.logtext(), "and that is logged")
    for s in held:
        s.close()
finally:
    g.cleanup()
