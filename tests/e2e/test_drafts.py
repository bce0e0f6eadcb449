"""e2e (issue 13 point 5) — import drafts with real sftp/scp, import_require_checksum on (as
wsgate ships): an upload without NAME.sha256 is kept as a draft, not queued and not refused;
`airlock inbox` lists it with size and SHA-256; `airlock submit NAME --reason` queues it and
prints them; it cannot be submitted twice. With a sidecar it is queued at once (control).
An upload over import_max_size is cut off while it is written: nothing kept. An sftp put cut
short by Ctrl-C becomes a draft whose size and SHA-256 differ from the analyst's file, so it is
never submitted unknowingly. Drafts expire after import_draft_ttl, bytes and all."""
import os
import signal
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, finish, fresh_step, rid_from, sha256_bytes, wait_reading

MAX = 80 << 20
g = E2E(22344, "drafts", airlock="import_require_checksum = yes\nimport_max_size = 80M\n"
        "import_draft_ttl = 24h")
imports, write = g.imports, g.write


def inbox(sock):
	"""airlock inbox as {name: (size, sha256)}."""
	r = g.mux(sock, "airlock inbox")
	check(r.returncode == 0, "airlock inbox runs (%s)" % r.stderr.strip())
	out = {}
	for line in r.stdout.splitlines()[1:]:
		f = line.split()
		if f and f[0] == "refused":
			out["refused " + f[1]] = line
		elif len(f) >= 4:
			out[f[0]] = (int(f[1]), f[2])
	return out


def draft_files():
	d = os.path.join(g.state, "drafts")
	return sorted(os.listdir(d)) if os.path.isdir(d) else []


try:
	g.init()
	g.user("ana")
	g.user("anb")  # a colleague in the same project
	g.user("adm1", role="admin", project=None)
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	anb = g.master_as("anb", "anb")

	data = b"code,label\n" + b"A01,first\n" * 5000
	p = write("data.csv", data)
	r = g.sftp(ana, "put %s /inbox/data.csv\n" % p)
	check(r.returncode == 0 and "Permission denied" not in r.stderr,
	      "sftp put without a sidecar is accepted (%s)" % r.stderr.strip())
	check(not imports("data.csv"), "but nothing is queued")
	ib = inbox(ana)
	check(ib.get("data.csv") == (len(data), sha256_bytes(data)),
	      "airlock inbox: the draft with its size and SHA-256 (%s)" % ib)
	s = b"x,y\n1,2\n" * 100
	r = g.scp(ana, write("s.csv", s), "gw:/inbox/")
	check(inbox(ana).get("s.csv") == (len(s), sha256_bytes(s)), "scp -s: a draft as well")

	r = g.mux(anb, "airlock inbox")
	check(r.returncode == 0 and "data.csv" not in r.stdout, "a colleague does not see ana's drafts")
	r = g.mux(anb, "airlock submit data.csv")
	check(r.returncode == 1 and not imports("data.csv"), "nor submit them")
	r = g.mux(ana, "airlock submit data.csv --reason 'code list for the model'")
	rid = rid_from(r.stdout)
	check(r.returncode == 0 and rid and str(len(data)) in r.stdout and
	      sha256_bytes(data) in r.stdout, "airlock submit prints the id, size and SHA-256 (%s)"
	      % r.stdout.strip())
	j = g.jshow(rid)
	check(j["kind"] == "import" and j["state"] == "pending" and j["sha256"] == sha256_bytes(data)
	      and j["reason"] == "code list for the model" and j["requester"] == "ana",
	      "the request: a pending import of exactly the draft's bytes, with the reason")
	check("data.csv" not in inbox(ana), "the draft is gone from the inbox")
	r = g.mux(ana, "airlock submit data.csv")
	check(r.returncode == 1 and r.stderr.startswith("airlock: no draft data.csv") and
	      len(imports("data.csv")) == 1, "a draft is submitted once (%s)" % r.stderr.strip())
	r = g.mux(ana, "airlock submit ../etc/passwd")
	check(r.returncode == 1 and len(g.jlist()) == 1, "a path is no draft name")

	# Control: with its sidecar first, the upload is queued at once, as before.
	q = b"q\n" * 1000
	pq = write("q.csv", q)
	side = write("q.csv.sha256", ("%s  q.csv\n" % sha256_bytes(q)).encode())
	r = g.sftp(ana, "put %s /inbox/q.csv.sha256\nput %s /inbox/q.csv\n" % (side, pq))
	check(r.returncode == 0 and len(imports("q.csv")) == 1 and "q.csv" not in inbox(ana),
	      "with NAME.sha256 first: queued at once, no draft")

	# import_max_size: cut off while written; nothing kept, no draft, no request.
	big = os.urandom(1 << 20) * ((MAX >> 20) + 16)
	pb = write("big.bin", big)
	before = draft_files()
	r = g.sftp(ana, "put %s /inbox/big.bin\n" % pb)
	print("sftp's words for the refusal: %r" % r.stderr.strip())
	check(r.returncode != 0 and "big.bin" not in inbox(ana) and not imports("big.bin") and
	      draft_files() == before, "over import_max_size: the put fails, nothing kept")
	r = g.scp(ana, pb, "gw:/inbox/big2.bin")
	check(r.returncode != 0 and not imports("big2.bin") and "big2.bin" not in inbox(ana) and
	      draft_files() == before, "scp -s over import_max_size: fails, nothing kept (%s)" %
	      r.stderr.strip())
	# sftp shows only "Failure": the reason waits in the analyst's inbox.
	r = g.mux(ana, "airlock inbox")
	check("refused big.bin at " in r.stdout and "import_max_size" in r.stdout,
	      "airlock inbox says why big.bin was refused (%s)" % r.stdout.strip())
	side = write("w.csv.sha256", ("%s  w.csv\n" % sha256_bytes(b"other")).encode())
	r = g.sftp(ana, "put %s /inbox/w.csv.sha256\nput %s /inbox/w.csv\n" % (side, pq))
	r = g.mux(ana, "airlock inbox")
	check("refused w.csv at " in r.stdout and "do not match the declared SHA-256" in r.stdout
	      and not imports("w.csv"), "a declared SHA-256 mismatch: refused, and the inbox says why")

	# Ctrl-C mid-file: sftp closes the cut-short file, which becomes a draft that says so.
	cut = os.urandom(1 << 20) * 64
	pc = write("cut.bin", cut)
	proc = subprocess.Popen(g.client_args("sftp", ana) + ["-b", "-", "x@127.0.0.1"],
	                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
	                        stderr=subprocess.DEVNULL)
	proc.stdin.write(("put %s /inbox/cut.bin\n" % pc).encode())
	proc.stdin.close()
	hit = wait_reading(proc, 8 << 20, len(cut) - (8 << 20))
	if hit:
		proc.send_signal(signal.SIGINT)
	proc.wait(60)
	ib = inbox(ana)
	check(hit and "cut.bin" in ib and ib["cut.bin"][0] < len(cut) and
	      ib["cut.bin"][1] != sha256_bytes(cut) and not imports("cut.bin"),
	      "an interrupted put is a draft whose size and SHA-256 show it is not the file "
	      "(%s of %d)" % (ib.get("cut.bin"), len(cut)))

	# Expiry: nothing before the TTL; two days on, the drafts and their bytes are gone.
	r = g.ctl("transfer", "drafts")
	check("cut.bin" in r.stdout and "s.csv" in r.stdout and len(draft_files()) == 2,
	      "wsgatectl transfer drafts lists them; two files in state_dir/drafts")
	r = g.ctl_in_past(-2, "transfer", "drafts")
	check("2 expired drafts removed" in r.stdout and draft_files() == [],
	      "after import_draft_ttl: expired, the bytes removed (%s)" % draft_files())
	check(inbox(ana) == {}, "and the analyst's inbox is empty, refusal notes included")
	r = g.mux(ana, "airlock submit s.csv")
	check(r.returncode == 1 and "no draft" in r.stderr, "an expired draft cannot be submitted")
	check(g.ctl("audit", "verify", check_rc=False).returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
