"""e2e (issue 13 point 4) — export_block_on_fail = yes: a failing export is refused at
submission over real ssh (exit 1, the findings on stderr, nothing queued, no blob kept by a
request); a passing one is queued and prints its report (control). Without a pty too, as a
script runs it."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, PASS_TABLE, check, finish, fresh_step, rid_from

FAIL_TABLE = "age_group,sex,count\n20-24,F,3\n20-24,M,12\n"

g = E2E(22341, "blockfail", airlock="export_types = csv txt\nexport_block_on_fail = yes")
try:
	g.init()
	g.user("ana")
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")

	r = g.mux(ana, "cat > bad.csv && airlock export bad.csv --reason x", stdin=FAIL_TABLE)
	err = r.stderr.splitlines()
	check(r.returncode == 1 and err and err[0].startswith("airlock: export refused") and
	      "export_block_on_fail" in err[0] and "nothing was queued" in err[0],
	      "a failing export is refused at submission (%s)" % r.stderr.strip())
	check(any(l.startswith("fail: row 1, column 3") for l in err) and "result: fail" in err,
	      "the findings are on stderr")
	check(r.stdout == "" and rid_from(r.stderr) is None, "no request id is given")
	check([q for q in g.jlist() if q["kind"] == "export"] == [], "nothing is queued")
	r = g.mux(ana, "airlock status")
	check(r.returncode == 0 and "bad.csv" not in r.stdout, "the analyst's status lists nothing")

	r = g.mux(ana, "cat > good.csv && airlock export good.csv", stdin=PASS_TABLE)
	rid = rid_from(r.stdout)
	check(r.returncode == 0 and rid and "result: pass" in r.stdout and
	      g.jshow(rid)["state"] == "pending", "control: a passing export is queued")
	r = g.mux(ana, "airlock export bad.csv", extra=["-tt"])
	check(r.returncode == 1 and "export refused" in r.stdout + r.stderr,
	      "refused with a terminal too")
	check([q["name"] for q in g.jlist()] == ["good.csv"], "still only the passing export")
finally:
	g.cleanup()
finish()
