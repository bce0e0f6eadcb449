"""SPEC "Login", algorithms: the clients people have connect, and nothing weaker is offered.

Debian 12's python3-paramiko 2.12 (what Ansible and pysftp use) logs in with password and the
TOTP code over keyboard-interactive, runs a command and lists over SFTP (issue 14: it used to
fail with "Incompatible ssh server (no acceptable ciphers)"). For every cipher, MAC and key
exchange this OpenSSH client knows (ssh -Q), a connection that offers only that one gets past
key exchange exactly when the SPEC allows it; the server's KEXINIT is read from ssh -vv, and
strict KEX (CVE-2023-48795, Terrapin) is offered and used with OpenSSH."""
import re, subprocess, sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwtest import Gateway, check, fresh_step, totp, SSH_OPTS

sys.path.insert(0, "/usr/lib/python3/dist-packages")  # Debian's paramiko, not a pip one
import logging
import paramiko

logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # the refusals below are expected

ALLOWED = {
    "cipher": {"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com",
               "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"},
    "mac": {"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"},
    "kex": {"curve25519-sha256", "curve25519-sha256@libssh.org"},
}
OPTION = {"cipher": "Ciphers", "mac": "MACs", "kex": "KexAlgorithms"}

g = Gateway(22361, name="clients")


def paramiko_login(user, password="pw-secret1", **kw):
    t = paramiko.Transport(("127.0.0.1", g.port), **kw)
    t.start_client(timeout=10)
    methods = t.auth_password(user, password)
    check(methods == ["keyboard-interactive"],
          "paramiko: password is a partial success, then keyboard-interactive (%s)" % methods)
    code = totp()
    prompts = []

    def answer(title, instructions, ps):
        prompts.extend(p for p, _ in ps)
        return [code for _ in ps]

    left = t.auth_interactive(user, answer)
    check(left == [] and t.is_authenticated() and prompts == ["Verification code: "],
          "paramiko: the TOTP code on the 'Verification code: ' prompt logs in")
    return t


def offered(kind, name):
    """ssh offering only `name` for kind: 'kex' if it got past key exchange (to the
    authentication the batch client cannot give), else 'refused': OpenSSH says "no matching
    ..." when the server's KEXINIT came first, "Connection closed" when libssh saw the client's
    first and hung up."""
    opts = ["-o", "%s=%s" % (OPTION[kind], name)]
    if kind == "mac":
        opts += ["-o", "Ciphers=aes128-ctr"]  # an AEAD cipher would not use a MAC at all
    r = subprocess.run(["ssh"] + opts + SSH_OPTS + ["-o", "BatchMode=yes", "-p", str(g.port),
                                                   "nobody@127.0.0.1", "true"],
                       capture_output=True, text=True, timeout=30)
    return "kex" if "Permission denied" in r.stderr else "refused"


try:
    g.init()
    for u in ("pa", "pb"):
        g.user(u)
    g.start()
    fresh_step(15)

    # paramiko 2.12 as Debian ships it, with its own preferences.
    check(paramiko.__version__.startswith("2.12"), "paramiko is Debian 12's 2.12 (%s)"
          % paramiko.__version__)
    t = paramiko_login("pa")
    check(t.local_cipher in ALLOWED["cipher"] and t.remote_cipher in ALLOWED["cipher"],
          "paramiko negotiated %s / %s" % (t.local_cipher, t.remote_cipher))
    check(t.local_mac in ALLOWED["mac"] and t.remote_mac in ALLOWED["mac"],
          "paramiko negotiated the MAC %s (encrypt-then-MAC)" % t.local_mac)
    ch = t.open_session()
    ch.exec_command("echo paramiko-$((6*7))")
    out = ch.makefile("r").read().decode()
    check(ch.recv_exit_status() == 0 and out == "paramiko-42\n", "paramiko runs a command")
    sftp = paramiko.SFTPClient.from_transport(t)
    check(sorted(sftp.listdir("/")) == ["inbox", "outbox"] and sftp.listdir("/outbox") == [],
          "paramiko lists over SFTP (pysftp's way)")
    sftp.close()
    t.close()

    # paramiko made to offer what the SPEC refuses: CBC ciphers, MACs without EtM.
    weak = paramiko.Transport(("127.0.0.1", g.port), disabled_algorithms={
        "ciphers": ["aes128-ctr", "aes192-ctr", "aes256-ctr"]})
    try:
        weak.start_client(timeout=10)
        refused = False
    except paramiko.SSHException as e:
        refused = "cipher" in str(e).lower()
    weak.close()
    check(refused, "paramiko offering only CBC ciphers is refused")
    weak = paramiko.Transport(("127.0.0.1", g.port), disabled_algorithms={
        "macs": ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"]})
    try:
        weak.start_client(timeout=10)
        refused = False
    except paramiko.SSHException as e:
        refused = "mac" in str(e).lower()
    weak.close()
    check(refused, "paramiko offering only MACs without encrypt-then-MAC is refused")
    # The allowed path again, after the refusals: a second account, SFTP only.
    t = paramiko_login("pb")
    check(paramiko.SFTPClient.from_transport(t).listdir("/outbox") == [],
          "paramiko SFTP after the refused attempts")
    t.close()

    # Each algorithm this OpenSSH knows, offered alone.
    for kind in ("cipher", "mac", "kex"):
        known = subprocess.check_output(["ssh", "-Q", kind], text=True).split()
        check(ALLOWED[kind] <= set(known), "ssh -Q %s knows every allowed one" % kind)
        got = {name: offered(kind, name) for name in known}
        ok = {n for n, r in got.items() if r == "kex"}
        check(ok == ALLOWED[kind], "%ss accepted: %s" % (kind, " ".join(sorted(ok))))

    # What the server's KEXINIT says, as OpenSSH prints it, and strict KEX in use.
    r = subprocess.run(["ssh", "-vvv"] + SSH_OPTS + ["-o", "BatchMode=yes", "-p", str(g.port),
                                                    "nobody@127.0.0.1", "true"],
                       capture_output=True, text=True, timeout=30)
    peer = r.stderr.split("peer server KEXINIT proposal", 1)[-1]
    fields = dict(re.findall(r"debug2: ([^:\n]+): (.*)", peer))
    kex = fields.get("KEX algorithms", "").split(",")
    check("kex-strict-s-v00@openssh.com" in kex, "the server offers strict KEX")
    check(set(kex) - {"kex-strict-s-v00@openssh.com"} == ALLOWED["kex"],
          "KEX offered: %s" % ",".join(kex))
    check(fields.get("host key algorithms") == "ssh-ed25519", "host key: ssh-ed25519 only")
    check(set(fields.get("ciphers stoc", "").split(",")) == ALLOWED["cipher"],
          "ciphers offered: %s" % fields.get("ciphers stoc"))
    check(set(fields.get("MACs stoc", "").split(",")) == ALLOWED["mac"],
          "MACs offered: %s" % fields.get("MACs stoc"))
    check("will use strict KEX ordering" in r.stderr, "OpenSSH uses strict KEX with the gateway")
finally:
    g.cleanup()
