"""e2e (issue 13 points 1 and 6) — `transfer view ID` in a real terminal (tmux) and over real ssh.

  test_view.py           the table in a tmux pane: the marked cell in reverse video, nothing
                         else; an escape sequence in a cell does not reach the terminal (the
                         same bytes printed raw do retitle the pane: the control); an admin over
                         ssh (no pty there) gets `‹value›!`, or reverse video with --reverse;
                         a PNG import shows type, size and SHA-256 only.
  test_view.py findings  the cell the checker's finding names is marked without --mark (the
                         checker and the renderer both run in wsgate-confined).
"""
import os
import re
import subprocess
import sys
import time
import unicodedata
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, fail, finish, fresh_step, rid_from

FINDINGS = len(sys.argv) > 1 and sys.argv[1] == "findings"
TABLE = ("age_group,sex,count,地域,note\n20-24,F,3,東京都,a1\n20-24,M,12,大阪,b2\n"
         "25-29,F,31,\x1b]2;PWNED\x07x,c3\n")
REV = re.compile(r"\x1b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m")

g = E2E(22342 if not FINDINGS else 22343, "view" + ("-findings" if FINDINGS else ""),
        airlock="export_types = csv txt png")
tsock = os.path.join(g.dir, "tmux.sock")


def tmux(*args):
	return subprocess.run(["tmux", "-S", tsock] + list(args), capture_output=True, text=True)


def in_pane(name, cmd):
	"""Runs cmd in a fresh 120x40 tmux pane; returns the pane's text with attributes (-e)
	once the command has finished (its end marker is on screen)."""
	tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40",
	     "sh -c '%s; echo END-%s; exec sleep 300'" % (cmd, name))
	for _ in range(600):
		out = tmux("capture-pane", "-p", "-e", "-t", name, "-S", "-").stdout
		if "END-%s" % name in out:
			return out
		time.sleep(0.05)
	fail("pane %s never finished: %s" % (name, out))


def title(name):
	return tmux("display-message", "-p", "-t", name, "#{pane_title}").stdout.strip()


def row_line(text, n):
	"""The table line of data row n (it begins with the right-aligned row number and ' | ')."""
	for line in text.splitlines():
		plain = re.sub(r"\x1b\[[0-9;]*m", "", line)
		if re.match(r"^\s*%d \| " % n, plain):
			return line
	return ""


try:
	g.init()
	g.user("ana")
	g.user("adm1", role="admin", project=None)
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")
	adm = g.master_as("adm1", "adm1")
	r = g.mux(ana, "cat > t.csv && airlock export t.csv", stdin=TABLE)
	rid = rid_from(r.stdout)
	check(r.returncode == 0 and rid and ("row 2, column 3" in r.stdout or
	                                     "row 1, column 3" in r.stdout),
	      "the export's check report names the count 3 (%s)" % r.stdout.strip())
	view = "%s -c %s transfer view %d" % (g.ctl_bin, g.conf, rid)

	if FINDINGS:
		out = in_pane("f", view)
		line = row_line(out, 1)
		print("row 1 as shown: %r" % line)
		check(REV.search(line) is not None and re.search(REV.pattern + "3", line),
		      "the cell of the checker's finding (row 1, column 3) is in reverse video "
		      "without --mark")
		finish()
		sys.exit(0)

	out = in_pane("a", view + " --mark 1:3")
	r1, r2 = row_line(out, 1), row_line(out, 2)
	check(re.search(REV.pattern + "3", r1) is not None, "row 1, column 3 in reverse video: %r" % r1)
	check(REV.search(r2) is None and "12" in r2, "row 2 has no reverse video: %r" % r2)
	check(len(REV.findall(out)) == 1, "exactly one reverse-video cell on screen")
	check("東京都" in r1 and "\\x1b]2;PWNED\\x07x" in row_line(out, 3),
	      "Japanese shown as is; the escape sequence in row 3 shown escaped")
	check(title("a") != "PWNED", "the cell's OSC sequence did not retitle the pane (%s)" %
	      title("a"))
	# Control: the same bytes printed raw do retitle a pane, so the check above can fail.
	in_pane("c", "printf \"\\033]2;PWNED\\007\"")
	check(title("c") == "PWNED", "control: raw OSC 2 retitles a pane (%s)" % title("c"))
	# Japanese aligned by display width: the column after it starts at one screen column.
	cols = []
	for n, cell in ((1, "a1"), (2, "b2"), (3, "c3")):
		plain = re.sub(r"\x1b\[[0-9;]*m", "", row_line(out, n)).split(cell)[0]
		cols.append(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in plain))
	check(len(set(cols)) == 1, "the column after 地域 starts at one screen column (%s)" % cols)

	# An admin over ssh: no pty on the gateway side, so `‹value›!`; --reverse on request.
	r = g.mux(adm, "transfer view %d --mark 1:3" % rid)
	check(r.returncode == 0 and "\u20393\u203a!" in r.stdout and "\x1b" not in r.stdout,
	      "admin over ssh: the marked cell as ‹3›!, no escape bytes at all")
	r = g.mux(adm, "transfer view %d --mark 1:3 --reverse" % rid)
	check(r.returncode == 0 and "\x1b[7m3\x1b[27m" in r.stdout, "admin over ssh: --reverse")
	r = g.mux(adm, "transfer view 999")
	check(r.returncode == 1 and r.stderr.startswith("wsgatectl: no request 999"),
	      "unknown id: one line, exit 1")
	r = g.mux(adm, "transfer view %d --mark x" % rid)
	check(r.returncode == 2, "bad --mark: usage error")

	png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
	r = g.mux(adm, "transfer import p1 remote - --name fig.png", stdin=png, binary=True)
	pid = rid_from(r.stdout.decode())
	r = g.mux(adm, "transfer view %d" % pid)
	check(r.returncode == 0 and "type:   PNG image (not shown)" in r.stdout and
	      "size:   %d bytes" % len(png) in r.stdout and g.jshow(pid)["sha256"] in r.stdout and
	      len(r.stdout) < 600, "a PNG: type, size and SHA-256 only")
finally:
	tmux("kill-server")
	g.cleanup()
finish()
