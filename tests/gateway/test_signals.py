"""SIGHUP re-reads the config without dropping sessions (a broken file keeps the old policy and
logs one line naming the error); SIGTERM ends sessions cleanly and exits 0."""
import sys, os, signal, subprocess, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, pexpect

# A budget is on: a session that printed holds an allowance it gives back as it closes, which
# the monitor must still answer while it shuts down (else the exit-signal is lost).
g = Gateway(22210, name="signals", extra_sandbox="output_budget = 50M")
try:
    g.init()
    for u in ("sa", "sb", "sc", "sd"):
        g.user(u)
    g.start()
    fresh_step()
    running = g.spawn("sa", "sleep 4; echo survived-reload", tty=False)
    time.sleep(1)
    good = g.conf_text()
    g.write_conf(good + "\n[gateway2]\nbogus = 1\n")
    g.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    log = g.logtext()
    lines = [l for l in log.splitlines() if "reload" in l]
    check(len(lines) == 1 and "keeping the old policy" in lines[0] and "wsgate.conf" in lines[0],
          "a broken config is refused on SIGHUP with one line naming the error: %r" % lines)
    rc, out, _ = g.login("sb", "echo old-policy")
    check(rc == 0 and "old-policy" in out, "the old policy still admits logins")
    running.expect(pexpect.EOF)
    check("survived-reload" in running.before, "a running session survives SIGHUP")

    # A valid reload that moves 127.0.0.1 out of every zone takes effect for new connections.
    g.zones = {"office": ("::1/128", "remote")}
    g.write_conf()
    g.proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    rc, out, _ = g.login("sc", "echo no")
    check(rc == 255 and "reloaded" in g.logtext(), "a valid reload applies the new zones")
    g.zones = {"office": ("127.0.0.1/32 ::1/128", "remote")}
    g.write_conf()
    g.proc.send_signal(signal.SIGHUP)
    time.sleep(1)

    c = g.spawn("sd", "echo started; sleep 60", tty=False, extra=["-v"])
    time.sleep(1.5)
    g.proc.send_signal(signal.SIGTERM)
    rc = g.proc.wait(20)
    check(rc == 0, "SIGTERM: wsgated exits 0")
    c.expect(pexpect.EOF, timeout=20)
    check("rtype exit-signal" in c.before, "SIGTERM: the running session gets exit-signal")
    left = subprocess.run(["pgrep", "-f", g.conf], capture_output=True, text=True).stdout
    check(left.strip() == "", "SIGTERM: no gateway process is left")
finally:
    g.cleanup()
