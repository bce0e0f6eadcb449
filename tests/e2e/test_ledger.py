"""e2e — publication checks over a real session (issue 12): the analyst's `airlock export` prints
the report the reviewer gets; the release ledger catches differencing across releases: a table is
exported, an admin approves it over SSH, then the same table with one cell changed by 3 (rows in
another order, percentages recomputed) fails naming the released request; controls: the unchanged table, a change of 10
or more, and the same change in another project pass. With test hooks, a checker that crashes
gives `fail: checker crashed or timed out` and the gateway carries on."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, finish, fresh_step, rid_from

TABLE = ("age_group,sex,count,pct\n20-24,F,30,20.0\n20-24,M,12,8.0\n25-29,F,31,20.7\n"
         "25-29,M,40,26.7\n85+,F,15,10.0\n85+,M,22,14.7\n")
# the same labels, 25-29/F is 28 (31 - 3: three patients recovered by difference), rows
# shuffled, the percentages recomputed (a measure moves with the counts: it is no label)
SMALL = ("age_group,sex,count,pct\n85+,M,22,15.0\n20-24,M,12,8.2\n25-29,F,28,19.0\n"
         "20-24,F,30,20.4\n25-29,M,40,27.2\n85+,F,15,10.2\n")
# a change of 14: no small difference
LARGE = TABLE.replace("25-29,F,31,20.7", "25-29,F,45,27.4")

g = E2E(22320, "ledger", airlock="export_types = csv txt")
try:
	g.init()
	g.ctl("project", "add", "p2")
	g.user("ana")
	g.user("adm1", role="admin", project=None)
	g.user("bob", project="p2")
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	adm = g.master_as("adm1", "adm1")
	bob = g.master_as("bob", "bob")

	r = g.mux(ana, "cat > t.csv && airlock export /work/t.csv --reason first", stdin=TABLE)
	rid = rid_from(r.stdout)
	check(r.returncode == 0 and rid is not None and "result: pass" in r.stdout,
	      "analyst: export acknowledged with its report (%s)" % (r.stdout + r.stderr).strip())
	r = g.mux(adm, "transfer approve %d --note ok" % rid)
	check(r.returncode == 0 and g.jshow(rid)["state"] == "released",
	      "admin: approve over ssh, released (%s)" % r.stderr.strip())

	r = g.mux(ana, "cat > t2.csv && airlock export /work/t2.csv --reason again", stdin=SMALL)
	rid2 = rid_from(r.stdout)
	check(r.returncode == 0 and rid2 is not None and "result: fail" in r.stdout and
	      "differencing_release" in r.stdout and "released request %d" % rid in r.stdout,
	      "analyst: the changed table fails, naming request %d (%s)" % (rid, r.stdout.strip()))
	check('row 3, column 3 ("count", "28")' in r.stdout,
	      "the finding names the cell of the new table (%s)" % r.stdout.strip())
	analyst_report = r.stdout[r.stdout.index("result:"):]
	r = g.mux(adm, "transfer show %d" % rid2)
	shown = "".join("  " + l + "\n" for l in analyst_report.strip().split("\n"))
	check(r.returncode == 0 and shown in r.stdout,
	      "admin: transfer show prints the same report as the analyst saw (indented)")
	check(g.jshow(rid2)["check"] == "fail", "record: check fail")

	for what, body in (("unchanged", TABLE), ("changed by 14", LARGE)):
		r = g.mux(ana, "cat > t3.csv && airlock export /work/t3.csv", stdin=body)
		check(r.returncode == 0 and "result: pass" in r.stdout,
		      "control: the %s table passes (%s)" % (what, r.stdout.strip()))
	r = g.mux(bob, "cat > t.csv && airlock export /work/t.csv", stdin=SMALL)
	check(r.returncode == 0 and "result: pass" in r.stdout,
	      "control: another project's ledger is its own (%s)" % r.stdout.strip())

	if os.environ.get("WSGATE_TEST_HOOKS") in ("ON", "1", "TRUE"):
		r = g.mux(ana, "cat > crash-hook.csv && airlock export /work/crash-hook.csv",
		          stdin=TABLE)
		check(r.returncode == 0 and "fail: checker crashed or timed out" in r.stdout,
		      "a checker that crashes: the one finding (%s)" % (r.stdout + r.stderr).strip())
		r = g.mux(ana, "airlock status")
		check(r.returncode == 0 and "crash-hook.csv" in r.stdout,
		      "the gateway carries on after the checker crashed")
	r = g.ctl("audit", "verify", check_rc=False)
	check(r.returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
