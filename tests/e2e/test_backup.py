"""Issue 14 point 4 — `wsgatectl backup` while sessions and uploads run, then `restore`:
- two backups are taken while one analyst uploads to /inbox and another runs commands and
  exports in a loop, over real OpenSSH connections; none of that load fails;
- restore is refused while wsgated runs;
- after restore (daemon stopped, old state moved aside): the audit chain verifies; every audit
  record of the backup is byte-identical to the live log's record of the same sequence number;
  every request is the live request of the same id (kind, name, size, SHA-256) and its blob
  hashes to its name; every request made before the backup started is there;
- the restored state serves: a login, `airlock status`, and an approved import delivered from
  a restored blob, byte-identical."""
import json
import os
import subprocess
import sys
import threading
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, PASS_TABLE, check, fresh_step, rid_from, sha256_bytes, finish, fail

g = E2E(22383, "backup", airlock="export_types = csv txt")
stop = threading.Event()
load_errors = []
counts = {"uploads": 0, "exports": 0}


def uploader(sock):
	i = 0
	while not stop.is_set():
		i += 1
		p = g.write("up%d.txt" % i, ("upload %d\n" % i).encode() * (1000 + i))
		r = g.sftp(sock, "put %s /inbox/up%d.txt\n" % (p, i))
		if r.returncode != 0:
			load_errors.append("upload %d: %s" % (i, r.stderr.strip()))
		counts["uploads"] += 1


def exporter(sock):
	i = 0
	while not stop.is_set():
		i += 1
		r = g.mux(sock, "cat > t%d.csv && airlock export /work/t%d.csv --reason load" % (i, i),
		          stdin=PASS_TABLE.replace("12", str(12 + i)))
		if r.returncode != 0:
			load_errors.append("export %d: %s" % (i, r.stderr.strip()))
		counts["exports"] += 1


def live_state():
	audit = g.ctl("audit", "export").stdout.splitlines()
	reqs = {q["id"]: g.jshow(q["id"]) for q in g.jlist()}
	return audit, reqs


try:
	g.init()
	for u in ("ana", "ben", "cy"):
		g.user(u)
	for u in ("adm1", "adm2"):
		g.user(u, role="admin", project=None)
	g.start()
	fresh_step()
	ana, ben = g.master_as("ana", "ana"), g.master_as("ben", "ben")
	adm1 = g.master_as("adm1", "adm1")
	early = g.write("early.csv", b"age,n\n20-24,31\n")
	check(g.sftp(ana, "put %s /inbox/early.csv\n" % early).returncode == 0, "an early upload")
	r = g.mux(ben, "cat > e.csv && airlock export /work/e.csv", stdin=PASS_TABLE)
	eid = rid_from(r.stdout)
	check(eid is not None, "an early export: %s" % (r.stdout.strip() or r.stderr.strip()))
	check(g.mux(adm1, "transfer approve %d --note ok" % eid).returncode == 0,
	      "an early export, approved and released")
	before_ids = {q["id"] for q in g.jlist()}

	threads = [threading.Thread(target=uploader, args=(ana,)),
	           threading.Thread(target=exporter, args=(ben,))]
	for t in threads:
		t.start()

	def load_past(n):
		"""Waits until both loops have done n operations (or a thread died)."""
		while (counts["uploads"] < n or counts["exports"] < n) and \
		      all(t.is_alive() for t in threads):
			time.sleep(0.05)
		return counts["uploads"] + counts["exports"]

	load_past(10)
	bk1 = os.path.join(g.dir, "bk1")
	r1 = g.ctl("backup", bk1, check_rc=False)
	load_past(max(counts.values()) + 10)
	bk2 = os.path.join(g.dir, "bk2")
	r2 = g.ctl("backup", bk2, check_rc=False)
	load_past(max(counts.values()) + 5)
	stop.set()
	for t in threads:
		t.join(120)
	check(r1.returncode == 0 and r2.returncode == 0,
	      "two backups while uploads and exports run: %s | %s" %
	      (r1.stdout.strip() or r1.stderr.strip(), r2.stdout.strip() or r2.stderr.strip()))
	check(not load_errors and counts["uploads"] >= 3 and counts["exports"] >= 3,
	      "the load went on without an error (%d uploads, %d exports) %s" %
	      (counts["uploads"], counts["exports"], load_errors[:2]))
	r = g.ctl("restore", bk2, check_rc=False)
	check(r.returncode == 1 and "is running on" in r.stderr,
	      "restore refused while wsgated runs: %s" % r.stderr.strip())

	live_audit, live_reqs = live_state()
	for c in getattr(g, "masters", []):
		c.close(force=True)
	g.masters = []
	g.stop()
	os.rename(g.state, g.state + ".old")
	r = g.ctl("restore", bk2, check_rc=False)
	check(r.returncode == 0, "restore of the second backup: %s" % (r.stdout.strip() or
	                                                            r.stderr.strip()))
	check(g.ctl("audit", "verify", check_rc=False).returncode == 0, "audit verify passes")
	rest_audit, rest_reqs = live_state()
	n = len(rest_audit) - 1
	check(0 < n <= len(live_audit) and rest_audit[:n] == live_audit[:n] and
	      "ctl.restore" in rest_audit[-1],
	      "the backup's %d audit records are the live log's first %d, byte for byte; then "
	      "ctl.restore" % (n, n))
	check(any("ctl.backup" in line and "bk2" in line for line in rest_audit),
	      "the backup's own audit record is in it")
	same = all(i in live_reqs and all(rest_reqs[i][k] == live_reqs[i][k]
	                                  for k in ("kind", "name", "size", "sha256", "requester"))
	           for i in rest_reqs)
	check(same and len(rest_reqs) >= len(before_ids) + 2,
	      "%d requests restored (%d live), each the live request of its id" %
	      (len(rest_reqs), len(live_reqs)))
	check(before_ids <= set(rest_reqs), "every request made before the backup is there")
	blobs, _ = g.store_check()
	check(all(q["sha256"] in blobs for q in rest_reqs.values()),
	      "every request's blob is there and hashes to its name")
	check(rest_reqs[eid]["state"] == "released", "the released export is still released")

	g.start()
	fresh_step()
	cy = g.master_as("cy", "cy")
	r = g.mux(cy, "airlock status")
	check(r.returncode == 0 and "early.csv" in r.stdout, "the restored state serves a login")
	adm2 = g.master_as("adm2", "adm2")
	iid = [q for q in rest_reqs.values() if q["name"] == "early.csv"][0]["id"]
	r = g.mux(adm2, "transfer approve %d --note ok" % iid)
	check(r.returncode == 0, "a restored upload is approved")
	r = g.mux(cy, "sha256sum /work/imports/early.csv")
	check(r.returncode == 0 and sha256_bytes(b"age,n\n20-24,31\n") in r.stdout,
	      "and delivered from its restored blob, byte-identical")
	finish()
except SystemExit:
	raise
except Exception as e:  # noqa: BLE001
	fail("unexpected: %r" % e)
finally:
	stop.set()
	g.cleanup()
