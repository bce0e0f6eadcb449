"""e2e — issue 10 point 7: `airlock export` reads the file as the analyst who asks. Two analysts
of one project share /work; alice's mode-0600 file cannot be exported by bob (he cannot read it
in his sandbox either), alice can export it, and bob can export a group-readable file of hers.
Files are written in sessions with a pty (ssh -tt), as an analyst does."""
import os
import stat
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, PASS_TABLE, check, fresh_step, rid_from, finish

g = E2E(22251, "export-perms", airlock="export_types = csv txt")


def tty(sock, cmd):
	"""cmd in a session with a pty; the pty merges stderr into stdout."""
	r = g.mux(sock, cmd, stdin="", extra=["-tt", "-q"])
	r.out = (r.stdout + r.stderr).replace("\r", "")
	return r


def exports():
	return [q for q in g.jlist() if q["kind"] == "export"]


try:
	g.init()
	g.user("alice")
	g.user("bob")
	g.user("adm1", role="admin", project=None)
	g.start()
	fresh_step()
	alice = g.master_as("alice", "alice")
	bob = g.master_as("bob", "bob")

	line = PASS_TABLE.replace("\n", "\\n")
	r = tty(alice, "printf '%s' > /work/x.csv && chmod 600 /work/x.csv && "
	        "printf '%s' > /work/shared.csv && chmod 640 /work/shared.csv" % (line, line))
	check(r.returncode == 0, "alice writes x.csv (0600) and shared.csv (0640) in a pty session "
	      "(%s)" % r.out.strip())
	area = g.area_path("p1", "remote")  # the area of gwtest's default zone, office
	check(area is not None, "host side: the area of p1 exists")
	st = os.stat(os.path.join(area, "x.csv"))
	owner = os.stat(os.path.join(area, "shared.csv")).st_uid
	check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == owner and st.st_uid != 0,
	      "host side: x.csv is alice's, mode 0600 (uid %d mode %o)" % (st.st_uid, st.st_mode))

	r = tty(bob, "cat /work/x.csv")
	check(r.returncode != 0 and "age_group" not in r.out,
	      "bob cannot read x.csv in his sandbox (%s)" % r.out.strip())
	before = len(exports())
	r = tty(bob, "airlock export x.csv --reason steal")
	lines = [x for x in r.out.splitlines() if x.strip()]
	check(r.returncode != 0 and len(lines) == 1 and "x.csv" in lines[0] and
	      "permission denied" in lines[0].lower() and rid_from(r.out) is None,
	      "bob: `ssh -t host airlock export x.csv` fails with one line naming the file and "
	      "permission denied (%s)" % r.out.strip())
	r = g.mux(bob, "airlock export /work/x.csv --reason steal")
	check(r.returncode != 0 and "permission denied" in r.stderr.lower() and
	      len(r.stderr.strip().splitlines()) == 1 and r.stdout == "",
	      "bob: without a pty too (%s)" % r.stderr.strip())
	check(len(exports()) == before, "no request was recorded for bob's attempts")

	r = tty(alice, "airlock export x.csv --reason mine")
	rid = rid_from(r.out)
	check(r.returncode == 0 and rid is not None,
	      "alice: exporting her own 0600 file works (%s)" % r.out.strip())
	j = g.jshow(rid)
	check(j["requester"] == "alice" and j["name"] == "x.csv" and j["state"] == "pending",
	      "alice's request is pending under her name")
	r = tty(bob, "airlock export shared.csv --reason shared")
	rid2 = rid_from(r.out)
	check(r.returncode == 0 and rid2 is not None and g.jshow(rid2)["requester"] == "bob",
	      "bob: exporting alice's group-readable 0640 file works (%s)" % r.out.strip())
finally:
	g.cleanup()
finish()
