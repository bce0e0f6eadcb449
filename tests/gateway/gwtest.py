"""Shared helpers for the gateway scenarios: a private state dir, config and wsgated per test,
accounts made with wsgatectl, and the real OpenSSH client driven through its prompts."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pexpect

BIN = os.environ.get("WSGATE_BIN", os.path.join(os.path.dirname(__file__), "../../build/bin"))
SECRET = "JBSWY3DPEHPK3PXP"  # base32 TOTP seed used by every test account
SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "PreferredAuthentications=publickey,password,keyboard-interactive",
            "-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1",
            "-o", "ConnectTimeout=10", "-F", "/dev/null"]


def _die_with_parent():
    """A test killed by a timeout must not leave its wsgated running (PR_SET_PDEATHSIG)."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def totp(secret=SECRET, offset=0):
    args = ["oathtool", "--totp", "-b", secret]
    if offset:
        args.append("--now=%s" % time.strftime("%Y-%m-%d %H:%M:%S UTC",
                                                time.gmtime(time.time() + offset)))
    return subprocess.check_output(args, text=True).strip()


def fresh_step(margin=4):
    """Wait so that a whole code's validity is ahead of us (no step change mid-login)."""
    left = 30 - (time.time() % 30)
    if left < margin:
        time.sleep(left + 0.5)


class Gateway:
    def __init__(self, port, extra_gateway="", zones=None, name="gw", exec_without_pty="*",
                 extra_sandbox=""):
        self.port = port
        # "*": most scenarios run commands without a pty to test something else (the relay,
        # roles, limits); test_egress.py runs with wsgate's default, "airlock".
        self.exec_without_pty = exec_without_pty
        self.dir = tempfile.mkdtemp(prefix="wsgate-%s-" % name)
        self.conf = os.path.join(self.dir, "wsgate.conf")
        self.state = os.path.join(self.dir, "state")
        self.log = os.path.join(self.dir, "wsgated.log")
        self.proc = None
        self.ctl_bin = os.path.join(BIN, "wsgatectl")
        if zones is None:
            zones = {"office": ("127.0.0.1/32 ::1/128", "remote")}
        self.zones = zones
        self.extra = extra_gateway
        self.extra_sandbox = extra_sandbox
        self.write_conf()

    def conf_text(self, extra=None):
        g = ["[gateway]",
             "listen = 127.0.0.1:%d [::1]:%d" % (self.port, self.port),
             "state_dir = %s" % self.state,
             "host_key = %s/host_ed25519" % self.state,
             "idle_timeout = 30m", "max_sessions = 100",
             "lockout_failures = 50", "lockout_window = 15m", "lockout_time = 15m",
             "login_grace = 30s",
             # Scenarios open many connections at once from 127.0.0.1; the pre-auth caps
             # have their own test (test_preauth.py), which sets them low.
             "max_unauthenticated = 200", "max_unauthenticated_per_source = 200"]
        for line in (self.extra if extra is None else extra).splitlines():
            line = line.strip()
            if not line:
                continue
            key = line.split("=")[0].strip()
            g = [x for x in g if x.split("=")[0].strip() != key]
            g.append(line)
        for z, (nets, area) in self.zones.items():
            g += ["", "[zone %s]" % z, "networks = %s" % nets, "area = %s" % area]
        # Tests move more than a day's default budget through sessions; the budget tests set
        # their own (extra_sandbox overrides a key).
        s = ["memory_max = 1G", "pids_max = 128", "file_size_max = 1G", "cpu_time_max = 1h",
             "output_budget = none", "input_budget = none",
             "exec_without_pty = %s" % self.exec_without_pty]
        for line in self.extra_sandbox.splitlines():
            line = line.strip()
            if line:
                key = line.split("=")[0].strip()
                s = [x for x in s if x.split("=")[0].strip() != key] + [line]
        g += ["", "[sandbox]"] + s
        return "\n".join(g) + "\n"

    def write_conf(self, text=None):
        with open(self.conf, "w") as f:
            f.write(self.conf_text() if text is None else text)

    def ctl(self, *args, stdin=None, check_rc=True, env=None):
        r = subprocess.run([self.ctl_bin, "-c", self.conf] + list(args), input=stdin,
                           capture_output=True, text=True, env=env)
        if check_rc and r.returncode != 0:
            fail("wsgatectl %s: rc %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return r

    def init(self):
        self.ctl("init")
        self.ctl("project", "add", "p1")
        return self

    def user(self, name, role="analyst", password="pw-" + "secret1", project="p1",
             zone="office", key=None, extra=()):
        args = ["user", "add", name, "--role", role]
        if project and role != "admin":
            args += ["--project", project]
        if zone:
            args += ["--zone", zone]
        self.ctl(*(args + list(extra)))
        if password:
            self.ctl("user", "passwd", name, stdin=password + "\n")
        if key:
            with open(key + ".pub") as f:
                self.ctl("user", "key", name, stdin=f.read())
        self.ctl("user", "totp", name, "--secret", SECRET)

    def ctl_in_past(self, days, *args):
        """Runs wsgatectl with its clock set back (tests/gateway/timeshift.c)."""
        so = os.path.join(self.dir, "timeshift.so")
        if not os.path.exists(so):
            subprocess.run(["cc", "-shared", "-fPIC", "-o", so,
                            os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "timeshift.c")], check=True)
        env = dict(os.environ, LD_PRELOAD=so, WSGATE_TIME_SHIFT=str(-days * 86400))
        return self.ctl(*args, env=env)

    def keypair(self, name="id"):
        path = os.path.join(self.dir, name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
        return path

    def start(self, env=None):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([os.path.join(BIN, "wsgated"), "-c", self.conf, "-f"],
                                     stdout=self.logf, stderr=self.logf, env=env,
                                     preexec_fn=_die_with_parent)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    fail("wsgated exited: " + self.logtext())
                time.sleep(0.05)
        fail("wsgated did not listen")

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        for c in getattr(self, "masters", []):
            c.close(force=True)
        self.stop()
        if os.environ.get("WSGATE_KEEP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def ssh_args(self, login, cmd=None, key=None, extra=(), host="127.0.0.1"):
        # Options given here come first: for ssh the first value of an option wins.
        a = ["ssh"] + list(extra) + SSH_OPTS + ["-p", str(self.port)]
        if key:
            a += ["-i", key, "-o", "IdentitiesOnly=yes"]
        else:
            a += ["-o", "PubkeyAuthentication=no", "-o", "IdentitiesOnly=yes",
                  "-o", "IdentityFile=/dev/null"]
        a += ["%s@%s" % (login, host)]
        if cmd is not None:
            a.append(cmd)
        return a

    def spawn(self, login, cmd=None, password="pw-secret1", key=None, extra=(), timeout=30,
              tty=True, rows=24, cols=80):
        """Logs in and returns the pexpect child at the start of the session."""
        args = self.ssh_args(login, cmd, key, (["-tt"] if tty else ["-T"]) + list(extra))
        child = pexpect.spawn(args[0], args[1:], timeout=timeout, encoding="utf-8",
                              codec_errors="replace", dimensions=(rows, cols))
        while True:
            i = child.expect(["[Pp]assword:", "Verification code: "])
            if i == 0:
                child.sendline(password)
            else:
                child.sendline(totp())
                return child

    def master(self, login, password="pw-secret1", key=None, extra=()):
        """A ControlMaster connection; returns the control socket path for mux()."""
        sock = os.path.join(self.dir, "ctl-%s" % login)
        c = self.spawn(login, None, password, key, extra=["-M", "-S", sock, "-N"] + list(extra),
                       tty=False)
        for _ in range(200):
            if os.path.exists(sock):
                self.masters = getattr(self, "masters", []) + [c]
                return sock
            time.sleep(0.05)
        fail("control master for %s did not come up: %s" % (login, c.before))

    def mux(self, sock, cmd, stdin=None, extra=(), timeout=120, binary=False):
        """Runs cmd over an existing master; returns CompletedProcess."""
        a = ["ssh"] + SSH_OPTS + ["-S", sock, "-o", "ControlMaster=no", "-p", str(self.port)]
        a += list(extra) + ["x@127.0.0.1"]
        if cmd is not None:
            a.append(cmd)
        return subprocess.run(a, input=stdin, capture_output=True, timeout=timeout,
                              text=not binary)

    def login(self, login, cmd=None, password="pw-secret1", code=None, key=None, extra=(),
              timeout=30, tty=False, host="127.0.0.1"):
        """Runs ssh through its prompts. Returns (exit status, output, child)."""
        args = self.ssh_args(login, cmd, key, (["-tt"] if tty else ["-T"]) + list(extra), host)
        child = pexpect.spawn(args[0], args[1:], timeout=timeout, encoding="utf-8",
                              codec_errors="replace")
        out = ""
        while True:
            i = child.expect(["[Pp]assword:", "Verification code: ", pexpect.EOF,
                              pexpect.TIMEOUT])
            out += child.before or ""
            if i == 0:
                child.sendline(password)
            elif i == 1:
                child.sendline(code if code is not None else totp())
            elif i == 2:
                break
            else:
                child.close(force=True)
                return (None, out + "<TIMEOUT>", child)
        child.close()
        if child.signalstatus is not None:
            return (-child.signalstatus, out, child)
        return (child.exitstatus, out, child)
