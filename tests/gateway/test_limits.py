"""Limits libssh lacks: max_auth_tries per connection, login_grace; plus account lockout
after lockout_failures, and idle_timeout."""
import sys, os, socket, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, pexpect, totp

g = Gateway(22213, name="limits", extra_gateway="lockout_failures = 3\nmax_auth_tries = 3\n"
            "login_grace = 4s\nidle_timeout = 4s")
try:
    g.init()
    for u in ("la", "lb", "lc", "ld", "le"):
        g.user(u)
    g.start()
    fresh_step(10)

    args = g.ssh_args("la", "echo no", extra=["-o", "NumberOfPasswordPrompts=10", "-T"])
    c = pexpect.spawn(args[0], args[1:], timeout=20, encoding="utf-8")
    prompts = 0
    while c.expect(["[Pp]assword:", pexpect.EOF]) == 0:
        prompts += 1
        c.sendline("wrong%d" % prompts)
    check(prompts == 3, "max_auth_tries = 3 ends the connection after 3 failures (%d)" % prompts)

    for i in range(3):
        g.login("lb", "echo no", password="wrong")
    rc, out, _ = g.login("lb", "echo locked-out")
    check(rc == 255 and "locked-out" not in out, "after lockout_failures the right password fails")
    check("lockout" in g.ctl("audit", "list").stdout, "the lockout is audited")

    s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
    s.recv(100)
    t0 = time.time()
    s.settimeout(15)
    try:
        while s.recv(1000):
            pass
    except OSError:
        pass
    took = time.time() - t0
    s.close()
    check(took < 12, "login_grace closes a connection that never logs in")

    c = g.spawn("lc", None, tty=True)
    c.expect(["\\$ ", "# "])
    t0 = time.time()
    c.expect(pexpect.EOF, timeout=30)
    check(time.time() - t0 < 25, "idle_timeout closes an idle shell")
    rc, out, _ = g.login("ld", "sleep 7; echo batch-done", timeout=30)
    check(rc == 0 and "batch-done" in out, "a running command without output is not idle")
finally:
    g.cleanup()
