"""e2e — session recordings and the audit record of their end (issue 11 points 1, 4, 5): every
shell and exec channel of a recorded role is an asciicast v2 file under state_dir/recordings,
root-only; session.end holds its SHA-256 and size; `audit replay` gives back exactly the output
bytes the client got; a changed file is refused at replay; kill -9 of the worker or of the
monitor mid-session leaves a readable recording with what was shown up to then."""
import json
import os
import signal
import stat
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, fresh_step, sha256_file, tree_pids, finish, pexpect

class Recorded(E2E):
	"""With a witness file outside state_dir, as a production config has it."""

	def conf_text(self, extra=None):
		return super().conf_text(extra) + "\n[audit]\nwitness = %s/audit.witness\n" % self.dir


g = Recorded(22300, "recording")
REC = os.path.join(g.state, "recordings")


def recordings(*extra):
	return json.loads(g.ctl("audit", "recordings", "--json", *extra).stdout)


def events(path):
	"""The recording as (header, [(time, code, bytes)]), decoded the way replay does: lone
	surrogates \\udcXX are raw bytes."""
	with open(path, "rb") as f:
		lines = f.read().split(b"\n")
	head = json.loads(lines[0])
	ev = []
	for l in lines[1:]:
		if not l:
			continue
		t, code, data = json.loads(l)
		ev.append((t, code, data.encode("utf-8", "surrogateescape")))
	return head, ev


def end_record(rid):
	for line in g.ctl("audit", "export", "--event", "session.end").stdout.splitlines():
		j = json.loads(line)
		if " recording=%d " % rid in " " + j["detail"] + " ":
			return j
	return None


def uid_of(pid):
	try:
		with open("/proc/%d/status" % pid) as f:
			return int([l for l in f if l.startswith("Uid:")][0].split()[1])
	except (OSError, IndexError):
		return -1


def connection_pids():
	"""(monitor, worker) of each live connection: the monitor is the listener's child, its
	worker the child that runs as the worker's uid."""
	out = []
	for mon in [p for p in tree_pids(g.proc.pid) if uid_of(p) == 0]:
		workers = [w for w in tree_pids(mon) if uid_of(w) == 199999]
		if workers:
			out.append((mon, workers[0]))
	return out


def wait_for(cond, what, secs=20):
	for _ in range(secs * 20):
		if cond():
			return
		time.sleep(0.05)
	check(False, "timed out waiting for " + what)


try:
	g.init()
	for u in ("ann", "bob", "cid", "dan"):
		g.user(u)
	g.user("adm", role="admin")
	g.start()
	fresh_step()

	# An exec channel: output with bytes that are not UTF-8, and input.
	a = g.master_as("ann", "ann1")
	r = g.mux(a, r"printf 'A\377B\033[1mC\n'", binary=True)
	check(r.returncode == 0 and r.stdout == b"A\xffB\x1b[1mC\n", "control: the command runs")
	r2 = g.mux(a, "cat; echo err >&2", stdin=b"typed-input\n", binary=True)
	check(r2.stdout == b"typed-input\n" and r2.stderr == b"err\n", "control: input reaches cat")
	wait_for(lambda: len([x for x in recordings() if x["ended"]]) >= 2, "two ended recordings")
	recs = recordings("--user", "ann")
	check(len(recs) == 2 and all(x["user"] == "ann" and x["project"] == "p1" and
	      x["kind"] == "exec" for x in recs), "audit recordings lists ann's two: %s" % recs)
	first = recs[0]
	path = os.path.join(REC, "%d.cast" % first["id"])
	st = os.stat(path)
	check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, "the file is root's, 0600")
	check(stat.S_IMODE(os.stat(REC).st_mode) == 0o700, "the directory is 0700")
	head, ev = events(path)
	check(head["version"] == 2 and head["user"] == "ann" and head["project"] == "p1" and
	      head["area"] == "remote" and "printf" in head["command"] and head["width"] > 0,
	      "asciicast v2 header with user, project, area, command: %s" % head)
	out = b"".join(d for _, c, d in ev if c == "o")
	check(out == r.stdout, "the 'o' events are the bytes the client got (%r)" % out)
	check(all(ev[i][0] <= ev[i + 1][0] for i in range(len(ev) - 1)), "times never go back")
	_, ev2 = events(os.path.join(REC, "%d.cast" % recs[1]["id"]))
	check(b"".join(d for _, c, d in ev2 if c == "i") == b"typed-input\n",
	      "the 'i' events are what the client typed")
	o2 = b"".join(d for _, c, d in ev2 if c == "o")
	# stdout and stderr are two pipes: the relay interleaves their chunks as they come
	check(sorted(o2) == sorted(b"typed-input\nerr\n"),
	      "stderr is in the 'o' events too (%r)" % o2)
	end = end_record(first["id"])
	check(end is not None and " out=%d in=0 " % len(r.stdout) in end["detail"],
	      "session.end has the bytes each way: %s" % (end and end["detail"]))
	end2 = end_record(recs[1]["id"])
	check(end2 is not None and " out=16 in=12 " in end2["detail"],
	      "and for the channel that read input: %s" % (end2 and end2["detail"]))
	check(end is not None and "sha256=%s" % sha256_file(path) in end["detail"] and
	      "bytes=%d" % st.st_size in end["detail"] and first["sha256"] == sha256_file(path),
	      "session.end holds the file's SHA-256 and size: %s" % (end and end["detail"]))
	check(end["role"] == "analyst" and end["project"] == "p1" and end["area"] == "remote" and
	      end["addr"].startswith("127.0.0.1") and end["date"].endswith("Z") and
	      "." in end["date"], "export carries role, project, area, address, sub-second UTC")

	# Replay: the same output bytes; a changed file is refused.
	rp = subprocess.run([g.ctl_bin, "-c", g.conf, "audit", "replay", str(first["id"]),
	                     "--speed", "1000"], capture_output=True, timeout=60)
	check(rp.returncode == 0 and rp.stdout == r.stdout,
	      "audit replay plays back exactly those bytes (%r)" % rp.stdout)
	with open(path, "r+b") as f:
		data = f.read()
		f.seek(0)
		f.write(data.replace(b"printf", b"PRINTF", 1))
	rp = g.ctl("audit", "replay", str(first["id"]), check_rc=False)
	check(rp.returncode == 1 and "does not match the SHA-256" in rp.stderr,
	      "a changed recording is refused at replay: %s" % rp.stderr.strip())

	# A pty shell, and an admin's command: both recorded.
	c = g.spawn("bob")
	c.sendline("echo mark-$((6*7))")
	c.expect("mark-42")
	c.sendline("exit")
	c.expect(pexpect.EOF)
	r = g.login("adm", "transfer list")
	wait_for(lambda: {"shell", "admin"} <= {x["kind"] for x in recordings() if x["ended"]},
	         "shell and admin recordings")
	shell = [x for x in recordings("--user", "bob")][0]
	_, ev = events(os.path.join(REC, "%d.cast" % shell["id"]))
	check(b"mark-42" in b"".join(d for _, c, d in ev if c == "o") and
	      b"echo mark" in b"".join(d for _, c, d in ev if c == "i"),
	      "the pty shell's output and typing are recorded")
	rp = subprocess.run([g.ctl_bin, "-c", g.conf, "audit", "replay", str(shell["id"]),
	                     "--speed", "1000"], capture_output=True, timeout=60)
	check(rp.returncode == 0 and b"mark-42" in rp.stdout, "the shell replays")
	check(any(x["user"] == "adm" and x["kind"] == "admin" for x in recordings()),
	      "an admin's command over SSH is recorded")

	# kill -9 of the worker, then of the monitor, in the middle of a recorded shell.
	for who, victim in (("cid", 1), ("dan", 0)):
		before = {p for p in connection_pids()}
		c = g.spawn(who)
		c.sendline("echo before-kill-$((1+1)); sleep 120")
		c.expect("before-kill-2")
		time.sleep(0.3)
		conn = [p for p in connection_pids() if p not in before]
		check(len(conn) == 1, "found %s's monitor and worker" % who)
		os.kill(conn[0][victim], signal.SIGKILL)
		c.expect(pexpect.EOF, timeout=30)
		mine = [x for x in recordings("--user", who)]
		check(len(mine) == 1, "%s's recording is listed" % who)
		p = os.path.join(REC, "%d.cast" % mine[0]["id"])
		_, ev = events(p)  # every line parses
		check(b"before-kill-2" in b"".join(d for _, c, d in ev if c == "o"),
		      "kill -9 of the %s leaves a readable recording with what was shown"
		      % ("worker" if victim else "monitor"))
		rp = subprocess.run([g.ctl_bin, "-c", g.conf, "audit", "replay", str(mine[0]["id"]),
		                     "--speed", "1000"], capture_output=True, timeout=60)
		check(rp.returncode == 0 and b"before-kill-2" in rp.stdout, "and it replays")
		if victim == 1:
			wait_for(lambda: recordings("--user", who)[0]["ended"], "the ended recording")
			check(recordings("--user", who)[0]["sha256"] == sha256_file(p),
			      "the worker's death still ends the recording with its hash")
		else:
			check(b"unverified" in rp.stderr, "no session.end: replay says it is unverified")
	check(recordings("--since", "2099-01-01") == [] and len(recordings("--since", "1h")) >= 6,
	      "audit recordings --since")
	r = g.ctl("audit", "verify")
	n = r.stdout.split()
	check(len(n) > 5 and n[1] == n[4] and int(n[1]) > 20 and "witness lines match" in r.stdout,
	      "the audit log verifies, and every record of the daemon and wsgatectl is witnessed: %s"
	      % r.stdout.strip())
finally:
	g.cleanup()
finish()
