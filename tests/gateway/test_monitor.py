"""The monitor's closed message table, against a worker that misbehaves on purpose
(WSGATE_TEST_EVIL_WORKER, compiled with WSGATE_TEST_HOOKS): a request outside its state, an
unknown type, or a request with trailing bytes ends the connection; nothing is answered."""
import sys, os, socket, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check

g = Gateway(22216, name="monitor")
try:
    g.init()
    g.user("alice")
    for evil, logline in (("preauth-session", "session_start not permitted now"),
                          ("totp-first", "auth_totp not permitted now"),
                          ("unknown", "unknown monitor request 77"),
                          ("trailing", "")):
        g.start(env=dict(os.environ, WSGATE_TEST_EVIL_WORKER=evil))
        s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        s.settimeout(10)
        try:
            data = s.recv(100)
        except OSError:
            data = b""
        s.close()
        time.sleep(0.5)
        log = g.logtext()
        g.stop()
        check(data == b"" and "monitor answered" not in log and logline in log and
              "logged in" not in log, "evil worker (%s): connection ended, no answer" % evil)
finally:
    g.cleanup()
