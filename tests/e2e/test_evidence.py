"""e2e — evidence around the airlock (issue 11 points 3, 4, 5): SFTP file operations are audit
events (a download from /outbox, an upload to /inbox, a refused remove or rename); `audit list
--user --event` filters them; a request record set to "released" by hand in LMDB is neither
listed in /outbox nor served nor decided, while the honest release beside it still is."""
import json
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, PASS_TABLE, check, finish, fresh_step, rid_from, sha256_bytes, sha256_file

g = E2E(22301, "evidence", airlock="export_types = csv txt")
FLIP = os.path.join(os.environ.get("WSGATE_BIN", ""), "audit-flip")


def events(*args):
	return [json.loads(l) for l in g.ctl("audit", "export", *args).stdout.splitlines()]


try:
	g.init()
	g.user("ana")
	g.user("sta", role="stats")
	g.user("adm1", role="admin", project=None)
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	sta = g.master_as("sta", "sta")
	adm = g.master_as("adm1", "adm1")

	r = g.mux(ana, "cat > t.csv && airlock export /work/t.csv --reason x", stdin=PASS_TABLE)
	good = rid_from(r.stdout + r.stderr)
	r = g.mux(ana, "cat > u.csv && airlock export /work/u.csv --reason y", stdin=PASS_TABLE)
	forged = rid_from(r.stdout + r.stderr)
	check(good and forged, "two exports queued (%s, %s): %s" % (good, forged, r.stdout + r.stderr))
	r = g.mux(adm, "transfer approve %d --note ok" % good)
	check(r.returncode == 0, "control: the first is approved and released")

	# The attacker's edit: the pending request becomes "released" in LMDB.
	subprocess.run([FLIP, g.state, "req-state", str(forged), "5"], check=True)
	r = g.sftp(sta, "ls -1 /outbox\n")
	listed = [os.path.basename(x) for x in r.stdout.split()]
	check(r.returncode == 0 and str(good) in listed and str(forged) not in listed,
	      "/outbox lists the honest release and not the forged one: %r" % r.stdout)
	out = os.path.join(g.dir, "forged.csv")
	r = g.sftp(sta, "get /outbox/%d/u.csv %s\n" % (forged, out))
	check(r.returncode != 0 and not os.path.exists(out), "the forged one is not served")
	out = os.path.join(g.dir, "good.csv")
	r = g.sftp(sta, "get /outbox/%d/t.csv %s\n" % (good, out))
	check(r.returncode == 0 and sha256_file(out) == sha256_bytes(PASS_TABLE.encode()),
	      "control: the honest one is")
	r = g.mux(adm, "transfer approve %d --note ok" % forged)
	check(r.returncode == 1 and ("request %d" % forged) in r.stderr,
	      "the forged one cannot be decided, and the error names it: %r" % r.stderr)
	check("request %d: its record does not verify" % forged in g.logtext(),
	      "the daemon's log names the record")

	# SFTP operations in the audit log.
	r = g.sftp(sta, "rm /outbox/%d/t.csv\n" % good)
	check(r.returncode != 0, "control: stats cannot remove from /outbox")
	path = g.write("in.csv", PASS_TABLE.encode())
	r = g.sftp(ana, "put %s /inbox/in.csv\nrename /inbox/in.csv /inbox/other.csv\n" % path)
	ev = events("--user", "sta", "--event", "sftp.*")
	check(ev and all(e["actor"] == "sta" and e["event"].startswith("sftp.") for e in ev),
	      "audit export --user --event filters: %s" % [e["event"] for e in ev])
	check(any(e["event"] == "sftp.open" and "result=ok" in e["detail"] and
	          "id=%d" % good in e["detail"] for e in ev), "a download from /outbox is audited")
	check(any(e["event"] == "sftp.refused" and "op=remove" in e["detail"] and
	          e["role"] == "stats" for e in ev), "the refused remove is audited")
	ev = events("--user", "ana", "--event", "sftp.*")
	check(any(e["event"] == "sftp.upload" and "phase=commit" in e["detail"] and
	          "in.csv" in e["detail"] for e in ev), "an upload to /inbox is audited")
	check(any(e["event"] == "sftp.refused" and "op=rename" in e["detail"] for e in ev),
	      "a refused rename is audited: %s" % [e["detail"] for e in ev])
	ap = [e for e in events("--user", "adm1", "--event", "transfer.approve")]
	check(ap and ap[0]["role"] == "admin" and ap[0]["addr"].startswith("127.0.0.1"),
	      "an admin's decision over SSH carries the admin's role and address: %s" % ap)
	r = g.ctl("--from", "127.0.0.1", "audit", "list", check_rc=False)
	check(r.returncode == 2, "--from only goes with --as")
	lst = g.ctl("audit", "list", "--event", "sftp.open").stdout.splitlines()
	check(lst and all(" sftp.open " in l for l in lst), "audit list --event (text)")
	check(g.ctl("audit", "verify").returncode == 0, "the audit log verifies")
finally:
	g.cleanup()
finish()
