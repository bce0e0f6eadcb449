"""wsgate-init's side of the go-ahead (sandbox/init.c): the program that waits in every sandbox,
the spare's included, for the command. Run here as an ordinary process with its five fds: 0-2
stdio, 3 the status pipe, 4 the go socket, 5 the exit pipe.

Attacks: a closed go socket, a wrong tag, a length past CMDMSG_MAX, a short message, strings
without their NUL or with bytes after them, counts past the limit: each gets 'E' + a reason on
the status pipe, nothing on the exit pipe, and no command runs (it would create a file).
Control: a well-formed go-ahead runs the command with exactly its argv and environment, 'R'
then 'S' + the wait status on fd 3, the same status as be32 on fd 5."""
import os
import socket
import struct
import subprocess
import sys
import tempfile

INIT = os.path.join(os.environ["WSGATE_BIN"], "wsgate-init")
CMDMSG_MAX = 128 * 1024
failed = 0


def check(cond, what):
    global failed
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failed += 1


def pack(argv, envp):
    body = b"".join(s.encode() + b"\0" for s in argv + envp)
    return struct.pack(">II", len(argv), len(envp)) + body


def go(msg):
    return b"G" + struct.pack(">I", len(msg)) + msg


def run_init(send, marker):
    """Starts wsgate-init, sends `send` on its go socket (None: closes it at once), and returns
    (status pipe bytes, exit pipe bytes, its exit code, stdout)."""
    st_r, st_w = os.pipe()
    ex_r, ex_w = os.pipe()
    mine, its = socket.socketpair()
    fds = {3: st_w, 4: its.fileno(), 5: ex_w}

    def place():
        # The fds at 3, 4 and 5, as sandbox.c's child leaves them for the exec.
        for want, fd in fds.items():
            os.dup2(os.dup(fd), want + 20)
        for want in fds:
            os.dup2(want + 20, want)
            os.close(want + 20)

    p = subprocess.Popen([INIT], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         preexec_fn=place, pass_fds=(3, 4, 5), env={})
    os.close(st_w)
    os.close(ex_w)
    its.close()
    if send is not None:
        try:
            mine.sendall(send)
        except OSError:
            pass
    mine.close()
    out = p.stdout.read()
    code = p.wait(20)
    status = os.read(st_r, 4096)
    exitb = os.read(ex_r, 4096)
    os.close(st_r)
    os.close(ex_r)
    return status, exitb, code, out


d = tempfile.mkdtemp(prefix="wsgate-init-proto-")
try:
    marker = os.path.join(d, "ran")
    touch = ["/bin/sh", "-c", "echo ran > " + marker]
    good = pack(touch, ["A=1"])
    attacks = [
        ("no go-ahead (the socket closed)", None),
        ("a wrong tag", b"X" + go(good)[1:]),
        ("a length past CMDMSG_MAX", b"G" + struct.pack(">I", CMDMSG_MAX + 1) + good),
        ("a message shorter than its length", go(good)[:-3]),
        ("a string without its NUL", go(good[:-1])),
        ("a byte after the last string", go(good + b"x")),
        ("argc 0", go(struct.pack(">II", 0, 0))),
        ("more strings than the limit", go(struct.pack(">II", 200, 100) + b"a\0" * 300)),
        ("an envc that wraps with argc", go(struct.pack(">II", 1, 0xFFFFFFFF) + b"a\0")),
    ]
    for what, send in attacks:
        status, exitb, code, _ = run_init(send, marker)
        check(status.startswith(b"E") and exitb == b"" and code != 0 and
              not os.path.exists(marker),
              "%s: refused with %r, nothing ran" % (what, status[:60]))

    # Control: the same command, well formed.
    script = "printf '%s|' \"$0\" \"$@\"; env | grep -v '^PWD=' | sort | tr '\\n' ' '; exit 7"
    status, exitb, code, out = run_init(
        go(pack(["/bin/sh", "-c", script, "a b", "c"], ["A=1", "B=two words"])), marker)
    check(out.decode() == "a b|c|A=1 B=two words ",
          "the command got exactly its argv and environment (%r)" % out)
    wst = 7 << 8
    check(status == b"R" + b"S" + struct.pack("=i", wst) and code == 0,
          "'R', then 'S' + the wait status on the status pipe (%r)" % status)
    check(exitb == struct.pack(">I", wst), "the same status as be32 on the exit pipe (%r)" % exitb)
    status, exitb, code, _ = run_init(go(good), marker)
    check(os.path.exists(marker), "control: the well-formed command of the attacks runs")
finally:
    subprocess.run(["rm", "-rf", d])
sys.exit(1 if failed else 0)
