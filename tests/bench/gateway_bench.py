"""Benchmarks of wsgated against OpenSSH sshd, same machine, same run (see gateway_bench.sh).
(a) login + exec `true`: wsgated pubkey + TOTP (askpass) vs sshd pubkey
(b) memory per idle session with 100 sessions open (RSS and PSS of every server process)
(c) exec `cat` of 1 GiB over an open connection (1 GiB in, 1 GiB out)
(d) SFTP download of a released 1 GiB file vs OpenSSH sftp from sshd"""
import os, pwd, shutil, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../gateway"))
from gwtest import Gateway, SECRET, SSH_OPTS, fresh_step

N_LOGIN = int(os.environ.get("N_LOGIN", "100"))
N_IDLE = int(os.environ.get("N_IDLE", "100"))
GIB = 1 << 30
SSHD_PORT = 22290
PIN = ["-o", "KexAlgorithms=curve25519-sha256", "-o", "Ciphers=chacha20-poly1305@openssh.com",
       "-o", "HostKeyAlgorithms=ssh-ed25519"]


def sh(*a, **kw):
    return subprocess.run(list(a), check=True, **kw)


def report(name, ours, theirs, unit, goal):
    ratio = ours / theirs if theirs else float("nan")
    print("%-42s wsgated %10.3f %s   sshd %10.3f %s   ratio %.2f  (goal %s)" %
          (name, ours, unit, theirs, unit, ratio, goal), flush=True)


def setup_sshd(tmp, key):
    user = "wsbench"
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".ssh"))
    try:
        pwd.getpwnam(user)
        sh("usermod", "-d", home, user)
    except KeyError:
        sh("useradd", "-M", "-d", home, "-s", "/bin/bash", user)
    sh("usermod", "-p", "*", user)  # no password, but not "locked" (sshd refuses those)
    for f in (".bashrc", ".profile", ".bash_logout"):
        open(os.path.join(home, f), "w").close()  # plain start-up files
    shutil.copy(key + ".pub", os.path.join(home, ".ssh/authorized_keys"))
    sh("chown", "-R", user, home)
    os.chmod(tmp, 0o755)
    hk = os.path.join(tmp, "sshd_host_ed25519")
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hk)
    conf = os.path.join(tmp, "sshd_config")
    with open(conf, "w") as f:
        f.write("\n".join([
            "ListenAddress 127.0.0.1", "HostKey " + hk, "PidFile " + tmp + "/sshd.pid",
            "PubkeyAuthentication yes", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
            "AuthorizedKeysFile .ssh/authorized_keys", "MaxStartups 300", "MaxSessions 20",
            "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org",
            "Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com",
            "MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com",
            "HostKeyAlgorithms ssh-ed25519", "Subsystem sftp internal-sftp", ""]))
    os.makedirs("/run/sshd", exist_ok=True)
    p = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", conf, "-p", str(SSHD_PORT)])
    time.sleep(1)
    if p.poll() is not None:
        # Another server on the port would be measured in its place ((b) then reads 0).
        raise SystemExit("sshd exited at start (is port %d taken?)" % SSHD_PORT)
    return p, user, home


def ssh_sshd(user, key, extra=()):
    return ["ssh"] + list(extra) + SSH_OPTS + PIN + ["-p", str(SSHD_PORT), "-i", key, "-o",
            "IdentitiesOnly=yes", "%s@127.0.0.1" % user]


def ssh_gw(g, login, key, extra=()):
    return ["ssh"] + list(extra) + SSH_OPTS + PIN + [
        "-p", str(g.port), "-i", key, "-o", "IdentitiesOnly=yes",
        "-o", "PreferredAuthentications=publickey,keyboard-interactive", "%s@127.0.0.1" % login]


def askpass_env(tmp):
    ap = os.path.join(tmp, "askpass")
    with open(ap, "w") as f:
        f.write("#!/bin/sh\nexec oathtool --totp -b %s\n" % SECRET)
    os.chmod(ap, 0o755)
    return dict(os.environ, SSH_ASKPASS=ap, SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")


def tree(root):
    """Every descendant pid of root."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def mem(pids):
    rss = pss = 0
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def master(args, sock, env=None):
    p = subprocess.Popen(args[:1] + ["-M", "-S", sock, "-N", "-f"] + args[1:],
                         stdin=subprocess.DEVNULL, env=env)
    p.wait(60)
    MASTERS.append(sock)
    for _ in range(100):
        if os.path.exists(sock):
            return
        time.sleep(0.05)
    raise SystemExit("master %s did not start" % sock)


MASTERS = []
ROUNDS = int(os.environ.get("ROUNDS", "3"))


def median(v):
    v = sorted(v)
    return v[len(v) // 2]


def fmt(v):
    return " ".join("%.1f" % x for x in v)


def cat_gib(args):
    t0 = time.time()
    src = subprocess.Popen(["head", "-c", str(GIB), "/dev/zero"], stdout=subprocess.PIPE)
    r = subprocess.run(args + ["cat"], stdin=src.stdout, stdout=subprocess.PIPE)
    src.wait()
    dt = time.time() - t0
    if len(r.stdout) != GIB:
        raise SystemExit("cat returned %d bytes" % len(r.stdout))
    return GIB / dt / 1e6


def main():
    tmp = tempfile.mkdtemp(prefix="wsgate-bench-")
    # `true` and `cat` run without a pty as the SPEC default would refuse them: listed, as a
    # site would list a program it wants scripted ((a), (c), (e)); budgets are off (none) but
    # the accounting path runs (the first allowance request answers "unlimited").
    g = Gateway(22220, name="bench", extra_gateway="max_sessions = 300\nlockout_failures = 100",
                exec_without_pty="airlock true cat")
    g.write_conf(g.conf_text().replace("memory_max = 1G", "memory_max = 4G").replace(
        "file_size_max = 1G", "file_size_max = 4G") +
        "\n[airlock]\nexport_types = txt csv\nexport_max_size = 2G\n" +
        # Issue 10's figures are the relay's (budget off, accounting on), so recordings are off;
        # BENCH_RECORD=1 measures with the analysts' sessions recorded, as wsgate ships.
        "\n[audit]\nrecord = %s\n" % ("analyst admin" if os.environ.get("BENCH_RECORD") == "1"
                                        else "none"))
    key = g.keypair()
    sshd, user, home = setup_sshd(tmp, key)
    env = askpass_env(tmp)
    print("# %s, %d CPUs, %s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                 os.cpu_count(), subprocess.run(["ssh", "-V"],
                                 capture_output=True, text=True).stderr.strip()), flush=True)
    try:
        g.init()
        for i in range(N_LOGIN):
            g.user("a%03d" % i, password=None, key=key)
        for i in range(N_IDLE):
            g.user("b%03d" % i, password=None, key=key)
        g.user("cat0", password=None, key=key)
        for k in range(ROUNDS):
            g.user("stat%d" % k, role="stats", password=None, key=key)
        g.user("adm0", role="admin", project=None, password=None, key=key)
        g.start()

        only = os.environ.get("BENCH_ONLY", "abcde")
        # (a) login + exec true, sequential.
        for i in range(5 if "a" in only else 0):  # warm-up, not counted
            subprocess.run(ssh_sshd(user, key) + ["true"], stdin=subprocess.DEVNULL, check=True)
        if "a" in only:
            bench_a(g, user, key, env)
        if "b" in only:
            bench_b(g, sshd, user, key, env)
        ssock, gsock = os.path.join(tmp, "s.sock"), os.path.join(tmp, "g.sock")
        master(ssh_sshd(user, key), ssock)
        master(ssh_gw(g, "cat0", key), gsock, env)
        mux = lambda s: ["ssh", "-S", s, "-o", "ControlMaster=no", "x@127.0.0.1"]
        if "c" in only:
            bench_c(mux, ssock, gsock)
        if "e" in only:
            bench_e(mux, ssock, gsock)
        if "d" in only:
            bench_d(g, mux, gsock, home, tmp, user, key, env)
    finally:
        for sock in MASTERS:
            subprocess.run(["ssh", "-S", sock, "-O", "exit", "x"], capture_output=True)
        sshd.terminate()
        g.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def bench_a(g, user, key, env):
    """Blocks of 20 logins, alternating servers, so that load from elsewhere hits both alike."""
    t_s = t_g = 0.0
    failed = 0
    for blk in range(0, N_LOGIN, 20):
        n = min(20, N_LOGIN - blk)
        t0 = time.time()
        for i in range(n):
            subprocess.run(ssh_sshd(user, key) + ["true"], stdin=subprocess.DEVNULL, check=True)
        t_s += time.time() - t0
        fresh_step(2)
        t0 = time.time()
        for i in range(blk, blk + n):
            r = subprocess.run(ssh_gw(g, "a%03d" % i, key) + ["true"], stdin=subprocess.DEVNULL,
                               env=env, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                failed += 1
                print("    login %d failed: %s" % (i, r.stderr.strip().splitlines()[-1:]))
        t_g += time.time() - t0
    if failed:
        print("    %d of %d wsgated logins failed (counted in the time)" % (failed, N_LOGIN))
    report("(a) login + exec true, per login", t_g / N_LOGIN * 1000, t_s / N_LOGIN * 1000, "ms",
           "<= 1.2")


def bench_b(g, sshd, user, key, env):
    # (b) 100 idle sessions (exec `sleep`, no output), memory of all server processes.
    base_s = mem(tree(sshd.pid))
    # An idle session runs `cat` with the client's stdin held open: it exits on EOF, so
    # nothing outlives the benchmark on either server.
    held = [subprocess.Popen(ssh_sshd(user, key) + ["cat"], stdin=subprocess.PIPE)
            for _ in range(N_IDLE)]
    time.sleep(8)
    s_rss, s_pss = mem(tree(sshd.pid))
    n_s = len(tree(sshd.pid))
    for p in held:
        p.stdin.close()
    for p in held:
        p.wait(30)
    fresh_step(10)
    base_g = mem(tree(g.proc.pid))
    held = []
    for i in range(N_IDLE):
        held.append(subprocess.Popen(ssh_gw(g, "b%03d" % i, key) + ["cat"],
                                     stdin=subprocess.PIPE, env=env))
        time.sleep(0.05)
    time.sleep(10)
    g_rss, g_pss = mem(tree(g.proc.pid))
    n_g = len(tree(g.proc.pid))
    for p in held:
        p.stdin.close()
    for p in held:
        p.wait(30)
    report("(b) RSS per idle session", (g_rss - base_g[0]) / N_IDLE / 1024,
           (s_rss - base_s[0]) / N_IDLE / 1024, "MiB", "<= 1.0")
    report("(b) PSS per idle session", (g_pss - base_g[1]) / N_IDLE / 1024,
           (s_pss - base_s[1]) / N_IDLE / 1024, "MiB", "<= 1.0")
    print("    processes: wsgated %d, sshd %d for %d sessions" % (n_g, n_s, N_IDLE))


def bench_c(mux, ssock, gsock):
    # (c) 1 GiB through `cat` over an open connection (login not counted).
    s_tp, g_tp = [], []
    for _ in range(ROUNDS):
        s_tp.append(cat_gib(mux(ssock)))
        g_tp.append(cat_gib(mux(gsock)))
    print("    rounds: wsgated %s, sshd %s" % (fmt(g_tp), fmt(s_tp)))
    report("(c) exec cat 1 GiB (each way), median", median(g_tp), median(s_tp), "MB/s",
           ">= 1.2")  # issue 10's goal (issue 4's was 0.8)


def bench_e(mux, ssock, gsock):
    """(e) `ssh -S MASTER host true` over an open connection: a new channel, the command (a
    sandbox for wsgated, bash for sshd) and its exit status; blocks of 10 alternating."""
    n = int(os.environ.get("N_TRUE", "50"))
    t_s = t_g = 0.0
    for _ in range(2):  # warm-up
        subprocess.run(mux(ssock) + ["true"], check=True)
        subprocess.run(mux(gsock) + ["true"], check=True)
    for _ in range(n // 10):
        t0 = time.time()
        for _ in range(10):
            subprocess.run(mux(ssock) + ["true"], check=True)
        t_s += time.time() - t0
        t0 = time.time()
        for _ in range(10):
            subprocess.run(mux(gsock) + ["true"], check=True)
        t_g += time.time() - t0
    k = n // 10 * 10
    report("(e) exec true over an open connection", t_g / k * 1000, t_s / k * 1000, "ms",
           "<= 1.0")


def bench_d(g, mux, gsock, home, tmp, user, key, env):
    # (d) sftp download of a released 1 GiB export.
    # A pty: shell syntax without one is refused (exec_without_pty).
    m = mux(gsock)
    r = subprocess.run(m[:-1] + ["-tt", m[-1], "head -c %d /dev/zero > big.txt && airlock export "
                                 "big.txt" % GIB], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        print("(d) skipped: export failed: %s" % r.stderr.strip())
        return
    out = g.ctl("--json", "transfer", "list").stdout
    import json
    rid = max(q["id"] for q in json.loads(out))
    g.ctl("transfer", "approve", str(rid), "--note", "bench")
    sh("head", "-c", str(GIB), "/dev/zero", stdout=open(os.path.join(home, "big.txt"), "w"))
    dst = os.path.join(tmp, "dl")

    def sftp_get(args, path):
        t0 = time.time()
        subprocess.run(["sftp", "-q"] + args[1:-1] + ["-b", "-", args[-1]],
                       input="get %s %s\n" % (path, dst), text=True, check=True, env=env,
                       stdout=subprocess.DEVNULL)
        dt = time.time() - t0
        if os.path.getsize(dst) != GIB:
            raise SystemExit("sftp got %d bytes" % os.path.getsize(dst))
        os.unlink(dst)
        return GIB / dt / 1e6

    sp = ssh_sshd(user, key)
    sp = [a if a != "-p" else "-P" for a in sp]
    s_tp, g_tp = [], []
    for k in range(ROUNDS):
        s_tp.append(sftp_get(sp, "big.txt"))
        fresh_step(5)
        gp = ssh_gw(g, "stat%d" % k, key)
        gp = [a if a != "-p" else "-P" for a in gp]
        g_tp.append(sftp_get(gp, "/outbox/%d/big.txt" % rid))
    print("    rounds: wsgated %s, sshd %s" % (fmt(g_tp), fmt(s_tp)))
    report("(d) sftp get 1 GiB (incl. login), median", median(g_tp), median(s_tp), "MB/s",
           ">= 0.8")


if __name__ == "__main__":
    main()
