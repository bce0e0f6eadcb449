"""e2e — daily byte budgets (SPEC "The terminal is a display, not a file transfer"): what a
session channel relays per account and UTC day is bounded, over every connection of the account,
across a daemon restart; 80 % and 100 % are audited; at 100 % the channel gets the one
`wsgate: ` line and ends with status 1, and new channels get the same line; an operator can grant
more for today; SFTP /inbox uploads are not counted."""
import json
import os
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, fresh_step

OUT_LINE = "wsgate: daily output budget (1M) reached"
IN_LINE = "wsgate: daily input budget (256K) reached"
g = E2E(22250, "budget", sandbox={"output_budget": "1M", "input_budget": "256K"})


def next_step():
	"""A TOTP code is accepted once per account and step: a second login waits for a new one."""
	time.sleep(30 - time.time() % 30 + 0.5)
	fresh_step()


def used(user, d="output"):
	return json.loads(g.ctl("user", "show", user, "--json").stdout)["budget_today"][d]["used"]


try:
	g.init()
	for u in ("ann", "ben", "cat", "dee"):
		g.user(u)
	g.start()
	fresh_step()
	a1 = g.master_as("ann", "ann1")
	r = g.mux(a1, "head -c 300000 /dev/zero", binary=True)
	check(r.returncode == 0 and len(r.stdout) == 300000, "control: 300 KB of output pass")
	check(used("ann") >= 300000, "user show counts today's output (%d)" % used("ann"))
	next_step()
	a2 = g.master_as("ann", "ann2")  # a second connection draws on the same balance
	procs = [subprocess.Popen(["ssh", "-S", s, "-o", "ControlMaster=no", "x@127.0.0.1",
	                           "head -c 600000 /dev/zero"], stdout=subprocess.PIPE,
	                          stderr=subprocess.PIPE) for s in (a1, a2)]
	res = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
	total = 300000 + sum(len(x[0]) for x in res)
	check(total <= 1 << 20, "two connections at once stay within 1M in all (%d bytes)" % total)
	check(any(x[2] == 1 and OUT_LINE in x[1].decode() for x in res),
	      "the channel that hit 100 %% ends with status 1 and the line: %s"
	      % [(x[2], x[1][-80:]) for x in res])
	# What the other channel held and did not use came back when it ended: it goes too.
	r = g.mux(a1, "head -c 1048576 /dev/zero", binary=True)
	check(r.returncode == 1 and OUT_LINE in r.stderr.decode() and 300000 + sum(
	      len(x[0]) for x in res) + len(r.stdout) == 1 << 20,
	      "the rest of the day's output goes, then the line (%d bytes)" % len(r.stdout))
	r = g.mux(a1, "echo hello")
	check(r.returncode == 1 and OUT_LINE in r.stderr and "hello" not in r.stdout,
	      "a new channel is refused with the line (%d, %r)" % (r.returncode, r.stderr))
	audit = "\n".join(l for l in g.ctl("audit", "list").stdout.splitlines() if "ann" in l)
	check("session.budget" in audit and "level=80%" in audit and "level=100%" in audit,
	      "80 % and 100 % are audit events")
	show = g.ctl("user", "show", "ann").stdout
	check("budget:" in show and "output 1M of 1M" in show, "user show: today's use: %s"
	      % [l for l in show.splitlines() if l.startswith("budget")])
	r = g.ctl("user", "budget", "ann", "--extra", "lots", check_rc=False)
	check(r.returncode == 1 and r.stderr.startswith("wsgatectl: "), "a bad --extra is refused")
	g.ctl("user", "budget", "ann", "--extra", "2M")
	r = g.mux(a1, "head -c 500000 /dev/zero", binary=True)
	check(r.returncode == 0 and len(r.stdout) == 500000, "--extra grants more for today")
	check("user.budget" in g.ctl("audit", "list").stdout, "the extra grant is audited")

	# Input: what the client sends counts too.
	b1 = g.master_as("ben", "ben1")
	r = g.mux(b1, "wc -c", stdin=b"x" * 100000, binary=True)
	check(r.returncode == 0 and r.stdout.strip() == b"100000", "control: 100 KB of input pass")
	r = g.mux(b1, "wc -c", stdin=b"x" * 600000, binary=True)
	check(r.returncode == 1 and IN_LINE.encode() in r.stderr,
	      "input past 256K ends the channel with the input line (%d, %r)"
	      % (r.returncode, r.stderr[-120:]))

	# A restart does not reset the day.
	c1 = g.master_as("cat", "cat1")
	r = g.mux(c1, "head -c 700000 /dev/zero", binary=True)
	check(r.returncode == 0 and len(r.stdout) == 700000, "cat: 700 KB before the restart")
	g.stop()
	g.start()
	next_step()
	c2 = g.master_as("cat", "cat2")
	r = g.mux(c2, "head -c 700000 /dev/zero", binary=True)
	check(r.returncode == 1 and len(r.stdout) == (1 << 20) - 700000 and OUT_LINE in
	      r.stderr.decode(), "after a restart the same day's balance holds (%d bytes more)"
	      % len(r.stdout))

	# SFTP is the airlock's: a 600 KB upload to /inbox is not counted against input.
	d1 = g.master_as("dee", "dee1")
	path = g.write("big.csv", b"n\n" + b"1\n" * 300000)
	r = g.sftp(d1, "put %s /inbox/big.csv\n" % path)
	check(r.returncode == 0 and g.imports("big.csv"), "an SFTP upload past the input budget "
	      "is not stopped (%d: %s)" % (r.returncode, r.stderr[-200:]))
	check(used("dee", "input") == 0, "and not counted")
finally:
	g.cleanup()
