"""Issue 14 points 2 and 6 — area_quota, enforced by the file system. The work areas live on a
btrfs loop image made here (truncate + mkfs.btrfs + mount -o loop, removed at the end):
- area_quota on a file system that cannot enforce it (ext4 under /tmp; btrfs with quotas off; an
  area made as a plain directory) is refused at start with one clear line;
- an analyst who fills the area (one big file, or many small ones) gets the kernel's "Disk quota
  exceeded" from a real ssh session, while a new login, an import upload into the quarantine,
  the other project's area, wsgatectl and the audit chain all keep working;
- deleting frees the area again (control: the limit is the area's, not a full disk).
Needs root, btrfs-progs and a loop device."""
import os
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, fresh_step, sha256_bytes, finish, fail
import gwtest  # noqa: E402

QUOTA_MB = 40
g = E2E(22380, "quota", airlock="export_types = csv txt")
mnt = os.path.join(g.state, "projects")
img = os.path.join(g.dir, "areas.img")
mounted = False


def sh(*a):
	return subprocess.run(list(a), capture_output=True, text=True)


def start_refused(text):
	"""wsgated must exit at start, its log naming text."""
	try:
		r = subprocess.run([os.path.join(gwtest.BIN, "wsgated"), "-c", g.conf, "-f"],
		                   capture_output=True, text=True, timeout=30)
	except subprocess.TimeoutExpired:
		return False, ["wsgated started"]
	return r.returncode != 0 and text in r.stderr, r.stderr.strip().splitlines()[-1:] or [""]


try:
	g.init()
	g.ctl("project", "add", "p2")
	g.user("ana")
	g.user("bob", project="p2")
	g.user("cat")
	g.user("adm1", role="admin", project=None)
	g.extra_sandbox = "area_quota = %dM" % QUOTA_MB
	g.write_conf()

	ok, line = start_refused("cannot be enforced")
	check(ok, "area_quota on ext4 without project quotas: start refused: %s" % line[0])

	mode = os.stat(mnt).st_mode & 0o7777
	subprocess.run(["truncate", "-s", "512M", img], check=True)
	subprocess.run(["mkfs.btrfs", "-q", img], check=True, capture_output=True)
	subprocess.run(["mount", "-o", "loop", img, mnt], check=True)
	mounted = True
	os.chmod(mnt, mode)
	ok, line = start_refused("btrfs quotas are not enabled")
	check(ok, "btrfs with quotas off: start refused: %s" % line[0])

	subprocess.run(["btrfs", "quota", "enable", mnt], check=True)
	os.makedirs(os.path.join(mnt, "p1", "old"))
	ok, line = start_refused("area p1/old: a plain directory")
	check(ok, "an area that is a plain directory (made before area_quota): refused: %s" % line[0])
	os.rmdir(os.path.join(mnt, "p1", "old"))

	g.start()
	fresh_step()
	a = g.master_as("ana", "ana")
	r = g.mux(a, "pwd")
	check(r.returncode == 0 and r.stdout.strip() == "/work", "ana's session starts in /work")
	area = os.path.join(mnt, "p1", "remote")
	check(os.stat(area).st_ino == 256, "the area is a btrfs subvolume (inode 256)")
	show = sh("btrfs", "qgroup", "show", "-re", "--raw", mnt).stdout
	check(str(QUOTA_MB << 20) in show, "its quota group carries the %dM limit" % QUOTA_MB)

	r = g.mux(a, "dd if=/dev/zero of=/work/big bs=1M count=%d conv=fsync" % (QUOTA_MB + 20))
	check(r.returncode != 0 and "Disk quota exceeded" in r.stderr,
	      "writing past the quota: 'Disk quota exceeded' (%s)" % r.stderr.strip()[-80:])
	r = g.mux(a, "for i in $(seq 1 200); do head -c 262144 /dev/zero > /work/f$i || exit 3; "
	             "done")
	check(r.returncode == 3 and "Disk quota exceeded" in r.stderr,
	      "many small files: 'Disk quota exceeded' as well")
	r = g.mux(a, "du -sm /work | cut -f1")
	check(r.returncode == 0 and int(r.stdout.strip() or 0) <= QUOTA_MB + 1,
	      "the area holds at most its quota (%s MiB)" % r.stdout.strip())

	# The area is full; nothing else may be.
	c = g.master_as("cat", "cat")
	r = g.mux(c, "ls /work | wc -l")
	check(r.returncode == 0, "a login into the full area works (cat, same project)")
	a2 = a
	data = b"id,n\na,12\n" * 1000
	up = g.write("up.csv", data)
	r = g.sftp(a2, "put %s /inbox/up.csv\n" % up)
	check(r.returncode == 0, "an upload to /inbox (quarantine) works while the area is full")
	imp = g.imports("up.csv")
	check(len(imp) == 1 and g.jshow(imp[0]["id"])["sha256"] == sha256_bytes(data),
	      "and is queued as one import with its hash")
	iid = imp[0]["id"]
	r = g.ctl("--as", "adm1", "transfer", "approve", str(iid), "--note", "ok", check_rc=False)
	check(r.returncode != 0 and "Disk quota exceeded" in r.stderr and
	      g.jshow(iid)["state"] == "approved" and
	      not os.path.exists(os.path.join(area, "imports", "up.csv")),
	      "approving an import into the full area: recorded, delivery refused by the quota, "
	      "nothing half-written (%s)" % r.stderr.strip()[-90:])
	b = g.master_as("bob", "bob")
	r = g.mux(b, "dd if=/dev/zero of=/work/b bs=1M count=20 conv=fsync && echo done")
	check(r.returncode == 0 and "done" in r.stdout, "the other project's area takes 20M")
	r = g.mux(b, "dd if=/dev/zero of=/work/b2 bs=1M count=%d conv=fsync" % QUOTA_MB)
	check(r.returncode != 0 and "Disk quota exceeded" in r.stderr,
	      "and has its own limit, not a share of ana's")
	r = g.ctl("user", "add", "carol", "--role", "analyst", "--project", "p1", "--zone",
	          "office", check_rc=False)
	check(r.returncode == 0, "wsgatectl writes the database")
	r = g.ctl("audit", "verify", check_rc=False)
	check(r.returncode == 0, "the audit chain verifies: %s" % r.stdout.strip())

	# Attack: a subvolume of one's own inside the area has a quota group of its own, outside
	# the area's. Creating one must fail (sandbox seccomp), so the limit cannot be escaped.
	esc = ("import fcntl, os, struct\n"
	       "fd = os.open('/work', os.O_RDONLY)\n"
	       "args = bytearray(struct.pack('q4088s', 0, b'esc'))\n"
	       "try:\n"
	       "    fcntl.ioctl(fd, 0x5000940e, args, True)\n"  # BTRFS_IOC_SUBVOL_CREATE
	       "    print('created')\n"
	       "except OSError as e:\n"
	       "    print('refused', e.errno)\n")
	r = g.mux(a, "rm -f /work/big /work/f*; sync; python3 -c \"$(cat)\"; "
	             "dd if=/dev/zero of=/work/esc/x bs=1M count=%d 2>&1 | tail -n 1" % (QUOTA_MB + 20),
	          stdin=esc)
	check("refused" in r.stdout and "created" not in r.stdout and not
	      os.path.exists(os.path.join(area, "esc")),
	      "a subvolume inside the area cannot be made to escape the quota (%s)" %
	      (r.stdout + r.stderr).strip().replace("\n", " | "))
	r = g.mux(a, "rm -f /work/big /work/f*; sync; "
	             "dd if=/dev/zero of=/work/again bs=1M count=10 conv=fsync && echo done")
	check(r.returncode == 0 and "done" in r.stdout, "after deleting, ana writes again (control)")
	g.stop()
	g.start()  # the start-up scan delivers what was approved but not delivered
	for _ in range(100):
		if g.jshow(iid)["state"] == "released":
			break
		time.sleep(0.1)
	with open(os.path.join(area, "imports", "up.csv"), "rb") as f:
		got = f.read()
	check(g.jshow(iid)["state"] == "released" and got == data,
	      "with room again, the restart delivers the approved import, byte-identical")
	finish()
except SystemExit:
	raise
except Exception as e:  # noqa: BLE001
	fail("unexpected: %r" % e)
finally:
	for c in getattr(g, "masters", []):
		c.close(force=True)
	g.masters = []
	g.stop()
	if mounted:
		subprocess.run(["umount", mnt])
	g.cleanup()
