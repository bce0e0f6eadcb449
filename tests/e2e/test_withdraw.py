"""e2e 5 — airlock withdraw and status: an analyst withdraws a pending request of their own
(export or upload); not someone else's, not a decided one; a withdrawn request cannot be
approved; status shows each state; another project's requests answer "no such request"."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, PASS_TABLE, check, fresh_step, rid_from, finish

g = E2E(22234, "withdraw", airlock="export_types = csv txt")


def state(rid):
	return g.jshow(rid)["state"]


try:
	g.init()
	g.ctl("project", "add", "p2")
	g.user("ana")
	g.user("ann")
	g.user("bob", project="p2")
	g.user("adm1", role="admin", project=None)
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	ann = g.master_as("ann", "ann")
	bob = g.master_as("bob", "bob")
	adm = g.master_as("adm1", "adm1")

	r = g.mux(ana, "cat > a.csv && airlock export a.csv --reason first", stdin=PASS_TABLE)
	ra = rid_from(r.stdout)
	r = g.mux(ann, "cat > n.csv && airlock export n.csv", stdin=PASS_TABLE)
	rn = rid_from(r.stdout)
	r = g.mux(ann, "cat > n2.csv && airlock export n2.csv", stdin=PASS_TABLE)
	rn2 = rid_from(r.stdout)
	check(None not in (ra, rn, rn2), "three exports by two analysts of p1")

	r = g.mux(ana, "airlock status")
	check(r.returncode == 0 and all(n in r.stdout for n in ("a.csv", "n.csv", "n2.csv")),
	      "status lists the project's requests, including a colleague's")
	r = g.mux(ana, "airlock withdraw %d" % rn)
	check(r.returncode == 1 and r.stderr.startswith("airlock: ") and
	      len(r.stderr.strip().splitlines()) == 1 and state(rn) == "pending",
	      "withdrawing a colleague's request fails with one line (%s)" % r.stderr.strip())
	rw = r = g.mux(bob, "airlock withdraw %d" % ra)
	check(r.returncode == 1 and state(ra) == "pending",
	      "another project's analyst cannot withdraw it (%s)" % r.stderr.strip())
	r = g.mux(bob, "airlock status %d" % ra)
	r2 = g.mux(bob, "airlock status 999999")
	check(r.returncode == 1 and "a.csv" not in r.stdout and
	      r.stderr.replace(str(ra), "N") == r2.stderr.replace("999999", "N"),
	      "another project's request looks like a missing one (%s)" % r.stderr.strip())
	r2 = g.mux(bob, "airlock withdraw 999999")
	check(r2.returncode == 1 and
	      rw.stderr.replace(str(ra), "N") == r2.stderr.replace("999999", "N"),
	      "withdraw: another project's request looks like a missing one")
	r = g.mux(ana, "airlock withdraw %d" % ra)
	check(r.returncode == 0 and state(ra) == "withdrawn", "withdrawing one's own pending works")
	r = g.mux(ana, "airlock status %d" % ra)
	check(r.returncode == 0 and "withdrawn" in r.stdout, "status shows it withdrawn")
	r = g.mux(ana, "airlock withdraw %d" % ra)
	check(r.returncode == 1 and state(ra) == "withdrawn", "a second withdraw fails")
	r = g.mux(adm, "transfer approve %d --note late" % ra)
	check(r.returncode == 1 and state(ra) == "withdrawn",
	      "a withdrawn request cannot be approved (%s)" % r.stderr.strip())
	r = g.mux(adm, "transfer reject %d --note late" % ra)
	check(r.returncode == 1 and state(ra) == "withdrawn", "nor rejected")
	r = g.sftp(ana, "ls /outbox/%d\n" % ra)
	check(r.returncode != 0, "nothing of it in /outbox")

	r = g.mux(adm, "transfer approve %d --note ok" % rn)
	r2 = g.mux(adm, "transfer reject %d --note no" % rn2)
	check(r.returncode == 0 and r2.returncode == 0, "admin decides ann's two exports")
	for rid, st in ((rn, "released"), (rn2, "rejected")):
		r = g.mux(ann, "airlock withdraw %d" % rid)
		check(r.returncode == 1 and state(rid) == st, "a %s request cannot be withdrawn" % st)
	r = g.mux(ann, "airlock status")
	check("released" in r.stdout and "rejected" in r.stdout and "withdrawn" in r.stdout,
	      "status shows released, rejected and withdrawn")

	up = os.path.join(g.dir, "u.csv")
	with open(up, "w") as f:
		f.write("k,v\n1,2\n")
	g.sftp(ana, "put %s /inbox/u.csv\n" % up)
	ru = [q["id"] for q in g.jlist() if q["name"] == "u.csv"]
	check(len(ru) == 1, "an upload is one import request")
	r = g.mux(ann, "airlock withdraw %d" % ru[0])
	check(r.returncode == 1 and state(ru[0]) == "pending", "a colleague cannot withdraw it")
	r = g.mux(ana, "airlock withdraw %d" % ru[0])
	check(r.returncode == 0 and state(ru[0]) == "withdrawn", "the uploader withdraws it")
	r = g.mux(adm, "transfer approve %d --note x" % ru[0])
	r2 = g.mux(ana, "ls -A /work/imports")
	check(r.returncode == 1 and "u.csv" not in r2.stdout, "the withdrawn import is never delivered")
	for bad in ("airlock withdraw", "airlock withdraw abc", "airlock withdraw -1",
	            "airlock withdraw 99999999999999999999999", "airlock withdraw 1 2"):
		r = g.mux(ana, bad)
		check(r.returncode == 2 and "usage" in r.stderr,
		      "`%s`: usage error, exit 2 (rc %d)" % (bad, r.returncode))
	audit = g.ctl("audit", "list").stdout
	check(audit.count("transfer.withdraw") == 2, "two withdrawals in the audit log")
	check(g.ctl("audit", "verify", check_rc=False).returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
