"""e2e 3 — import flow: uploads to /inbox with sftp and scp -s each become exactly one pending
import; after approval the file is at /work/imports/NAME (NAME.1 for a second one of the same
name), read-only to the analyst; an upload whose client is killed mid-transfer is never queued."""
import os
import signal
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, SSH_OPTS, check, comm, tree_pids, soft_check, fresh_step, sha256_bytes, sha256_file, \
	wait_reading, finish

BIG = 256 << 20
g = E2E(22232, "import")


imports, write = g.imports, g.write


def direct_args(prog, login):
	"""sftp/scp with a connection of its own (no master), logging in through SSH_ASKPASS."""
	return [prog] + SSH_OPTS + ["-o", "PubkeyAuthentication=no", "-P", str(g.port),
	                            "-o", "User=" + login]


def killed_upload(prog, path, name, login=None, victim="client"):
	"""Starts a large upload (over the master, or over its own connection as login) and
	SIGKILLs the client (or, victim="ssh", its ssh process: the TCP connection drops) once
	it has read 16 MiB of the file, so its CLOSE was never sent. Returns True if the kill hit
	mid-transfer."""
	base = direct_args(prog, login) if login else g.client_args(prog, ana)
	env = g.askpass_env() if login else None
	if prog == "sftp":
		a = base + ["-b", "-", "x@127.0.0.1"]
		p = subprocess.Popen(a, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
		                     stderr=subprocess.DEVNULL, env=env)
		p.stdin.write(("put %s /inbox/%s\n" % (path, name)).encode())
		p.stdin.close()
	else:
		a = base + ["-s", "-q", path, "x@127.0.0.1:/inbox/" + name]
		p = subprocess.Popen(a, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
		                     stderr=subprocess.DEVNULL, env=env)
	hit = wait_reading(p, 16 << 20, BIG - (8 << 20))
	if hit and victim == "ssh":
		kids = [k for k in tree_pids(p.pid) if comm(k) == "ssh"]
		if len(kids) == 1:
			os.kill(kids[0], signal.SIGKILL)
			p.wait(60)
			return True
		hit = False
	elif hit:
		p.send_signal(signal.SIGKILL)
	p.wait(60)
	return hit and p.returncode == -signal.SIGKILL


try:
	g.init()
	g.user("ana")
	g.user("anb")
	g.user("anc")
	g.user("adm1", role="admin", project=None)
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	adm = g.master_as("adm1", "adm1")

	a1 = b"id,value\n1,alpha\n" * 1000
	b1 = b"b-table\n" * 5000
	a2 = b"id,value\n2,beta\n" * 700
	pa1, pb1 = write("a.csv", a1), write("b.csv", b1)
	r = g.sftp(ana, "put %s /inbox/\n" % pa1)
	check(r.returncode == 0, "analyst: sftp put into /inbox (%s)" % r.stderr.strip())
	q = imports("a.csv")
	check(len(q) == 1 and q[0]["state"] == "pending" and q[0]["size"] == len(a1) and
	      q[0]["requester"] == "ana", "the sftp upload is exactly one pending import")
	ida = q[0]["id"]
	r = g.scp(ana, pb1, "gw:/inbox/")
	q = imports("b.csv")
	check(len(q) == 1 and q[0]["state"] == "pending" and q[0]["size"] == len(b1),
	      "the scp -s upload is exactly one pending import")
	soft_check(r.returncode == 0, "scp -s upload exits 0 (got %d)" % r.returncode)
	idb = q[0]["id"]
	check(g.jshow(ida)["sha256"] == sha256_bytes(a1) and g.jshow(idb)["sha256"] ==
	      sha256_bytes(b1), "the queued hashes are those of the uploaded files")
	r = g.mux(ana, "airlock status")
	check(r.returncode == 0 and "a.csv" in r.stdout and "b.csv" in r.stdout,
	      "analyst: airlock status lists both")
	r = g.mux(ana, "ls -A /work/imports; ls /work")
	check("a.csv" not in r.stdout and "b.csv" not in r.stdout,
	      "nothing reaches the area before approval")

	for rid in (ida, idb):
		r = g.mux(adm, "transfer approve %d --note ok" % rid)
		check(r.returncode == 0 and g.jshow(rid)["state"] == "released",
		      "admin approves import %d" % rid)
	r = g.mux(ana, "sha256sum /work/imports/a.csv /work/imports/b.csv")
	check(r.returncode == 0 and sha256_bytes(a1) in r.stdout and sha256_bytes(b1) in r.stdout,
	      "both imports are in /work/imports with the uploaded bytes")

	pa2 = write("a2.csv", a2)
	r = g.sftp(ana, "put %s /inbox/a.csv\n" % pa2)
	q = [x for x in imports("a.csv") if x["id"] != ida]
	check(r.returncode == 0 and len(q) == 1, "a second upload named a.csv is one more request")
	r = g.mux(adm, "transfer approve %d --note ok" % q[0]["id"])
	r = g.mux(ana, "sha256sum /work/imports/a.csv /work/imports/a.csv.1")
	lines = dict(reversed(l.split()) for l in r.stdout.splitlines())
	check(lines.get("/work/imports/a.csv") == sha256_bytes(a1) and
	      lines.get("/work/imports/a.csv.1") == sha256_bytes(a2),
	      "the second a.csv landed as a.csv.1; the first is unchanged")

	why = write("why.txt", b"lookup for\ttable 3\n")
	pr = write("r.csv", b"k,v\n1,2\n")
	r = g.sftp(ana, "put %s /inbox/r.csv.reason\nput %s /inbox/r.csv\n" % (why, pr))
	q = imports("r.csv")
	check(r.returncode == 0 and len(q) == 1 and not imports("r.csv.reason") and
	      g.jshow(q[0]["id"])["reason"] == "lookup for table 3",
	      "sftp: a NAME.reason upload becomes the reason of NAME's import, not a request")
	pr2 = write("s.csv", b"k,v\n3,4\n")
	prr = write("s.csv.reason", b"second table\n")
	g.scp(ana, prr, pr2, "gw:/inbox/")
	q = imports("s.csv")
	check(len(q) == 1 and not imports("s.csv.reason") and
	      g.jshow(q[0]["id"])["reason"] == "second table",
	      "scp -s: reason first in the same command")

	for what, cmd in (("create a file", "touch /work/imports/new"),
	                  ("append", "echo x >> /work/imports/a.csv"),
	                  ("remove", "rm -f /work/imports/a.csv"),
	                  ("rename out", "mv /work/imports/a.csv /work/a.csv"),
	                  ("chmod", "chmod 666 /work/imports/a.csv"),
	                  ("make a dir", "mkdir /work/imports/d")):
		r = g.mux(ana, cmd)
		check(r.returncode != 0, "/work/imports is read-only to the analyst: %s fails" % what)
	r = g.mux(ana, "sha256sum /work/imports/a.csv; ls -A /work/imports | wc -l")
	check(sha256_bytes(a1) in r.stdout and r.stdout.split()[-1] == "3",
	      "/work/imports unchanged after the attempts")

	big = os.path.join(g.dir, "big.bin")
	with open(big, "wb") as f:
		for _ in range(BIG >> 20):
			f.write(os.urandom(1 << 20))
	before = len(g.jlist())
	for prog in ("sftp", "scp"):
		hit = killed_upload(prog, big, "big-%s.bin" % prog)
		check(hit, "%s client killed with SIGKILL in the middle of a 256 MiB put" % prog)
		time.sleep(1)
		check(g.master_ok(ana), "the connection survives the killed %s client" % prog)
		check(not imports("big-%s.bin" % prog) and len(g.jlist()) == before,
		      "the killed %s upload was not queued" % prog)
	for login, prog, victim in (("anb", "sftp", "client"), ("anc", "scp", "ssh")):
		hit = killed_upload(prog, big, "big-%s.bin" % login, login=login, victim=victim)
		check(hit, "own connection: %s killed in the middle of a 256 MiB %s put" %
		      (victim if victim == "ssh" else prog, prog))
		time.sleep(1)
		check(not imports("big-%s.bin" % login) and len(g.jlist()) == before,
		      "own connection: the killed upload was not queued")
	time.sleep(1)
	check(len(g.jlist()) == before, "still nothing queued a moment later")
	blobs, staging = g.store_check()
	check(not staging and sha256_file(big) not in blobs,
	      "no staging leftover, no blob of the killed uploads")
	r = g.sftp(ana, "put %s /inbox/after.csv\n" % pa2)
	check(r.returncode == 0 and len(imports("after.csv")) == 1,
	      "an upload over the same connection works afterwards")
	r = g.ctl("audit", "verify", check_rc=False)
	check(r.returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
