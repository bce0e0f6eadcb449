"""Issue 14 point 6 — the LMDB map full, seen from the daemon (tests/ctl/ctl_mapfull.sh covers
wsgatectl). With a tiny map (WSGATE_STORE_MAP_SIZE, test builds only) filled by wsgatectl:
- once the audit log's last page is full too, a login cannot record itself and is refused like
  any failed login, the daemon's log naming MDB_MAP_FULL (should a login still fit in pages
  LMDB can reuse, it must be audited); the listener keeps serving;
- an analyst session opened before the map filled keeps its shell;
- with the map back to its size (a restart without the variable), the same login works, and
  the audit chain verifies with every record made before."""
import os
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, fresh_step, finish, fail

g = E2E(22384, "mapfull", airlock="")
tiny = dict(os.environ, WSGATE_STORE_MAP_SIZE=str(256 * 1024))

try:
	g.ctl("init", env=tiny)
	g.ctl("project", "add", "p1", env=tiny)
	g.user("ana")
	g.user("bob")
	g.user("cy")
	g.start(env=tiny)
	fresh_step()
	a = g.master_as("ana", "ana")
	check(g.mux(a, "echo before").stdout.strip() == "before", "ana's session before the fill")
	full = None
	for i in range(5000):
		r = g.ctl("project", "add", "f%d" % i, check_rc=False, env=tiny)
		if r.returncode != 0:
			full = r.stderr.strip()
			break
	check(full is not None and "MDB_MAP_FULL" in full, "wsgatectl fills the map: %s" % full)
	# Then the audit log's last page: lock/unlock rewrite one record (pages LMDB can reuse) and
	# append an audit record each, until an append finds no page left.
	last = None
	for i in range(5000):
		r = g.ctl("user", "lock" if i % 2 == 0 else "unlock", "cy", check_rc=False, env=tiny)
		if r.returncode != 0:
			last = r.stderr.strip()
			break
	check(last is not None and "MDB_MAP_FULL" in last,
	      "and the audit log's last page (%d more writes): %s" % (i, last))
	# Whether a login still fits depends on the pages LMDB can reuse; either outcome must be
	# clean: refused with MDB_MAP_FULL in the log, or let in with its audit record written.
	rc, out, _ = g.login("bob", "echo in")
	if rc == 0:
		ev = [l for l in g.ctl("audit", "list").stdout.splitlines() if " bob login.ok " in l]
		check("in" in out and ev,
		      "bob's login fitted in reused pages and is in the audit log")
	else:
		for _ in range(200):  # the connection process may still be writing its log line
			if "MDB_MAP_FULL" in g.logtext():
				break
			time.sleep(0.05)
		check("in" not in out.split() and "MDB_MAP_FULL" in g.logtext(),
		      "bob's login could not be recorded: refused, the log names MDB_MAP_FULL (%s)" %
		      g.logtext().strip().splitlines()[-3:])
	check(g.proc.poll() is None, "the listener still runs")
	r = g.mux(a, "echo still")
	check(r.returncode == 0 and r.stdout.strip() == "still",
	      "ana's open session still runs commands")
	g.stop()
	g.ctl("user", "unlock", "cy", check_rc=False)  # the fill may have stopped after a lock
	g.start()
	fresh_step()
	rc, out, _ = g.login("cy", "echo in")
	check(rc == 0 and "in" in out, "with the map at its size again, cy logs in")
	r = g.ctl("audit", "verify", check_rc=False)
	check(r.returncode == 0, "the audit chain verifies: %s" % r.stdout.strip())
	finish()
except SystemExit:
	raise
except Exception as e:  # noqa: BLE001
	fail("unexpected: %r" % e)
finally:
	g.cleanup()
