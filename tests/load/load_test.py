"""Issue 14 point 5: wsgated under load and attack, bounded and loopback only.

For DURATION seconds (default 60) 100 analyst sessions (ControlMaster connections, each from
its own 127.0.0.x address; one in five logs in with password + TOTP, the others with a key
+ TOTP) log in and run
commands, while 20 attacking addresses (10 inside the analysts' zone, 10 in a partner's zone)
each hold an idle connection that never logs in and, on a second connection, guess passwords
(and TOTP codes for a decoy whose password they have). Checked: every analyst login and every
command succeeds; every attacking address ends throttled and every guessed account locked, no
attacker logs in; the listener's memory stays flat and the whole daemon shrinks back to the
listener when the sessions end. Figures (printed, and as JSON to $LOAD_REPORT) go to
docs/BENCHMARKS.md. Run inside a private network namespace (ctest does: see CMakeLists.txt)."""
import json, os, random, socket, statistics, subprocess, sys, threading, time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../e2e"))
sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's paramiko 2.12
from e2elib import E2E, SSH_OPTS, check, fail  # noqa: E402
import logging  # noqa: E402
import paramiko  # noqa: E402

logging.getLogger("paramiko").setLevel(logging.CRITICAL)
DURATION = int(os.environ.get("LOAD_DURATION", "60"))
ANALYSTS, ATTACKERS = 100, 20
RAMP = DURATION / 2  # logins spread over the first half
PORT = 22364
LOCKOUT = 1          # lockout_failures: an address is throttled after 4 x 1 = 4 failures,
                     # which even a slow attacker on a busy machine makes within the run

g = E2E(PORT, "load", zones={"office": ("127.0.0.0/24 127.0.1.0/24", "remote"),
                             "partner": ("127.0.2.0/24", "remote")},
        extra_gateway="max_sessions = 150\nmax_unauthenticated = 100\n"
        "max_unauthenticated_per_source = 2\nlogin_grace = 60s\nmax_auth_tries = 3\n"
        "lockout_failures = %d\nlockout_window = 15m\nlockout_time = 15m" % LOCKOUT,
        airlock="export_types = csv")
stop = threading.Event()
lock = threading.Lock()
stats = {"login_s": [], "cmd_s": [], "cmd_ok": 0, "cmd_bad": [], "login_bad": [],
         "attack_attempts": 0, "attack_refused_at_accept": 0, "attack_logged_in": 0,
         "idle_held": 0, "samples": []}


def password_login(i):
    """One analyst in five logs in with a password (one scrypt each), spread over the ramp."""
    return i % 5 == 0


def analyst_src(i):
    return "127.0.0.%d" % (10 + i)


def attacker_src(i):
    return "127.0.1.%d" % (1 + i) if i < ATTACKERS // 2 else "127.0.2.%d" % (1 + i)


def ctl_many(cmds):
    """wsgatectl commands, 4 at a time (each user passwd is one scrypt)."""
    it = iter(cmds)

    def run():
        for args, stdin in it:
            g.ctl(*args, stdin=stdin)
    ts = [threading.Thread(target=run) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]


def setup():
    g.init()
    key = g.keypair()
    with open(key + ".pub") as f:
        pub = f.read()
    cmds = []
    for i in range(ANALYSTS):
        u = "an%03d" % i
        cmds.append((["user", "add", u, "--role", "analyst", "--project", "p1", "--zone",
                      "office"], None))
    ctl_many(cmds)
    cmds = []
    for i in range(ANALYSTS):
        u = "an%03d" % i
        if password_login(i):
            cmds.append((["user", "passwd", u], "pw-secret1\n"))
        else:
            cmds.append((["user", "key", u], pub))
        cmds.append((["user", "totp", u, "--secret", "JBSWY3DPEHPK3PXP"], None))
    # Decoys the attackers in the analysts' zone aim at; "phished" has a known password.
    for u in ("decoy1", "decoy2", "phished"):
        cmds.append((["user", "add", u, "--role", "analyst", "--project", "p1", "--zone",
                      "office"], None))
    ctl_many(cmds)
    ctl_many([(["user", "passwd", u], "pw-secret1\n") for u in ("decoy1", "decoy2", "phished")]
             + [(["user", "totp", u, "--secret", "JBSWY3DPEHPK3PXP"], None)
                for u in ("decoy1", "decoy2", "phished")])
    return key


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(root):
    """root and all its descendants (the daemon: listener, monitors, workers, sandboxes)."""
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(p))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def sampler(listener, t0):
    while not stop.is_set():
        pids = tree(listener)
        with lock:
            stats["samples"].append((round(time.time() - t0, 1), rss_kb(listener),
                                     sum(rss_kb(p) for p in pids), len(pids)))
        stop.wait(2)


def connect_from(src, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", PORT))
    return s


def idle_holder(src, end):
    """Holds one connection that never logs in; opens another when login_grace closes it."""
    while time.time() < end and not stop.is_set():
        try:
            s = connect_from(src)
            if not s.recv(100).startswith(b"SSH-2.0-"):
                raise OSError("closed before the banner")
            with lock:
                stats["idle_held"] += 1
            s.settimeout(max(0.1, end - time.time()))
            while s.recv(1000):
                pass
        except OSError:
            with lock:
                stats["attack_refused_at_accept"] += 1
            time.sleep(0.5)
        finally:
            try:
                s.close()
            except Exception:
                pass


def guesser(i, end):
    """Password guesses (and TOTP guesses against "phished") until the end, max_auth_tries
    per connection, then a new connection."""
    src = attacker_src(i)
    inside = i < ATTACKERS // 2
    targets = ["decoy1", "decoy2", "phished"] if inside else ["an%03d" % k for k in range(5)]
    rnd = random.Random(i)
    while time.time() < end and not stop.is_set():
        try:
            t = paramiko.Transport(connect_from(src))
            t.start_client(timeout=10)
        except Exception:
            with lock:
                stats["attack_refused_at_accept"] += 1
            time.sleep(0.5)
            continue
        try:
            for _ in range(3):
                user = rnd.choice(targets)
                if user == "phished":
                    try:
                        t.auth_password(user, "pw-secret1")
                        t.auth_interactive(user, lambda *a: ["%06d" % rnd.randrange(10**6)])
                    except paramiko.AuthenticationException:
                        pass
                else:
                    try:
                        t.auth_password(user, "guess-%d" % rnd.randrange(10**9))
                    except paramiko.AuthenticationException:
                        pass
                with lock:
                    stats["attack_attempts"] += 1
                if t.is_authenticated():
                    with lock:
                        stats["attack_logged_in"] += 1
        except Exception:
            pass  # the server ended the connection (max_auth_tries)
        finally:
            t.close()


def analyst(i, key, t0, end):
    u = "an%03d" % i
    src = analyst_src(i)
    time.sleep(max(0, t0 + RAMP * i / ANALYSTS - time.time()))
    sock = os.path.join(g.dir, "cm-%03d" % i)
    a = ["ssh", "-b", src, "-M", "-S", sock, "-o", "ControlPersist=%d" % (DURATION + 60), "-N"]
    a += SSH_OPTS + ["-p", str(PORT)]
    if password_login(i):
        a += ["-o", "PubkeyAuthentication=no"]
    else:
        a += ["-i", key, "-o", "IdentitiesOnly=yes"]
    a.append("%s@127.0.0.1" % u)
    started = time.time()
    r = subprocess.run(a, env=g.askpass_env(), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=120)
    took = time.time() - started
    with lock:
        g.persisted = getattr(g, "persisted", []) + [sock]
    if r.returncode != 0 or not g.master_ok(sock):
        with lock:
            stats["login_bad"].append((u, r.returncode, r.stderr.strip()[-200:]))
        return
    with lock:
        stats["login_s"].append(took)
    k = 0
    while time.time() < end - 3:
        k += 1
        c0 = time.time()
        r = g.mux(sock, "echo $((%d * %d)) $(id -un)" % (i, k), timeout=60)
        dt = time.time() - c0
        with lock:
            if r.returncode == 0 and r.stdout == "%d %s\n" % (i * k, u):
                stats["cmd_ok"] += 1
                stats["cmd_s"].append(dt)
            else:
                stats["cmd_bad"].append((u, k, r.returncode, r.stdout[-100:], r.stderr[-200:]))
        stop.wait(min(10, max(0, end - 3 - time.time())))
    subprocess.run(["ssh", "-S", sock, "-O", "exit", "x"], capture_output=True)


def audit_counts():
    out = g.ctl("audit", "list").stdout.splitlines()
    throttled = {a for a in (attacker_src(i) for i in range(ATTACKERS))
                 if any("login.throttle" in l and "addr=%s " % a in l + " " for l in out)}
    locked = {u for u in ("decoy1", "decoy2", "phished")
              if any("login.lockout" in l and (" %s " % u) in l for l in out)}
    early = sum(1 for l in out if "login.fail" in l and ("address throttled" in l or
                                                          "locked out" in l))
    oks = [l for l in out if "login.ok" in l]
    return throttled, locked, early, oks


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))], 3) if xs else None


try:
    key = setup()
    g.askpass_env()  # created once here, not raced by the analysts' threads
    g.start()
    listener = g.proc.pid
    # The listener times three hashes right after listen(); its memory is measured after.
    for _ in range(600):
        if "one password hash takes" in g.logtext():
            break
        time.sleep(0.05)
    else:
        fail("wsgated did not log its hash calibration")
    base_rss = rss_kb(listener)
    t0 = time.time()
    end = t0 + DURATION
    threading.Thread(target=sampler, args=(listener, t0), daemon=True).start()
    threads = [threading.Thread(target=idle_holder, args=(attacker_src(i), end))
               for i in range(ATTACKERS)]
    threads += [threading.Thread(target=guesser, args=(i, end)) for i in range(ATTACKERS)]
    threads += [threading.Thread(target=analyst, args=(i, key, t0, end))
                for i in range(ANALYSTS)]
    [t.start() for t in threads]
    [t.join(timeout=DURATION + 180) for t in threads]
    if any(t.is_alive() for t in threads):
        fail("a client thread hangs")
    wall = time.time() - t0
    # Everything closed: the daemon must shrink back to the listener alone.
    deadline = time.time() + 30
    while len(tree(listener)) > 1 and time.time() < deadline:
        time.sleep(0.5)
    left = len(tree(listener)) - 1
    end_rss = rss_kb(listener)
    stop.set()
    throttled, locked, early, oks = audit_counts()
    s = stats["samples"]
    report = {
        "duration_s": DURATION, "wall_s": round(wall, 1), "analysts": ANALYSTS,
        "attackers": ATTACKERS, "logins_ok": len(stats["login_s"]),
        "login_s_p50": pct(stats["login_s"], 50), "login_s_p95": pct(stats["login_s"], 95),
        "commands_ok": stats["cmd_ok"], "command_s_p50": pct(stats["cmd_s"], 50),
        "command_s_p95": pct(stats["cmd_s"], 95),
        "attack_attempts": stats["attack_attempts"],
        "attack_refused_at_accept": stats["attack_refused_at_accept"],
        "attack_idle_connections_held": stats["idle_held"],
        "attack_refused_before_hashing": early,
        "addresses_throttled": len(throttled), "decoys_locked": sorted(locked),
        "listener_rss_kb": {"start": base_rss, "max": max(x[1] for x in s),
                            "end": end_rss},
        "daemon_rss_kb_max": max(x[2] for x in s), "daemon_processes_max": max(x[3] for x in s),
        "processes_left_after": left,
        "loadavg_end": open("/proc/loadavg").read().split()[:3],
    }
    print(json.dumps(report, indent=1), flush=True)
    if os.environ.get("LOAD_REPORT"):
        with open(os.environ["LOAD_REPORT"], "w") as f:
            json.dump(dict(report, samples=s), f, indent=1)
    check(not stats["login_bad"], "all %d analyst logins succeed (%d failed: %s)"
          % (ANALYSTS, len(stats["login_bad"]), stats["login_bad"][:3]))
    check(not stats["cmd_bad"] and stats["cmd_ok"] >= 2 * ANALYSTS,
          "all %d analyst commands succeed (%d failed: %s)"
          % (stats["cmd_ok"] + len(stats["cmd_bad"]), len(stats["cmd_bad"]),
             stats["cmd_bad"][:3]))
    check(stats["attack_logged_in"] == 0 and
          not any(" decoy" in l or " phished " in l for l in oks), "no attacker logged in")
    check(len(throttled) == ATTACKERS, "every attacking address was throttled (%d of %d)"
          % (len(throttled), ATTACKERS))
    check(locked == {"decoy1", "decoy2", "phished"}, "every account they guessed is locked")
    check(early > stats["attack_attempts"] // 2,
          "most guesses were refused as throttled or locked, which is before any hashing "
          "(unit_auth test_refused_before_hashing counts the hashes) (%d of %d)"
          % (early, stats["attack_attempts"]))
    check(stats["attack_refused_at_accept"] > 0, "attackers met the per-source cap")
    check(end_rss - base_rss < 2048, "the listener's memory stays flat (%d -> %d KB)"
          % (base_rss, end_rss))
    check(left == 0, "the daemon shrinks back to the listener alone (%d left)" % left)
finally:
    stop.set()
    g.cleanup()
