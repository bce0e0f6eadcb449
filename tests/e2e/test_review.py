"""e2e (issue 13 points 2-4) — the review workbench over real ssh, with reviews_required = 2:
`airlock export` prints the check report at once; two different admins, neither the requester,
must approve; an admin sees another admin's review only after deciding; one review per admin;
one reject rejects; `transfer list` shows pending (1/2). Return and resubmit: `transfer return
ID --note`, the analyst's `airlock status ID` shows the note, `airlock export PATH --replaces
ID` links the new request, `transfer show` shows the chain and what changed in the check
report; a request can be replaced once, and only after a return."""
import json
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, PASS_TABLE, audit_events, check, finish, fresh_step, rid_from

FAIL_TABLE = "age_group,sex,count\n20-24,F,3\n20-24,M,12\n25-29,F,31\n"
FIXED_TABLE = "age_group,sex,count\n20-24,F,<10\n20-24,M,12\n25-29,F,31\n"

g = E2E(22340, "review", airlock="export_types = csv txt\nreviews_required = 2")


def state(rid):
	return g.jshow(rid)["state"]


def line_of(text, rid):
	return [l for l in text.splitlines() if l.split(" ")[0] == str(rid)]


try:
	g.init()
	g.user("ana")
	for a in ("adm1", "adm2", "adm3"):
		g.user(a, role="admin", project=None)
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	a1 = g.master_as("adm1", "adm1")
	a2 = g.master_as("adm2", "adm2")
	a3 = g.master_as("adm3", "adm3")

	# Point 4: the report comes back with the acknowledgement.
	r = g.mux(ana, "cat > t.csv && airlock export t.csv --reason 'table 1'", stdin=FAIL_TABLE)
	rid = rid_from(r.stdout)
	check(r.returncode == 0 and rid is not None and "check report:" in r.stdout and
	      "result: fail" in r.stdout and "\nfail: " in r.stdout,
	      "analyst: export prints the failing check report at once (%s)" % r.stdout.strip())
	check(r.stdout.count("result: fail") == 1 and g.jshow(rid)["report"] in r.stdout,
	      "the analyst's report is the reviewer's report")
	r = g.mux(ana, "cat > p.csv && airlock export p.csv", stdin=PASS_TABLE)
	pid = rid_from(r.stdout)
	check(r.returncode == 0 and "result: pass" in r.stdout, "control: a passing export says pass")

	r = g.mux(a3, "transfer approve %d --note ''" % rid)
	check(r.returncode == 1 and "needs a note" in r.stderr and state(rid) == "pending",
	      "approving a failing request with an empty note is refused (%s)" % r.stderr.strip())

	# Point 2: two approvals, hidden from each other until both decided.
	r = g.mux(a1, "transfer approve %d --note 'adm1: ok, 3 is a typo?'" % rid)
	check(r.returncode == 0 and "1 of 2" in r.stdout and state(rid) == "pending",
	      "adm1's approval is recorded, the request stays pending (%s)" % r.stdout.strip())
	r = g.mux(a2, "transfer list")
	lines = line_of(r.stdout, rid)
	check(r.returncode == 0 and lines and "pending (1/2)" in lines[0] and
	      "pending (0/2)" in line_of(r.stdout, pid)[0],
	      "transfer list over ssh shows pending (1/2) and (0/2) (%s)" % lines)
	r = g.mux(a2, "transfer show %d" % rid)
	check(r.returncode == 0 and "hidden until you review" in r.stdout and
	      "typo" not in r.stdout, "adm2 does not see adm1's review before deciding")
	j = json.loads(g.mux(a2, "transfer show %d --json" % rid).stdout)
	check(j["reviews"] == [] and j["reviews_hidden"] == 1, "nor in --json (%s)" % j["reviews"])
	r = g.mux(a1, "transfer show %d" % rid)
	check("typo" in r.stdout, "adm1 sees its own review")
	r = g.mux(a1, "transfer approve %d --note again" % rid)
	check(r.returncode == 1 and "reviewed it already" in r.stderr and state(rid) == "pending",
	      "adm1 cannot approve twice (%s)" % r.stderr.strip())
	r = g.mux(a2, "transfer approve %d --note 'adm2: fine'" % rid)
	check(r.returncode == 0 and "released" in r.stdout and state(rid) == "released",
	      "adm2's approval, the second, releases it (%s)" % r.stdout.strip())
	r = g.mux(a3, "transfer show %d" % rid)
	check("typo" in r.stdout and "adm2: fine" in r.stdout,
	      "once decided, both reviews are shown to anyone")

	# One reject rejects, whatever the approvals.
	r = g.mux(a1, "transfer approve %d --note yes" % pid)
	r = g.mux(a3, "transfer reject %d --note 'no: wrong project'" % pid)
	check(r.returncode == 0 and state(pid) == "rejected", "one reject rejects after an approval")
	r = g.mux(a2, "transfer approve %d --note late" % pid)
	check(r.returncode == 1 and state(pid) == "rejected", "a rejected request takes no approval")

	# Neither approver may be the requester: an admin's own import needs two others.
	r = g.mux(a1, "transfer import p1 remote - --name codes.csv", stdin="code\nA01\n")
	iid = rid_from(r.stdout)
	r = g.mux(a1, "transfer approve %d --note mine" % iid)
	check(r.returncode == 1 and "two-person rule" in r.stderr, "adm1 cannot approve its import")
	g.mux(a2, "transfer approve %d --note one" % iid)
	check(state(iid) == "pending", "one other admin's approval is not enough")
	r = g.mux(a3, "transfer approve %d --note two" % iid)
	check(r.returncode == 0 and state(iid) == "released", "two other admins release it")

	# Point 3: return, status with the note, resubmit with --replaces, the chain.
	r = g.mux(ana, "cat > r.csv && airlock export r.csv --reason 'table 2'", stdin=FAIL_TABLE)
	old = rid_from(r.stdout)
	r = g.mux(a1, "transfer return %d" % old)
	check(r.returncode == 2 and state(old) == "pending", "return without --note: usage error")
	r = g.mux(a1, "transfer return %d --note ''" % old)
	check(r.returncode == 1 and state(old) == "pending", "return with an empty note: refused")
	r = g.mux(a1, "transfer return %d --note 'row 1: suppress the 3 (<10)'" % old)
	check(r.returncode == 0 and state(old) == "returned", "adm1 returns it (%s)" % r.stdout)
	r = g.mux(ana, "airlock status %d" % old)
	check(r.returncode == 0 and "returned" in r.stdout and "suppress the 3" in r.stdout and
	      "--replaces %d" % old in r.stdout, "analyst: status shows the note and how to resubmit")
	r = g.mux(ana, "airlock status")
	check(line_of(r.stdout, old) and "returned" in line_of(r.stdout, old)[0],
	      "analyst: the listing says returned")
	r = g.mux(ana, "airlock export r.csv --replaces %d" % pid)
	check(r.returncode == 1 and "only a returned request" in r.stderr,
	      "--replaces of a request that was not returned is refused (%s)" % r.stderr.strip())
	r = g.mux(ana, "cat > r.csv && airlock export r.csv --replaces %d" % old, stdin=FIXED_TABLE)
	new = rid_from(r.stdout)
	check(r.returncode == 0 and new and "replaces request %d" % old in r.stdout and
	      "result: pass" in r.stdout, "analyst: resubmission linked (%s)" % r.stdout.strip())
	r = g.mux(ana, "airlock export r.csv --replaces %d" % old)
	check(r.returncode == 1 and "resubmitted already as request %d" % new in r.stderr,
	      "a returned request is replaced once (%s)" % r.stderr.strip())
	r = g.mux(a2, "transfer show %d" % new)
	check(r.returncode == 0 and "chain:     %d (returned) -> %d (pending)*" % (old, new)
	      in r.stdout, "transfer show: the chain (%s)" % r.stdout)
	check("suppress the 3" in r.stdout and "\n  - fail:" in r.stdout and
	      "\n  + result: pass" in r.stdout and "\n  - result: fail" in r.stdout,
	      "transfer show: the return note and what changed in the check report")
	j = json.loads(g.mux(a2, "transfer show %d --json" % old).stdout)
	check(j["chain"] == [old, new] and j["replaces"] is None, "--json chain of the old one")
	r = g.mux(ana, "airlock status %d" % old)
	check("replaced by: request %d" % new in r.stdout, "status of the old: replaced by the new")

	ev = [(a, e, kv.get("id")) for _, a, e, kv in audit_events(g)]
	check(("adm1", "transfer.review", str(rid)) in ev and ("adm2", "transfer.approve", str(rid))
	      in ev and ("adm1", "transfer.return", str(old)) in ev and
	      ("ana", "transfer.resubmit", str(new)) in ev, "audit: review, approve, return, resubmit")
	check(g.ctl("audit", "verify", check_rc=False).returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
