"""Everything SPEC refuses at all times: -L, -R, -D, agent (-A), X11 (-X), other subsystems."""
import sys, os, socket, subprocess, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, pexpect

g = Gateway(22205, name="forward")
try:
    g.init()
    for u in ("fa", "fb", "fc", "fd", "fe", "ff"):
        g.user(u)
    g.start()
    fresh_step()

    rc, out, _ = g.login("fa", "echo up", extra=["-R", "22206:127.0.0.1:22205",
                                                  "-o", "ExitOnForwardFailure=yes"])
    check(rc == 255 and "remote port forwarding failed" in out, "-R (tcpip-forward) is refused")

    def try_forward(login, fwd, probe):
        c = g.spawn(login, "sleep 6; echo done", extra=fwd, tty=False)
        time.sleep(1.5)
        got = probe()
        c.expect(pexpect.EOF)
        return got, c.before

    def probe_l():
        s = socket.create_connection(("127.0.0.1", 22207), timeout=5)
        s.settimeout(5)
        try:
            data = s.recv(100)
        except OSError:
            data = b""
        s.close()
        return data

    got, out = try_forward("fb", ["-L", "22207:127.0.0.1:22205"], probe_l)
    check(got == b"" and "open failed" in out, "-L (direct-tcpip) is refused: %r" % got)

    def probe_d():
        s = socket.create_connection(("127.0.0.1", 22208), timeout=5)
        s.settimeout(5)
        s.sendall(b"\x05\x01\x00")
        s.recv(2)
        s.sendall(b"\x05\x01\x00\x01\x7f\x00\x00\x01" + (22205).to_bytes(2, "big"))
        try:
            rep = s.recv(10)
        except OSError:
            rep = b""
        s.close()
        return rep

    got, out = try_forward("fc", ["-D", "22208"], probe_d)
    check(len(got) < 2 or got[1] != 0, "-D (dynamic forwarding) is refused: %r" % got)

    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True).stdout
    env = {}
    for part in agent.replace("\n", ";").split(";"):
        if "=" in part:
            k, v = part.strip().split("=", 1)
            env[k] = v
    os.environ.update(env)
    try:
        # The client's debug log goes to a file: on the terminal it interleaves with the output.
        dlog = os.path.join(g.dir, "ssh-A.log")
        rc, out, _ = g.login("fd", 'echo "agent=[$SSH_AUTH_SOCK]"', extra=["-A", "-v", "-E", dlog])
        with open(dlog) as f:
            debug = f.read()
        check(rc == 0 and "agent=[]" in out and "Requesting authentication agent forwarding" in debug,
              "-A: agent forwarding is requested and not granted (rc %r, %r)" % (rc, out[-300:]))
    finally:
        subprocess.run(["kill", env.get("SSH_AGENT_PID", "0")])
    os.environ["DISPLAY"] = "127.0.0.1:0"
    rc, out, _ = g.login("fe", 'echo "display=[$DISPLAY]"',
                         extra=["-X", "-o", "ForwardX11Trusted=yes", "-o", "XAuthLocation=/bin/true"])
    check("X11 forwarding request failed" in out and "display=[]" in out,
          "-X: X11 forwarding is refused")
    del os.environ["DISPLAY"]
    rc, out, _ = g.login("ff", "nosuchsubsystem", extra=["-s"])
    check(rc == 255 and "subsystem request failed" in out, "a subsystem other than sftp is refused")
finally:
    g.cleanup()
