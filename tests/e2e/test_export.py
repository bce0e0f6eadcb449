"""e2e 1 — export flow: an analyst exports a table from the session, edits it afterwards, an
admin reviews (report shown) and approves over SSH, the stats user and the analyst download the
snapshot with sftp and scp (SFTP mode); users of another project see nothing of it."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, PASS_TABLE, check, soft_check, finish, fresh_step, rid_from, sha256_bytes, sha256_file

g = E2E(22230, "export", airlock="export_types = csv txt")
try:
	g.init()
	g.ctl("project", "add", "p2")
	g.user("ana")
	g.user("sta", role="stats")
	g.user("adm1", role="admin", project=None)
	g.user("bob", project="p2")
	g.user("stb", role="stats", project="p2")
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	sta = g.master_as("sta", "sta")
	adm = g.master_as("adm1", "adm1")
	bob = g.master_as("bob", "bob")
	stb = g.master_as("stb", "stb")

	r = g.mux(ana, "cat > t.csv && airlock export /work/t.csv --reason x", stdin=PASS_TABLE)
	rid = rid_from(r.stdout + r.stderr)
	check(r.returncode == 0 and rid is not None,
	      "analyst: export acknowledged with an id (%s)" % (r.stdout + r.stderr).strip())
	snap = sha256_bytes(PASS_TABLE.encode())
	r = g.mux(ana, "printf '30-34,F,3\\n' >> /work/t.csv && sha256sum /work/t.csv")
	check(r.returncode == 0 and snap not in r.stdout, "analyst: t.csv edited after the request")

	r = g.mux(ana, "airlock status %d" % rid)
	check(r.returncode == 0 and "pending" in r.stdout, "analyst: airlock status shows pending")
	r = g.mux(adm, "transfer show %d" % rid)
	check(r.returncode == 0 and "result: pass" in r.stdout and snap in r.stdout and
	      "reason:    x" in r.stdout, "admin: transfer show has the report, hash and reason")
	r = g.mux(adm, "transfer approve %d --note ok" % rid)
	check(r.returncode == 0, "admin: approve over ssh (%s)" % r.stderr.strip())
	j = g.jshow(rid)
	check(j["state"] == "released" and j["reviewer"] == "adm1" and j["note"] == "ok" and
	      j["sha256"] == snap, "record: released, reviewer adm1, note, snapshot hash")

	out = os.path.join(g.dir, "sta-sftp.csv")
	r = g.sftp(sta, "ls -l /outbox/%d\nget /outbox/%d/t.csv %s\n" % (rid, rid, out))
	check(r.returncode == 0 and os.path.exists(out) and sha256_file(out) == snap,
	      "stats: sftp download equals the snapshot, not the edited file (%s)" % r.stderr.strip())
	out = os.path.join(g.dir, "sta-scp.csv")
	r = g.scp(sta, "gw:/outbox/%d/t.csv" % rid, out)
	check(os.path.exists(out) and sha256_file(out) == snap,
	      "stats: scp -s download equals the snapshot (%s)" % r.stderr.strip())
	# scp exits with ssh's status; OpenSSH's ssh exits 255 when the server closes an sftp
	# channel without exit-status (sshd sends 0 when its sftp-server ends).
	soft_check(r.returncode == 0, "stats: scp -s exits 0 after a good download (got %d)" %
	           r.returncode)
	out = os.path.join(g.dir, "ana-sftp.csv")
	r = g.sftp(ana, "get /outbox/%d/t.csv %s\n" % (rid, out))
	check(r.returncode == 0 and os.path.exists(out) and sha256_file(out) == snap,
	      "analyst: sftp download of the released export")
	out = os.path.join(g.dir, "ana-scp.csv")
	r = g.scp(ana, "gw:/outbox/%d/t.csv" % rid, out)
	check(os.path.exists(out) and sha256_file(out) == snap,
	      "analyst: scp -s download of the released export")

	r = g.sftp(sta, "put %s /outbox/%d/t.csv\n" % (out, rid))
	check(r.returncode != 0, "stats: the outbox is read-only")
	r = g.sftp(sta, "rm /outbox/%d/t.csv\n" % rid)
	check(r.returncode != 0, "stats: cannot remove a released file")

	for who, sock in (("analyst", bob), ("stats user", stb)):
		r = g.sftp(sock, "ls -1 /outbox\n")
		check(r.returncode == 0 and str(rid) not in r.stdout.split(),
		      "other project's %s: /outbox does not list it" % who)
		out = os.path.join(g.dir, "leak-%s.csv" % who[0])
		r = g.sftp(sock, "get /outbox/%d/t.csv %s\n" % (rid, out))
		check(r.returncode != 0 and not os.path.exists(out),
		      "other project's %s: sftp get fails" % who)
		r = g.scp(sock, "gw:/outbox/%d/t.csv" % rid, out)
		check(r.returncode != 0 and not os.path.exists(out),
		      "other project's %s: scp get fails" % who)
	r = g.mux(bob, "airlock status %d" % rid)
	check(r.returncode != 0 and "t.csv" not in r.stdout, "other project's analyst: status refused")
	r = g.mux(bob, "airlock status")
	check(r.returncode == 0 and "t.csv" not in r.stdout, "other project's analyst: not listed")
	r = g.mux(bob, "ls -la /work; cat /work/t.csv")
	check("t.csv" not in r.stdout and "20-24" not in r.stdout,
	      "other project's analyst: p1's work area is not visible")
	blobs, staging = g.store_check()
	check(snap in blobs and not staging, "store: the snapshot blob hashes right, staging empty")
	r = g.ctl("audit", "verify", check_rc=False)
	check(r.returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
