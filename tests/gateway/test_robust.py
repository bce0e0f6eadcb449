"""Hostile network input: sources outside every zone get no banner; garbage after the banner,
truncated packets and a killed connection never take the listener or another connection down."""
import sys, os, socket, subprocess, time, signal
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, pexpect

g = Gateway(22209, name="robust", zones={"office": ("127.0.0.1/32 ::1/128", "remote")})
try:
    g.init()
    for u in ("ra", "rb", "rc", "rd"):
        g.user(u)
    g.start()
    fresh_step()

    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", g.port))
    try:
        data = s.recv(100)
    except ConnectionResetError:
        data = b""
    s.close()
    check(data == b"", "a source in no zone gets 0 bytes (got %r)" % data)
    rc, out, _ = g.login("ra", "echo no", extra=["-o", "BindAddress=127.0.0.2"])
    check(rc == 255 and "SSH-2.0" not in out and "Verification" not in out,
          "ssh -o BindAddress=127.0.0.2 is closed before the banner")
    check("127.0.0.2" in g.logtext() and "no zone" in g.logtext(),
          "the refused address is logged")

    s = socket.create_connection(("::1", g.port), timeout=5)
    banner = s.recv(100)
    s.close()
    check(banner.startswith(b"SSH-2.0-"), "IPv6 [::1] gets a banner")

    def hostile(payload, close_after=True):
        s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        s.recv(100)
        try:
            s.sendall(payload)
            time.sleep(0.3)
            s.settimeout(2)
            s.recv(1000)
        except OSError:
            pass
        s.close()

    for i in range(20):
        hostile(b"SSH-2.0-x\r\n" + os.urandom(4000))
    hostile(os.urandom(5000))
    hostile(b"SSH-2.0-x\r\n" + b"\x00\x00\x10\x00\x05")  # length says 4096, 1 byte follows
    hostile(b"SSH-2.0-x\r\n" + b"\xff\xff\xff\xff" + os.urandom(64))  # absurd length
    hostile(b"SSH-2.0-" + b"A" * 100000 + b"\r\n")  # banner without end
    check(g.proc.poll() is None, "the listener survives garbage and truncated packets")
    rc, out, _ = g.login("rb", "echo still-works")
    check(rc == 0 and "still-works" in out, "a normal login works after the garbage")

    # A connection that dies hard does not touch its neighbour.
    c = g.spawn("rc", "sleep 5; echo neighbour-ok", tty=False)
    time.sleep(1)
    victim = g.spawn("rd", "sleep 30", tty=False)
    time.sleep(1)
    pids = subprocess.run(["pgrep", "-P", str(g.proc.pid)], capture_output=True,
                          text=True).stdout.split()
    check(len(pids) == 2, "one monitor per connection (%d)" % len(pids))
    os.kill(int(max(pids, key=int)), signal.SIGKILL)
    victim.expect(pexpect.EOF)
    c.expect(pexpect.EOF)
    check("neighbour-ok" in c.before, "killing one connection's monitor leaves the other alone")
    check(g.proc.poll() is None, "and the listener keeps running")
finally:
    g.cleanup()
