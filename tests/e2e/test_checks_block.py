"""e2e — publication checks with export_block_on_fail = yes, over a real session (issue 12): a
failing export is refused at submission (exit 1, the findings on stderr, nothing queued, the
refusal audited); a Shift_JIS table with Japanese headers is read as such (its small count
named); controls: passing tables, UTF-8 and Shift_JIS, are queued."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, finish, fresh_step, rid_from

SJIS_PASS = "年齢階級,性別,患者数\n40-44歳,男,12\n85歳以上,女,15\n".encode("cp932")
SJIS_FAIL = "年齢階級,性別,患者数\n40-44歳,男,3\n85歳以上,女,15\n".encode("cp932")

g = E2E(22321, "checks-block", airlock="export_types = csv txt\nexport_block_on_fail = yes")
try:
	g.init()
	g.user("ana")
	g.start()
	fresh_step()
	ana = g.master_as("ana", "ana")

	r = g.mux(ana, "printf 'group,n\\na,3\\nb,12\\n' > small.csv && airlock export small.csv")
	check(r.returncode == 1 and "export refused" in r.stderr and
	      'row 1, column 2 ("n", "3"): small_count' in r.stderr and rid_from(r.stdout) is None,
	      "a failing export is refused with its findings on stderr (%s)" % r.stderr.strip())
	r = g.mux(ana, "airlock status")
	check(r.returncode == 0 and "small.csv" not in r.stdout, "nothing was queued")
	check("transfer.blocked" in g.ctl("audit", "list").stdout, "the refusal is audited")

	r = g.mux(ana, "cat > sjis.csv && airlock export sjis.csv", stdin=SJIS_FAIL, binary=True)
	err = r.stderr.decode("utf-8", "replace")
	check(r.returncode == 1 and "small_count" in err and "患者数" in err,
	      "a Shift_JIS table: its Japanese header read, its small count named (%s)" % err.strip())

	for name, body in (("ok.csv", b"group,n\na,12\n"), ("ok-sjis.csv", SJIS_PASS)):
		r = g.mux(ana, "cat > %s && airlock export %s" % (name, name), stdin=body, binary=True)
		out = r.stdout.decode("utf-8", "replace")
		check(r.returncode == 0 and rid_from(out) is not None and "result: pass" in out,
		      "control: %s passes and is queued (%s)" % (name, out.strip()))
	r = g.ctl("audit", "verify", check_rc=False)
	check(r.returncode == 0, "audit chain verifies")
finally:
	g.cleanup()
finish()
