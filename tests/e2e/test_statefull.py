"""Issue 14 point 6 — a full state file system. state_dir is a small tmpfs made here; an analyst
whose area has no quota fills it from a real ssh session ("No space left on device"). Then:
- the database's reserve (common/store.h: preallocated at init and at start) keeps every write
  working: logins of other accounts, wsgatectl user add many times over, and the audit chain
  verifies; a recorded session (issue 11) cannot write its recording there, so it does not
  run and says why (fail closed);
- an upload into the quarantine fails with an SFTP error and queues nothing;
- control, same steps with the reserve off (WSGATE_STORE_RESERVE=0, test builds): the writes
  fail with ENOSPC, so the reserve is what the first half measured.
Needs root (mount)."""
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, fresh_step, finish, fail

WRITES = 60  # wsgatectl user add after the fill: each is an account record and an audit record


def scenario(port, reserve):
	env = dict(os.environ)
	if not reserve:
		env["WSGATE_STORE_RESERVE"] = "0"
	g = E2E(port, "statefull-%s" % ("reserve" if reserve else "none"), airlock="")
	mounted = False
	res = {}
	try:
		os.makedirs(g.state, mode=0o700)
		subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160M,mode=0700", "tmpfs", g.state],
		               check=True)
		mounted = True
		g.ctl("init", env=env)
		g.ctl("project", "add", "p1", env=env)
		g.user("ana")
		g.user("bob")
		g.start(env=env)
		fresh_step()
		a = g.master_as("ana", "ana")
		r = g.mux(a, "dd if=/dev/zero of=/work/fill bs=1M count=400")
		res["filled"] = r.returncode != 0 and "No space left on device" in r.stderr
		df = os.statvfs(g.state)
		res["free_kib"] = df.f_bavail * df.f_frsize // 1024
		b = g.master_as("bob", "bob")
		res["login"] = b is not None and g.master_ok(b)
		# His command would be recorded ([audit] record, analysts by default) and the
		# recording cannot be written: it does not run (fail closed), and says why.
		r = g.mux(b, "echo in")
		res["unrecorded_refused"] = "in" not in r.stdout and "record" in r.stderr
		res["refusal"] = r.stderr.strip()[-200:]
		up = g.write("up.txt", b"x" * (1 << 20))
		r = g.sftp(a, "put %s /inbox/up.txt\n" % up)
		res["upload_refused"] = (r.returncode != 0 and not g.imports("up.txt") and
		                         not g.store_check()[1])
		fails = []
		for i in range(WRITES):
			r = g.ctl("user", "add", "u%d" % i, "--role", "analyst", "--project", "p1",
			          "--zone", "office", check_rc=False, env=env)
			if r.returncode != 0:
				fails.append(r.stderr.strip())
		res["ctl_fails"] = fails
		r = g.ctl("audit", "verify", check_rc=False, env=env)
		res["verify"] = r.returncode == 0
	finally:
		for c in getattr(g, "masters", []):
			c.close(force=True)
		g.masters = []
		g.stop()
		if mounted:
			subprocess.run(["umount", g.state])
		g.cleanup()
	return res


try:
	r = scenario(22381, True)
	check(r["filled"], "ana fills the state file system: 'No space left on device' in her session"
	      " (%d KiB left)" % r["free_kib"])
	check(r["login"], "with the reserve: bob logs in (his login is recorded in the reserve)")
	check(r["unrecorded_refused"], "bob's command, which cannot be recorded on the full file "
	      "system, does not run and says so (%s)" % r["refusal"])
	check(r["upload_refused"],
	      "an upload into the full quarantine fails, queues nothing, leaves no staging file")
	check(not r["ctl_fails"], "%d wsgatectl writes after the fill all succeed (%s)" %
	      (WRITES, (r["ctl_fails"] or ["-"])[0]))
	check(r["verify"], "the audit chain verifies")
	c = scenario(22382, False)
	check(c["filled"], "control: the same fill without the reserve")
	check(c["ctl_fails"] or not c["login"],
	      "control: without the reserve, writes fail (%d of %d wsgatectl writes: %s)" %
	      (len(c["ctl_fails"]), WRITES, (c["ctl_fails"] or ["login refused"])[0]))
	finish()
except SystemExit:
	raise
except Exception as e:  # noqa: BLE001
	fail("unexpected: %r" % e)
