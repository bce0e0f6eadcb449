"""A client that ignores the channel window (hostile input, found while measuring issue 10).
libssh 0.10 accepts channel data past the window it announced ("let's accept it anyway") and
keeps what our callback does not take, so a logged-in client whose command does not read its
input grew its worker's memory without end (600 MiB sent, the connection still open, before the
fix), until the kernel's OOM killer would pick a process on the shared host. Now the worker ends
the connection once more than a window's worth is held (SESSION_HELD_MAX in gateway/session.c),
other connections are untouched, and every worker runs with RLIMIT_DATA (WORKER_DATA_MAX) as a
backstop. paramiko (Debian's 2.12) is the client, its send-window wait switched off; the control
sends the same way within the window and is taken in full."""
import os, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, totp

sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's paramiko, not a pip one
import logging
import paramiko

logging.getLogger("paramiko").setLevel(logging.CRITICAL)

DATA_MAX = 256 << 20   # WORKER_DATA_MAX
FLOOD = 600 << 20

g = Gateway(22366, name="window")


def login(user):
    t = paramiko.Transport(("127.0.0.1", g.port))
    t.start_client(timeout=10)
    t.auth_password(user, "pw-secret1")
    t.auth_interactive(user, lambda title, instr, ps: [totp() for _ in ps])
    check(t.is_authenticated(), "%s logs in with paramiko" % user)
    return t


def workers():
    """pid -> VmHWM in KiB of every worker (the unprivileged wsgated processes)."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/status" % p) as f:
                st = dict(l.split(":", 1) for l in f if ":" in l)
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if st["Name"].strip() == "wsgated" and st["Uid"].split()[0] != "0" and \
                g.conf.encode() in cmd:
            out[int(p)] = int(st["VmHWM"].split()[0])
    return out


def flood(ch, total, ignore_window):
    """Sends total bytes in 32 KiB packets; returns what paramiko got out before an error."""
    if ignore_window:
        ch._wait_for_send_window = lambda size: min(size, 32768)  # the hostile client
    block, sent = b"\0" * 32768, 0
    try:
        while sent < total:
            n = ch.send(block)
            if n <= 0:
                break
            sent += n
    except (OSError, EOFError, paramiko.SSHException):
        pass
    return sent


try:
    g.init()
    for u in ("wa", "wb", "wc"):
        g.user(u)
    g.start()
    fresh_step(15)

    # Control: within the window, a command that reads takes everything.
    t = login("wb")
    ch = t.open_session()
    ch.exec_command("wc -c")
    sent = flood(ch, 64 << 20, ignore_window=False)
    ch.shutdown_write()
    out = ch.makefile("r").read().decode().strip()
    check(sent >= 64 << 20 and out == str(sent),
          "control: 64 MiB within the window reach the command (%d sent, wc says %s)"
          % (sent, out))
    t.close()

    before = set(workers())
    t = login("wa")
    ch = t.open_session()
    ch.exec_command("sleep 600")  # never reads its input
    mine = [p for p in workers() if p not in before]
    check(len(mine) == 1, "one new worker for the attacker's connection (%s)" % mine)
    with open("/proc/%d/limits" % mine[0]) as f:
        lim = [l.split()[3:5] for l in f if l.startswith("Max data size")]
    check(lim == [[str(DATA_MAX)] * 2], "the worker runs with RLIMIT_DATA %d (%s)"
          % (DATA_MAX, lim))
    peak = [0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max([peak[0]] + [v for p, v in workers().items() if p in mine])
            time.sleep(0.05)

    w = threading.Thread(target=watch)
    w.start()
    sent = flood(ch, FLOOD, ignore_window=True)
    for _ in range(200):
        if not t.is_active():
            break
        time.sleep(0.05)
    done.set()
    w.join()
    check(sent < FLOOD and not t.is_active(),
          "the flood past the window ends the attacker's connection (after %d MiB)"
          % (sent >> 20))
    check(0 < peak[0] <= 32 << 10,
          "the worker held no more than a few windows' worth (peak %d MiB)" % (peak[0] >> 10))
    check("wa sent past the channel window" in g.logtext(), "the gateway log says why")

    # Others are untouched: a new connection works.
    t2 = login("wc")  # a code's time step counts once per account
    ch = t2.open_session()
    ch.exec_command("echo still-$((6*7))")
    check(ch.makefile("r").read().decode() == "still-42\n", "another connection still works")
    t2.close()
finally:
    g.cleanup()
