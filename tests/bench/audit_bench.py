"""(b) of audit_bench.sh: `cat` of MB megabytes of text through a pty (ssh -tt) over an open
connection, on a wsgated that records analysts and on one that does not, alternating runs in the
same process so both see the same machine load. Reports each run, the medians and their ratio."""
import os, statistics, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../gateway"))
from gwtest import Gateway, SSH_OPTS, fresh_step

MB = int(os.environ.get("MB", "100"))
RUNS = int(os.environ.get("RUNS", "3"))


class Rec(Gateway):
    def __init__(self, port, record):
        self.record = record
        super().__init__(port, name="bench-rec-" + record.replace(" ", "_"))

    def conf_text(self, extra=None):
        return super().conf_text(extra) + "\n[audit]\nrecord = %s\n" % self.record


def timed_cat(g, sock):
    a = ["ssh"] + SSH_OPTS + ["-S", sock, "-o", "ControlMaster=no", "-tt", "-p", str(g.port),
                              "x@127.0.0.1", "cat /work/big.txt"]
    t = time.monotonic()
    r = subprocess.run(a, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    dt = time.monotonic() - t
    return dt, len(r.stdout)


gws = [Rec(22302, "analyst"), Rec(22303, "none")]
try:
    socks = []
    for g in gws:
        g.init()
        g.user("ann")
        g.start()
    fresh_step()
    for g in gws:
        s = g.master("ann")
        socks.append(s)
        # base64 of random bytes: printable lines, as a large CSV or log would be
        r = g.mux(s, "head -c %d /dev/urandom | base64 -w 100 > /work/big.txt && wc -c /work/big.txt"
                  % (MB * 1000000 * 3 // 4))
        print("%s: %s" % (g.record, r.stdout.strip()), flush=True)
    times = {g.record: [] for g in gws}
    for i in range(RUNS):
        for g, s in zip(gws, socks):
            dt, n = timed_cat(g, s)
            times[g.record].append(dt)
            print("run %d  record=%-8s %.2f s  %d bytes received" % (i + 1, g.record, dt, n),
                  flush=True)
    rec = os.path.join(gws[0].state, "recordings")
    sizes = [os.path.getsize(os.path.join(rec, f)) for f in os.listdir(rec)]
    med = {k: statistics.median(v) for k, v in times.items()}
    pairs = [a / b for a, b in zip(times["analyst"], times["none"])]
    print("median: recorded %.2f s, unrecorded %.2f s, ratio of medians %.3f, median of the "
          "per-run ratios %.3f (goal <= 1.1); largest recording %d bytes"
          % (med["analyst"], med["none"], med["analyst"] / med["none"],
             statistics.median(pairs), max(sizes)), flush=True)
finally:
    for g in gws:
        g.cleanup()
