"""Login scenarios with the real OpenSSH client: each factor, each way to fail."""
import sys, os, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, totp, SECRET

g = Gateway(22201, name="login", zones={"office": ("127.0.0.1/32 ::1/128", "remote"),
                                        "onsite": ("10.10.0.0/24", "onsite")})
try:
    g.init()
    key = g.keypair()
    for u in ("alice", "carol", "dave", "erin", "gina", "ivy"):
        g.user(u)
    g.user("bob", key=key)
    g.user("frank")
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    g.ctl_in_past(3, "user", "del", "frank")
    g.ctl_in_past(3, "user", "add", "frank", "--role", "analyst", "--project", "p1", "--zone",
                  "office", "--expires", yesterday)
    g.ctl("user", "passwd", "frank", stdin="pw-secret1\n")
    g.ctl("user", "totp", "frank", "--secret", SECRET)
    g.user("hank", zone="onsite")
    g.ctl("user", "lock", "gina")
    g.start()
    fresh_step()

    rc, out, _ = g.login("alice", "echo pw-ok")
    check(rc == 0 and "pw-ok" in out, "password + code logs in")
    rc, out, _ = g.login("ivy", "echo v6-ok", host="::1")
    check(rc == 0 and "v6-ok" in out, "login over IPv6 ([::1])")
    rc, out, _ = g.login("bob", "echo key-ok", key=key)
    check(rc == 0 and "key-ok" in out and "assword" not in out,
          "public key + code logs in without a password prompt")
    rc, out, _ = g.login("bob+p1", "echo key-ok", key=g.keypair("other"), password="wrong")
    check(rc == 255, "an unregistered key is refused")
    rc, out, _ = g.login("dave", "echo no", password="wrong")
    check(rc == 255, "wrong password is refused")
    code = totp()
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    rc, out, _ = g.login("erin", "echo no", code=wrong)
    check(rc == 255, "wrong code is refused")
    fresh_step(8)
    code = totp()
    rc, out, _ = g.login("carol", "echo first", code=code)
    check(rc == 0 and "first" in out, "carol's first login with code %s" % code)
    rc, out, _ = g.login("carol", "echo second", code=code)
    check(rc == 255 and "second" not in out, "the same code (time step) is refused a second time")
    rc, out, _ = g.login("frank", "echo no")
    check(rc == 255, "expired account is refused")
    rc, out, _ = g.login("gina", "echo no")
    check(rc == 255, "locked account is refused")
    rc, out, _ = g.login("hank", "echo no")
    check(rc == 255, "account not allowed in the connecting zone is refused")
    rc, out, _ = g.login("nobody", "echo no")
    check(rc == 255, "unknown account is refused the same way")
    audit = g.ctl("audit", "list").stdout
    check("login.fail" in audit and "login.ok" in audit, "logins are audited")
    for who, why in (("frank", "expired"), ("gina", "locked"), 
                     ("hank", "not allowed"), ("carol", "replayed"), ("erin", "wrong totp"),
                     ("bob+p1", "public key not registered")):
        check(any(who in l and why in l for l in audit.splitlines()),
              "%s refused for the right reason (%s)" % (who, why))
finally:
    g.cleanup()
