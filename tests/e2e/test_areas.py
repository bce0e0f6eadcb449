"""e2e 6 — onsite vs remote: 127.0.0.1 is the onsite centre, ::1 the office. A file written in
one area is not visible from the other; an admin's `transfer move` approved by a second admin
copies the snapshot across; imports go to the area they name."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, soft_check, fresh_step, rid_from, sha256_bytes, finish

ZONES = {"centre": ("127.0.0.1/32", "onsite"), "office": ("::1/128", "remote")}
g = E2E(22235, "areas", zones=ZONES, airlock="export_types = csv txt")


def state(rid):
	return g.jshow(rid)["state"]


try:
	g.init()
	g.user("aon", zone="centre")
	g.user("are", zone="office")
	g.user("adm1", role="admin", project=None, zone="centre")
	g.user("adm2", role="admin", project=None, zone="centre")
	g.start()
	fresh_step()
	on = g.master_as("aon", "aon")
	re_ = g.master_as("are", "are", host="::1")
	a1 = g.master_as("adm1", "adm1")
	a2 = g.master_as("adm2", "adm2")
	check(g.mux(re_, "airlock status").returncode == 0, "are logged in over IPv6 (office zone)")

	on_csv = "x,n\na,11\nb,12\n"
	r = g.mux(on, "cat > /work/on.csv && mkdir -p sub/dir && echo deep > sub/dir/deep.txt && pwd",
	          stdin=on_csv)
	check(r.returncode == 0 and r.stdout.strip() == "/work", "onsite analyst writes in /work")
	r = g.mux(re_, "echo remote > /work/re.txt && pwd && ls -A /work")
	check(r.returncode == 0 and "on.csv" not in r.stdout and "sub" not in r.stdout,
	      "the remote area does not list the onsite files")
	r = g.mux(re_, "cat /work/on.csv /work/sub/dir/deep.txt")
	check(r.returncode != 0 and "a,11" not in r.stdout, "nor can it read them")
	r = g.mux(on, "ls -A /work; cat /work/re.txt")
	check("re.txt" not in r.stdout and "remote" not in r.stdout,
	      "the onsite area does not see the remote file")
	r = g.mux(on, "ls -d /work/../* /work/../../*; find / -name re.txt 2>/dev/null; true")
	check("re.txt" not in r.stdout, "the remote file is nowhere in the onsite sandbox")
	onp, rep = g.area_path("p1", "onsite"), g.area_path("p1", "remote")
	check(onp and rep and os.path.exists(os.path.join(onp, "on.csv")) and
	      not os.path.exists(os.path.join(rep, "on.csv")),
	      "on the host: two folders, on.csv only in onsite")

	r = g.mux(on, "cat > /work/t.csv && airlock export t.csv", stdin=on_csv)
	rid = rid_from(r.stdout)
	check(rid is not None and g.jshow(rid)["area"] == "onsite", "an onsite export records area onsite")

	r = g.mux(a1, "transfer move p1 onsite remote on.csv --reason 'to the office'")
	mid = rid_from(r.stdout)
	check(r.returncode == 0 and mid is not None, "adm1: move on.csv onsite -> remote over ssh")
	j = g.jshow(mid)
	check(j["kind"] == "move" and j["area"] == "onsite" and j.get("to_area") == "remote" and
	      j["sha256"] == sha256_bytes(on_csv.encode()), "the move record: areas and snapshot hash")
	g.mux(on, "echo changed >> /work/on.csv")
	r = g.mux(a1, "transfer approve %d --note mine" % mid)
	check(r.returncode == 1 and state(mid) == "pending", "adm1 cannot approve its own move")
	r = g.mux(re_, "ls /work/on.csv")
	check(r.returncode != 0, "nothing crossed before approval")
	r = g.mux(a2, "transfer approve %d --note ok" % mid)
	check(state(mid) in ("approved", "released"), "adm2 approves the move")
	# Regression: a move to the top of an area used to fail its delivery after linking the
	# file (fsync of the area's O_PATH fd; fixed in transfer b3be21a).
	soft_check(r.returncode == 0 and state(mid) == "released",
	           "the top-level move is delivered and released (%s, %s)" %
	           (r.stderr.strip(), state(mid)))
	r = g.mux(re_, "sha256sum /work/on.csv")
	check(r.returncode == 0 and sha256_bytes(on_csv.encode()) in r.stdout,
	      "on.csv is now in the remote area: the snapshot, not the later edit")
	r = g.mux(on, "tail -1 /work/on.csv")
	check(r.stdout.strip() == "changed", "the onsite copy stays where it was")
	r = g.mux(re_, "echo mine > /work/on.csv.new && rm /work/on.csv.new && test -r /work/on.csv")
	check(r.returncode == 0, "the remote analyst can read the delivered file")

	r = g.mux(a1, "transfer move p1 onsite remote sub/dir/deep.txt")
	m2 = rid_from(r.stdout)
	r = g.mux(a2, "transfer approve %d --note ok" % m2)
	check(r.returncode == 0 and state(m2) == "released", "nested move approved and released")
	r = g.mux(re_, "cat /work/sub/dir/deep.txt")
	check(r.stdout.strip() == "deep", "a nested path arrives with its parent folders")
	r = g.mux(a2, "transfer move p1 remote onsite re.txt")
	m3 = rid_from(r.stdout)
	r = g.mux(a1, "transfer approve %d --note ok" % m3)
	soft_check(r.returncode == 0 and state(m3) == "released", "remote -> onsite move released")
	r = g.mux(on, "cat /work/re.txt")
	check(r.stdout.strip() == "remote", "and the other way: remote -> onsite")
	r = g.mux(a1, "transfer move p1 onsite remote on.csv")
	m4 = rid_from(r.stdout)
	g.mux(a2, "transfer approve %d --note again" % m4)
	r = g.mux(re_, "ls /work")
	check("on.csv.1" in r.stdout.split(), "a second move of the same path lands as on.csv.1")

	n = len(g.jlist())
	for bad in ("../x.csv", "/etc/passwd", "sub/../../x", "nosuch.csv", "sub/dir"):
		r = g.mux(a1, "transfer move p1 onsite remote '%s'" % bad)
		check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
		      "move %s refused with one line (%s)" % (bad, r.stderr.strip()))
	r = g.mux(a1, "transfer move p1 onsite onsite on.csv")
	check(r.returncode != 0, "move within one area refused")
	check(len(g.jlist()) == n, "no request was made by the refused moves")
	r = g.mux(a1, "transfer move p1 onsite nowhere on.csv")
	soft_check(r.returncode != 0, "move to an area no zone maps to is refused (%s)" %
	           (r.stdout + r.stderr).strip())
	r = g.mux(a1, "transfer import p1 nowhere - --name x.txt", stdin="x\n")
	soft_check(r.returncode != 0, "import to an area no zone maps to is refused (%s)" %
	           (r.stdout + r.stderr).strip())

	r = g.mux(a1, "transfer import p1 onsite - --name ref.txt", stdin="reference\n")
	iid = rid_from(r.stdout)
	g.mux(a2, "transfer approve %d --note ok" % iid)
	r1 = g.mux(on, "cat /work/imports/ref.txt")
	r2 = g.mux(re_, "ls -A /work/imports")
	check(r1.stdout.strip() == "reference" and "ref.txt" not in r2.stdout,
	      "an import to onsite arrives onsite only")
	check(g.ctl("audit", "verify", check_rc=False).returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
