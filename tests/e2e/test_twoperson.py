"""e2e 2 — two-person rule over SSH: a request an admin made (import, move; over ssh or with
wsgatectl --as) cannot be decided by that admin by either path; another admin can. Analysts
cannot run transfer commands; stats users have no shell and no exec."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, audit_events, check, fresh_step, rid_from, sha256_bytes, finish

ZONES = {"office": ("127.0.0.1/32", "remote"), "centre": ("::1/128", "onsite")}
g = E2E(22231, "twoperson", zones=ZONES, airlock="export_types = csv txt")


def state(rid):
	return g.jshow(rid)["state"]


try:
	g.init()
	g.user("ana")
	g.user("sta", role="stats")
	g.user("adm1", role="admin", project=None)
	g.user("adm2", role="admin", project=None)
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	sta = g.master_as("sta", "sta")
	a1 = g.master_as("adm1", "adm1")
	a2 = g.master_as("adm2", "adm2")

	data = "code,label\nA01,first\nB02,second\n"
	r = g.mux(a1, "transfer import p1 remote - --name lookup.csv --reason 'code list'",
	          stdin=data)
	rid = rid_from(r.stdout + r.stderr)
	check(r.returncode == 0 and rid is not None,
	      "adm1: import over ssh from stdin (%s)" % (r.stdout + r.stderr).strip())
	check(g.jshow(rid)["requester"] == "adm1", "the import's requester is adm1")
	r = g.mux(a1, "transfer approve %d --note mine" % rid)
	check(r.returncode == 1 and r.stderr.startswith("wsgatectl: ") and state(rid) == "pending",
	      "adm1 over ssh cannot approve its own import (%s)" % r.stderr.strip())
	r = g.mux(a1, "transfer reject %d --note mine" % rid)
	check(r.returncode == 1 and state(rid) == "pending",
	      "adm1 over ssh cannot reject its own import either")
	r = g.ctl("--as", "adm1", "transfer", "approve", str(rid), "--note", "mine", check_rc=False)
	check(r.returncode == 1 and state(rid) == "pending",
	      "wsgatectl --as adm1 cannot approve it either (%s)" % r.stderr.strip())
	r = g.mux(a2, "transfer approve %d --note 'second pair of eyes'" % rid)
	j = g.jshow(rid)
	check(r.returncode == 0 and j["state"] == "released" and j["reviewer"] == "adm2",
	      "adm2 over ssh approves it; released, reviewer adm2")
	r = g.mux(ana, "sha256sum /work/imports/lookup.csv")
	check(r.returncode == 0 and sha256_bytes(data.encode()) in r.stdout,
	      "the import arrived in the analyst's area")
	r = g.mux(a2, "transfer approve %d --note again" % rid)
	check(r.returncode == 1 and g.jshow(rid)["reviewer"] == "adm2",
	      "a decided request cannot be decided again")

	r = g.mux(ana, "printf 'x,y\\n1,20\\n' > /work/m.csv")
	r = g.ctl("--as", "adm2", "transfer", "move", "p1", "remote", "onsite", "m.csv",
	          check_rc=False)
	mid = rid_from(r.stdout + r.stderr)
	check(r.returncode == 0 and mid is not None and g.jshow(mid)["requester"] == "adm2",
	      "wsgatectl --as adm2: move request (%s)" % (r.stdout + r.stderr).strip())
	r = g.mux(a2, "transfer approve %d --note mine" % mid)
	check(r.returncode == 1 and state(mid) == "pending", "adm2 over ssh cannot approve its move")
	r = g.ctl("--as", "adm2", "transfer", "reject", str(mid), "--note", "x", check_rc=False)
	check(r.returncode == 1 and state(mid) == "pending", "nor with wsgatectl --as adm2")
	r = g.mux(a1, "transfer reject %d --note 'not needed'" % mid)
	check(r.returncode == 0 and state(mid) == "rejected", "adm1 rejects adm2's move over ssh")

	r = g.ctl("transfer", "import", "p1", "remote", g.conf, "--name", "conf.txt")
	cid = rid_from(r.stdout + r.stderr)
	r = g.ctl("transfer", "approve", str(cid), "--note", "self", check_rc=False)
	check(cid is not None and r.returncode == 1 and state(cid) == "pending",
	      "local root cannot approve root's own import")
	r = g.mux(a1, "transfer reject %d --note no" % cid)
	check(r.returncode == 0 and state(cid) == "rejected", "but an admin can decide it")

	dec = [(actor, ev, kv.get("id")) for _, actor, ev, kv in audit_events(g)
	       if ev in ("transfer.approve", "transfer.reject")]
	check(sorted(dec) == sorted([("adm2", "transfer.approve", str(rid)),
	                             ("adm1", "transfer.reject", str(mid)),
	                             ("adm1", "transfer.reject", str(cid))]),
	      "the audit log has exactly the three decisions, under the deciding admin (%s)" % dec)

	# The analyst: no transfer commands inside the sandbox, and the airlock has no decisions.
	r = g.mux(ana, "transfer list")
	check(r.returncode != 0 and "lookup.csv" not in r.stdout, "analyst: `transfer list` fails")
	r = g.mux(ana, "transfer approve %d --note x" % mid)
	check(r.returncode != 0 and state(mid) == "rejected", "analyst: `transfer approve` fails")
	r = g.mux(ana, "wsgatectl transfer list; ls /work/../state /state 2>&1; echo end")
	check("lookup.csv" not in r.stdout and "data.mdb" not in r.stdout,
	      "analyst: no wsgatectl, no gateway state in the sandbox")
	r = g.mux(ana, "airlock approve %d" % mid)
	check(r.returncode == 2, "analyst: `airlock approve` is a usage error (rc %d)" % r.returncode)

	# The stats user: no shell, no exec, so no transfer commands either.
	r = g.mux(sta, "transfer list")
	check(r.returncode != 0 and "lookup" not in r.stdout, "stats: exec `transfer list` refused")
	r = g.mux(sta, "echo hi")
	check(r.returncode != 0 and "hi" not in r.stdout, "stats: exec refused")
	r = g.mux(sta, None, extra=["-tt"], stdin="echo hi\nexit\n")
	check(r.returncode != 0 and "hi\r" not in r.stdout, "stats: shell refused")
	r = g.ctl("audit", "verify", check_rc=False)
	check(r.returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
