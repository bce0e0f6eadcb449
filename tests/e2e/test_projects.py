"""e2e 8 — USER+PROJECT selects the project (SPEC "Who uses it"): an analyst of two projects
works in the area of the project named after '+', and only there; without '+' an account with
several projects is refused, one with a single project gets it; a project the account is not a
member of is refused like any other failure."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2elib import E2E, check, fresh_step, finish

g = E2E(22238, "projects")


def marker_in(project, name):
	area = g.area_path(project, "remote")
	return area is not None and os.path.exists(os.path.join(area, name))


try:
	g.init()
	g.ctl("project", "add", "p2")
	g.ctl("project", "add", "p3")
	for u in ("m1", "m2", "m3"):
		g.user(u, extra=("--project", "p2"))
	g.user("solo")
	g.start()
	fresh_step()

	rc, out, _ = g.login("m1+p2", "touch /work/from-m1 && echo group=$(id -gn) && echo in-p2")
	check(rc == 0 and "in-p2" in out, "m1+p2 logs in (%r)" % out[-200:])
	check("group=p2" in out, "the session's group is named after its project")
	check(marker_in("p2", "from-m1") and not marker_in("p1", "from-m1"),
	      "m1+p2 works in p2's area, not p1's")

	rc, out, _ = g.login("m2+p1", "touch /work/from-m2 && echo in-p1")
	check(rc == 0 and marker_in("p1", "from-m2") and not marker_in("p2", "from-m2"),
	      "m2+p1 works in p1's area, not p2's")

	rc, out, _ = g.login("m1+p1", "ls /work", code="000000")
	check(rc == 255, "a wrong code for another project of the same account is still refused")

	rc, out, _ = g.login("m3", "echo no")
	check(rc == 255 and "no" not in out.split(), "an account with two projects must name one")

	rc, out, _ = g.login("m3+p3", "echo no")
	check(rc == 255, "a project the account is not a member of is refused")

	rc, out, _ = g.login("solo+p2", "echo no")
	check(rc == 255, "solo+p2 (not a member) is refused")

	rc, out, _ = g.login("solo", "touch /work/from-solo && echo ok")
	check(rc == 0 and marker_in("p1", "from-solo"), "solo (one project) gets it without '+'")

	audit = g.ctl("audit", "list").stdout
	check("m3+p3" in audit or "not a member" in audit,
	      "the refused project choice is in the audit log")
finally:
	g.cleanup()
finish()
