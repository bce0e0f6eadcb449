#!/bin/bash
# Escape battery and positive checks for the sandbox, one case per ctest test:
#   battery.sh CASE
# Each escape case makes the attempt inside a real sandbox (through sandbox-run) and asserts that
# it FAILED; where it makes sense a positive control shows the same check would notice success
# (the file is readable on the host, the listener does accept host connections, ...).
# Needs root. Env: SANDBOX_RUN, SANDBOX_PROBE (set by CMake).
set -u
CASE=${1:?case}
: "${SANDBOX_RUN:?}" "${SANDBOX_PROBE:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

UID_=200123
GID_=300123
T=$(mktemp -d /tmp/wsgate-sbtest.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# A fake state dir: our area, the project's other area, another project, a secret db. All
# world-readable on the host, so only the sandbox's mount isolation can hide them.
STATE=$T/state
WORK=$STATE/projects/p1/remote
mkdir -p "$WORK/imports" "$STATE/projects/p1/onsite" "$STATE/projects/p2/remote"
echo secret-db >"$STATE/wsgate.mdb"
echo other-area >"$STATE/projects/p1/onsite/data.csv"
echo other-project >"$STATE/projects/p2/remote/data.csv"
chmod 644 "$STATE/wsgate.mdb" "$STATE"/projects/*/*/data.csv
chown root:$GID_ "$WORK" && chmod 2770 "$WORK"
echo imported >"$WORK/imports/approved.csv"
chown -R root:$GID_ "$WORK/imports" && chmod 02750 "$WORK/imports" && chmod 0640 "$WORK/imports/approved.csv"
cp "$SANDBOX_PROBE" "$WORK/probe" && chmod 755 "$WORK/probe"

fail() { echo "FAIL: $CASE: $*"; [ -n "${ERR-}" ] && echo "stderr: $ERR"; exit 1; }
pass() { echo "PASS: $CASE${1:+: $1}"; exit 0; }
# run [sandbox-run options] -- 'shell command'; output in $OUT, status in $RC
run() {
	OUT=$("$SANDBOX_RUN" --work "$WORK" --uid $UID_ --gid $GID_ --user alice "$@" 2>"$T/stderr")
	RC=$?
	ERR=$(cat "$T/stderr")
}
expect_out() { # expect_out WANT: whole output must equal WANT
	[ "$OUT" = "$1" ] || fail "expected '$1', got '$OUT' (rc $RC)"
}
probe() { # probe NAME EXPECTED
	run -- "./probe $1"
	[ "$RC" = 0 ] || fail "probe $1 exited $RC: $OUT"
	expect_out "$2"
	pass "$1 -> $2"
}
# listen tcp|udp: a listener on the host's 127.0.0.1; sets LPORT, connections logged to $T/got
listen() {
	python3 - "$1" "$T/got" "$T/port" <<'PY' &
import socket, sys
kind, log, portf = sys.argv[1:4]
t = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
if kind == "tcp":
    s.listen(5)
open(portf + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(portf + ".tmp", portf)
while True:
    if kind == "tcp":
        c, _ = s.accept(); data = c.recv(100)
    else:
        data, _ = s.recvfrom(100)
    with open(log, "a") as f:
        f.write(repr(data) + "\n")
PY
	PIDS+=($!)
	for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
	LPORT=$(cat "$T/port")
}
# Runs sandbox-run on a pty (python pty), feeding the given lines; output in $OUT.
run_pty() {
	OUT=$(python3 - "$SANDBOX_RUN" "$WORK" $UID_ $GID_ "$@" <<'PY'
import os, pty, sys, time, select
run, work, uid, gid = sys.argv[1:5]
lines = sys.argv[5:]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "dumb"
    os.execv(run, [run, "--work", work, "--uid", uid, "--gid", gid, "--user", "alice", "--pty"])
out = b""
def rd(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return False
            if not d:
                return False
            out += d
    return True
rd(1.0)
for l in lines:
    os.write(fd, l.encode().decode("unicode_escape").encode())
    rd(0.7)
rd(1.0)
try:
    os.kill(pid, 15)  # sandbox-run then kills and reaps the sandbox (no cgroup left behind)
except OSError:
    pass
rd(0.5)
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
PY
)
}

case "$CASE" in
# ---- network ----
tcp_host_loopback)
	listen tcp
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $LPORT)).send(b'host')" ||
		fail "positive control: host cannot reach its own listener"
	sleep 0.3
	grep -q host "$T/got" || fail "positive control: listener did not log"
	run -- "python3 -c \"
import socket
try:
    socket.create_connection(('127.0.0.1', $LPORT), timeout=2).send(b'escape'); print('connected')
except OSError as e:
    print('refused', e.errno)
\""
	sleep 0.3
	grep -q escape "$T/got" && fail "the sandbox reached the host's listener"
	case "$OUT" in refused*) pass "$OUT" ;; *) fail "$OUT" ;; esac ;;
udp_host_loopback)
	listen udp
	python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'host', ('127.0.0.1', $LPORT))"
	sleep 0.3
	grep -q host "$T/got" || fail "positive control: UDP listener did not log"
	run -- "python3 -c \"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5): s.sendto(b'escape', ('127.0.0.1', $LPORT))
print('sent')
\""
	sleep 0.5
	grep -q escape "$T/got" && fail "UDP datagram from the sandbox reached the host"
	pass "datagrams stayed in the sandbox's own loopback" ;;
only_loopback)
	run -- "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"
	expect_out lo; pass ;;
loopback_inside)
	run -- "python3 -c \"
import socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept(); c.send(b'ok'); print(a.recv(2).decode())
\""
	expect_out ok; pass "R/Python local workers can use lo" ;;
abstract_unix_socket)
	# Abstract unix sockets belong to the network namespace: the host's (X11, systemd, ...)
	# are out of reach.
	python3 -c "
import socket, os
s = socket.socket(socket.AF_UNIX); s.bind('\0wsgate-test-$$'); s.listen()
open('$T/absready', 'w').close()
while True:
    c, _ = s.accept()
    with open('$T/got', 'ab') as f:
        f.write(c.recv(100) + b'\n')
" &
	PIDS+=($!)
	for _ in $(seq 50); do [ -e "$T/absready" ] && break; sleep 0.1; done
	python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('\0wsgate-test-$$'); s.send(b'host')" ||
		fail "positive control: host cannot reach its abstract socket"
	sleep 0.3
	grep -q host "$T/got" || fail "positive control: listener did not log"
	run -- "python3 -c \"
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect('\\0wsgate-test-$$'); s.send(b'escape'); print('connected')
except OSError as e:
    print('refused', e.errno)
\""
	sleep 0.3
	grep -q escape "$T/got" 2>/dev/null && fail "reached the host's abstract socket"
	case "$OUT" in refused*) pass "$OUT" ;; *) fail "$OUT" ;; esac ;;
sysv_ipc)
	ID=$(ipcmk -M 4096 | awk '{ print $NF }')
	[ -n "$ID" ] || fail "positive control: no host shm segment"
	chmod_ok=$(ipcs -m -i "$ID" >/dev/null 2>&1 && echo yes)
	run -- "ipcs -m | grep -c '^0x' || true"
	ipcrm -m "$ID"
	[ "$chmod_ok" = yes ] || fail "positive control: segment not listed on the host"
	expect_out 0; pass "the host's SysV shared memory is invisible" ;;
raw_socket) probe sock_raw EPERM ;;
netlink_socket) probe sock_netlink EAFNOSUPPORT ;;
packet_socket) probe sock_packet EAFNOSUPPORT ;;
alg_socket) probe sock_alg EAFNOSUPPORT ;;
vsock_socket) probe sock_vsock EAFNOSUPPORT ;;
bluetooth_socket) probe sock_bluetooth EAFNOSUPPORT ;;
appletalk_socket) probe sock_appletalk EAFNOSUPPORT ;;
socket_family_hibits) probe sock_hibits EAFNOSUPPORT ;;
socketpair_inet) probe socketpair_inet EAFNOSUPPORT ;;
unix_socket_allowed) probe sock_unix ok ;;
inet_socket_allowed) probe sock_inet ok ;;
# ---- files ----
etc_shadow)
	[ -s /etc/shadow ] || fail "positive control: host has no /etc/shadow"
	run -- "cat /etc/shadow || cat /proc/1/root/etc/shadow || echo denied"
	case "$OUT" in *root:*) fail "read shadow" ;; esac
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
state_dir)
	setpriv --reuid=$UID_ --regid=$GID_ --clear-groups cat "$STATE/wsgate.mdb" >/dev/null ||
		fail "positive control: the state file is not readable by the uid on the host"
	run -- "cat '$STATE/wsgate.mdb' || ls '$STATE' || cat /work/../../../wsgate.mdb || echo denied"
	case "$OUT" in *secret-db*) fail "read the state dir" ;; esac
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
other_area)
	run -- "cat '$STATE/projects/p1/onsite/data.csv' ../onsite/data.csv 2>&1; ls -a /work/.. | tr '\n' ' '"
	case "$OUT" in *other-area*|*onsite\ *) fail "other area visible: $OUT" ;; esac
	[ "$(echo "$OUT" | tail -1)" = ". .. bin dev etc lib lib32 lib64 proc run sbin tmp usr var work " ] ||
		[ "$(echo "$OUT" | tail -1)" = ". .. bin dev etc lib lib64 proc run sbin tmp usr var work " ] ||
		fail "unexpected root listing: $OUT"
	pass ;;
other_project)
	run -- "cat '$STATE/projects/p2/remote/data.csv'; find / -xdev -name data.csv; echo done"
	case "$OUT" in *other-project*|*/data.csv*) fail "other project visible: $OUT" ;; esac
	pass ;;
home_dirs)
	run -- "ls /home /root 2>&1; echo done"
	case "$OUT" in *"No such file"*done) pass ;; *) fail "$OUT" ;; esac ;;
write_usr)
	run -- "touch /usr/evil || echo x >> /etc/passwd || mkdir /evil || touch /bin/evil || echo denied"
	[ -e /usr/evil ] && { rm -f /usr/evil; fail "wrote /usr"; }
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
imports_readonly)
	run -- "cat imports/approved.csv && { touch imports/new || echo x >> imports/approved.csv || rm -f imports/approved.csv || echo denied; }"
	[ -e "$WORK/imports/new" ] && fail "created a file in imports"
	grep -qx imported "$WORK/imports/approved.csv" || fail "imports file changed"
	echo "$OUT" | head -1 | grep -qx imported || fail "positive control: cannot read imports: $OUT"
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
imports_replace)
	run -- "mv imports imports.old || rmdir imports || echo denied"
	[ -d "$WORK/imports" ] && [ ! -e "$WORK/imports.old" ] || fail "imports/ was moved: $OUT"
	[ "$(stat -c %u "$WORK/imports")" = 0 ] || fail "imports/ replaced"
	[ "$OUT" = denied ] || fail "$OUT"; pass "imports/ pinned by a read-only bind" ;;
work_dir_symlink)
	ln -s "$STATE/projects/p2/remote" "$T/fake-area"
	OUT=$("$SANDBOX_RUN" --work "$T/fake-area" --uid $UID_ --gid $GID_ -- "cat data.csv" 2>&1)
	RC=$?
	case "$OUT" in *other-project*) fail "bound a symlinked area" ;; esac
	[ "$RC" = 255 ] || fail "rc $RC: $OUT"
	echo "$OUT" | grep -q "is not a directory" || fail "$OUT"; pass "setup refused: $OUT" ;;
symlink_outside)
	run -- "ln -s '$STATE/wsgate.mdb' link1 && ln -s /proc/1/root/etc/shadow link2 && { cat link1 || cat link2 || echo denied; }"
	case "$OUT" in *secret-db*|*root:*) fail "followed a link outside" ;; esac
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
hardlink_outside)
	run -- "ln /etc/passwd h1 || ln /usr/bin/su h2 || ln '$STATE/wsgate.mdb' h3 || echo denied"
	[ -e "$WORK/h1" ] || [ -e "$WORK/h2" ] || [ -e "$WORK/h3" ] && fail "hard link created: $OUT"
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
proc1_root)
	run -- "ls /proc/1/root/ || cat /proc/1/environ || echo denied"
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
proc1_mem) probe proc1_mem ENOENT ;;
proc_self_root)
	run -- "readlink /proc/self/root; cat '/proc/self/root$STATE/wsgate.mdb' || cat /proc/self/root/../../etc/shadow || ls /proc/self/root/oldroot || echo denied"
	case "$OUT" in *secret-db*|*root:*) fail "escaped via /proc/self/root" ;; esac
	[ "$(echo "$OUT" | head -1)" = / ] || fail "root is not /: $OUT"
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
no_oldroot)
	run -- "ls -d /oldroot /newroot /tmp/oldroot 2>/dev/null; echo done"
	expect_out done; pass ;;
tmp_private)
	touch /tmp/wsgate-host-marker.$$
	run -- "ls -A /tmp; echo x > /tmp/mine && echo writable"
	rm -f /tmp/wsgate-host-marker.$$
	expect_out writable; pass "/tmp empty, private and writable" ;;
no_resolv_conf)
	run -- "test -e /etc/resolv.conf && echo present || echo absent"
	expect_out absent; pass ;;
passwd_only_user)
	run -- "cat /etc/passwd; getent passwd root || echo noroot"
	expect_out "alice:x:$UID_:$GID_::/tmp:/bin/bash
noroot"; pass ;;
sysrq_and_proc_sys)
	run -- "echo h > /proc/sysrq-trigger || echo 1 > /proc/sys/kernel/sysrq || echo 0 > /proc/sys/vm/overcommit_memory || echo denied"
	echo "$OUT" | tail -1 | grep -q denied || fail "$OUT"; pass ;;
dev_minimal)
	run -- "ls /dev | tr '\n' ' '; cat /dev/mem /dev/sda /dev/kmsg 2>/dev/null || echo nodev"
	expect_out "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero nodev"; pass ;;
# ---- processes and identity ----
ps_host)
	sleep 300 &
	PIDS+=($!)
	run -- "ps -eo comm= > /tmp/ps; cat /tmp/ps; kill -0 $! 2>/dev/null && echo seen || echo notseen"
	expect_out "sh
ps
notseen"; pass "only the own shell is listed; host pid $! unknown" ;;
kill_host)
	sleep 300 &
	HP=$!
	PIDS+=($HP)
	run -- "kill -9 $HP; kill -9 -1; echo done"
	sleep 0.2
	kill -0 $HP || fail "host process was killed"
	pass ;;
kill_init)
	run -- "./probe kill_init; echo still-here"
	expect_out "ok
still-here"; pass "init ignores signals from inside" ;;
identity)
	run -- "id -u; id -g; id -G; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\t' ' '"
	expect_out "$UID_
$GID_
$GID_
CapInh: 0000000000000000
CapPrm: 0000000000000000
CapEff: 0000000000000000
CapBnd: 0000000000000000
CapAmb: 0000000000000000
NoNewPrivs: 1
Seccomp: 2"; pass ;;
setuid_copy)
	cp /usr/bin/id "$WORK/suid-id" && chown root:root "$WORK/suid-id" && chmod 4755 "$WORK/suid-id"
	[ "$(setpriv --reuid=$UID_ --regid=$GID_ --clear-groups "$WORK/suid-id" -u)" = 0 ] ||
		fail "positive control: setuid copy does not work on the host"
	run -- "./suid-id -u"
	expect_out $UID_; pass "setuid bit inert (nosuid + no_new_privs)" ;;
su_sudo)
	run -- "echo x | su -c id root 2>&1; sudo -n id 2>&1; id -u"
	case "$OUT" in *"uid=0"*) fail "became root: $OUT" ;; esac
	[ "$(echo "$OUT" | tail -1)" = $UID_ ] || fail "$OUT"; pass ;;
hostname)
	run -- "hostname; hostname evil 2>/dev/null; ./probe sethostname; hostname"
	expect_out "wsgate
EPERM
wsgate"; pass ;;
# ---- syscall probes (the seccomp table) ----
mount) probe mount EPERM ;;
umount) probe umount EPERM ;;
pivot_root) probe pivot_root EPERM ;;
chroot) probe chroot EPERM ;;
mknod_char) probe mknod_char EPERM ;;
mknod_block) probe mknod_block EPERM ;;
mknod_fifo_allowed) probe mknod_fifo ok ;;
setdomainname) probe setdomainname EPERM ;;
clock_settime) probe clock_settime EPERM ;;
settimeofday) probe settimeofday EPERM ;;
adjtimex) probe adjtimex EPERM ;;
ptrace) probe ptrace EPERM ;;
ptrace_traceme) probe ptrace_traceme EPERM ;;
process_vm_readv) probe process_vm_readv EPERM ;;
process_vm_writev) probe process_vm_writev EPERM ;;
unshare_user) probe unshare_user EPERM ;;
unshare_mount) probe unshare_ns EPERM ;;
unshare_net) probe unshare_net EPERM ;;
setns) probe setns EPERM ;;
clone_newuser) probe clone_newuser EPERM ;;
clone3) probe clone3 ENOSYS ;;
keyctl) probe keyctl EPERM ;;
add_key) probe add_key EPERM ;;
request_key) probe request_key EPERM ;;
bpf) probe bpf EPERM ;;
perf_event_open) probe perf_event_open EPERM ;;
userfaultfd) probe userfaultfd EPERM ;;
io_uring_setup) probe io_uring_setup ENOSYS ;;
kexec_load) probe kexec_load EPERM ;;
kexec_file_load) probe kexec_file_load EPERM ;;
init_module) probe init_module EPERM ;;
finit_module) probe finit_module EPERM ;;
delete_module) probe delete_module EPERM ;;
open_by_handle_at) probe open_by_handle_at EPERM ;;
name_to_handle_at) probe name_to_handle_at EPERM ;;
reboot) probe reboot EPERM ;;
swapon) probe swapon EPERM ;;
swapoff) probe swapoff EPERM ;;
syslog) probe syslog EPERM ;;
acct) probe acct EPERM ;;
quotactl) probe quotactl EPERM ;;
personality) probe personality EPERM ;;
personality_linux_allowed) probe personality_linux ok ;;
mmap_exec_allowed) probe mmap_exec ok ;;
mprotect_exec_allowed) probe mprotect_exec ok ;;
pidfd_getfd) probe pidfd_getfd EPERM ;;
kcmp) probe kcmp EPERM ;;
modify_ldt) probe modify_ldt EPERM ;;
iopl) probe iopl EPERM ;;
ioperm) probe ioperm EPERM ;;
fanotify_init) probe fanotify_init EPERM ;;
lookup_dcookie) probe lookup_dcookie EPERM ;;
fsopen) probe fsopen ENOSYS ;;
open_tree) probe open_tree ENOSYS ;;
move_mount) probe move_mount ENOSYS ;;
tioclinux_hibits) probe tioclinux EPERM ;;
abi_x32)
	run -- "./probe x32"
	[ "$RC" = $((128 + 31)) ] || fail "x32 syscall not killed (rc $RC): $OUT"; pass "killed by SIGSYS" ;;
abi_i386)
	run -- "./probe i386"
	[ "$RC" = $((128 + 31)) ] || fail "int 0x80 not killed (rc $RC): $OUT"; pass "killed by SIGSYS" ;;
tiocsti_pty)
	# The injected "id" would run in the session's shell after the probe exits.
	run_pty "./probe tiocsti; ./probe tiocsti_hibits; echo probes-done\n" "exit\n"
	echo "$OUT" | grep -q "probes-done" || fail "pty session did not run: $OUT"
	[ "$(echo "$OUT" | grep -c '^EPERM$')" = 2 ] || fail "TIOCSTI not refused: $OUT"
	pass ;;
# ---- limits ----
fork_limit)
	run --pids 32 -- "python3 -c \"
import os, time, errno
n = 0
try:
    for i in range(200):
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
    print('unlimited', n)
except OSError as e:
    print('limited', errno.errorcode[e.errno], n < 32)
\""
	expect_out "limited EAGAIN True"; pass ;;
fork_limit_rlimits)
	# RLIMIT_NPROC counts the uid's processes host-wide: a uid of its own for this case.
	OUT=$("$SANDBOX_RUN" --rlimits-only --pids 32 --work "$WORK" --uid 200177 --gid $GID_ -- "python3 -c \"
import os, time, errno
n = 0
try:
    for i in range(200):
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
    print('unlimited', n)
except OSError as e:
    print('limited', errno.errorcode[e.errno], n < 32)
\"" 2>&1)
	RC=$?
	expect_out "limited EAGAIN True"; pass "rlimits backend: RLIMIT_NPROC" ;;
fork_bomb)
	run --pids 64 --timeout 5 -- 'bomb() { bomb | bomb & }; bomb; sleep 30'
	[ "$RC" = 137 ] || fail "bomb sandbox did not end by the kill (rc $RC)"
	run -- "echo alive"
	expect_out alive; pass "host and the next sandbox unaffected" ;;
memory_bomb)
	run --mem 64M -- "python3 -c 'a = []
while True: a.append(bytearray(8 << 20))'"
	[ "$RC" = 137 ] || fail "memory bomb not killed by the limit (rc $RC): $OUT"
	run -- "echo alive"
	expect_out alive; pass "OOM kill confined to that sandbox" ;;
bomb_neighbour)
	# Another session runs alongside the bombs; it must see none of them and finish normally.
	mkdir -p "$T/area2" && chown root:$GID_ "$T/area2" && chmod 2770 "$T/area2"
	"$SANDBOX_RUN" --work "$T/area2" --uid 200124 --gid $GID_ --user bob -- \
		'for i in 1 2 3 4 5 6; do sleep 1; echo beat; done; ps -eo comm= | sort | tr "\n" " "' \
		>"$T/neighbour.out" 2>&1 &
	NB=$!
	run --mem 64M -- "python3 -c 'a = []
while True: a.append(bytearray(8 << 20))'"
	[ "$RC" = 137 ] || fail "memory bomb not killed (rc $RC)"
	run --pids 32 --timeout 3 -- 'bomb() { bomb | bomb & }; bomb; sleep 30'
	[ "$RC" = 137 ] || fail "fork bomb not ended (rc $RC)"
	wait $NB || fail "neighbour session failed: $(cat "$T/neighbour.out")"
	[ "$(grep -c beat "$T/neighbour.out")" = 6 ] || fail "neighbour lost beats: $(cat "$T/neighbour.out")"
	# ps runs alongside sort and tr, which may or may not have started yet.
	for w in $(tail -1 "$T/neighbour.out"); do
		case "$w" in ps|sh|sort|tr) ;; *) fail "neighbour saw: $(tail -1 "$T/neighbour.out")" ;; esac
	done
	pass "neighbour unaffected and sees only its own processes" ;;
memory_bomb_rlimits)
	run --rlimits-only --mem 256M -- "python3 -c 'a = []
while True: a.append(bytearray(8 << 20))' 2>&1 | tail -1"
	expect_out MemoryError; pass "rlimits backend: RLIMIT_AS" ;;
file_size)
	run --fsize 1M -- "(head -c 2M /dev/zero > big) 2>/dev/null; echo rc=\$?; stat -c %s big"
	expect_out "rc=153
1048576"; pass "SIGXFSZ at file_size_max" ;;
file_size_efbig)
	run --fsize 1M -- "python3 -c \"
import signal, errno
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
f = open('big', 'wb')
try:
    f.write(b'0' * (2 << 20)); f.flush(); print('wrote')
except OSError as e:
    print(errno.errorcode[e.errno])
\" 2>&1 | tail -1; stat -c %s big"
	expect_out "EFBIG
1048576"; pass ;;
cpu_time)
	run --cpu 1 -- 'while :; do :; done'
	[ "$RC" = $((128 + 24)) ] || fail "CPU limit did not stop the loop (rc $RC)"; pass "SIGXCPU" ;;
tmp_size)
	run --tmp 4M -- "head -c 8M /dev/zero > /tmp/f; stat -c %s /tmp/f"
	[ "$(echo "$OUT" | tail -1)" -le $((4 << 20)) ] || fail "$OUT"; pass ;;
# ---- real work (positive) ----
bash_works)
	run -- 'for i in 1 2 3; do echo -n $i; done; echo; echo $HOME $USER $LOGNAME $SHELL; pwd; umask'
	expect_out "123
/tmp alice alice /bin/bash
/work
0007"; pass ;;
python_csv)
	run -- "python3 -c \"
import csv
with open('/work/in.csv', 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['id', 'age']); [w.writerow([i, 20 + i]) for i in range(10)]
with open('/work/in.csv') as f:
    ages = [int(r['age']) for r in csv.DictReader(f)]
with open('/work/out.csv', 'w', newline='') as f:
    csv.writer(f).writerow(['mean', sum(ages) / len(ages)])
print(open('/work/out.csv').read().strip())
\""
	expect_out "mean,24.5"
	[ "$(stat -c '%u %g %a' "$WORK/out.csv")" = "$UID_ $GID_ 660" ] || fail "owner/mode of out.csv"
	pass ;;
python_multiprocessing)
	# Pool (fork + /dev/shm semaphores) and a manager (AF_UNIX) as analysis code uses them.
	run -- "python3 -c \"
import multiprocessing as mp
from multiprocessing.managers import SyncManager
with mp.Pool(4) as p:
    print(sum(p.map(abs, range(-100, 100))))
m = SyncManager(); m.start(); d = m.dict(); d['k'] = 1; print(dict(d)); m.shutdown()
\""
	expect_out "10000
{'k': 1}"; pass ;;
awk_sort)
	run -- "printf 'b,2\na,3\nc,1\n' > t.csv; sort -t, -k2n t.csv | awk -F, '{ s += \$2; printf \"%s\", \$1 } END { print \" \" s }'"
	expect_out "cba 6"; pass ;;
r_works)
	command -v R >/dev/null || { echo "SKIP: R not installed"; exit 77; }
	run -- "Rscript -e 'd <- data.frame(x = 1:4); write.csv(d, \"r.csv\"); cat(sum(read.csv(\"r.csv\")\$x), \"\n\")'"
	expect_out 10; pass ;;
exit_status)
	run -- "exit 42"
	[ "$RC" = 42 ] || fail "exit code $RC"
	run -- 'kill -TERM $$'
	[ "$RC" = 143 ] || fail "SIGTERM reported as $RC"
	run -- 'kill -KILL $$'
	[ "$RC" = 137 ] || fail "SIGKILL reported as $RC"
	pass "exit and signals reported" ;;
monitor_umask_077)
	# A daemon's umask is often 077; the sandbox's root must not inherit it.
	OUT=$(umask 077; "$SANDBOX_RUN" --work "$WORK" --uid $UID_ --gid $GID_ --user alice -- 'id -un; umask; ls /etc/ld.so.cache' 2>&1)
	expect_out "alice
0007
/etc/ld.so.cache"; pass ;;
monitor_sigpipe_ignored)
	# Dispositions the monitor ignores (libssh servers ignore SIGPIPE) are reset for the command.
	OUT=$(trap '' PIPE; "$SANDBOX_RUN" --work "$WORK" --uid $UID_ --gid $GID_ -- 'yes | head -1; echo "${PIPESTATUS:-}"; grep SigIgn /proc/self/status' 2>&1)
	expect_out "y

SigIgn:	0000000000000000"; pass ;;
stdin_relay)
	OUT=$(printf 'line1\nline2\n' | "$SANDBOX_RUN" --work "$WORK" --uid $UID_ --gid $GID_ -- "wc -l; echo err >&2" 2>/dev/null)
	expect_out 2; pass ;;
fds_closed)
	exec 7<"$STATE/wsgate.mdb"
	run -- "ls /proc/self/fd | tr '\n' ' '"
	exec 7<&-
	expect_out "0 1 2 3 "; pass "only stdio (and ls's own dir fd) open" ;;
pty_job_control)
	run_pty "sleep 100 &\n" "jobs\n" "fg\n" "\x03" "echo after=\$?\n" "tty; stat -c 'tty-owner=%u' \$(tty)\n" "exit\n"
	echo "$OUT" | grep -qx '/dev/console' || fail "tty(1) does not find the terminal: $OUT"
	echo "$OUT" | grep -qx "tty-owner=$UID_" || fail "terminal not owned by the account: $OUT"
	echo "$OUT" | grep -q 'Running.*sleep 100' || fail "no job listed: $OUT"
	echo "$OUT" | grep -q 'after=130' || fail "Ctrl-C did not stop the foreground job: $OUT"
	pass ;;
dotfiles_not_run)
	# A project member can write /work; a login shell of another member must not run it.
	for f in .profile .bash_profile .bash_login .bashrc; do
		printf 'touch /work/PLANTED%s\n' "$f" >"$WORK/$f"
	done
	run_pty "echo home=\$HOME\n" "exit\n"
	ls "$WORK"/PLANTED* >/dev/null 2>&1 && fail "a planted dotfile ran at login: $(ls "$WORK")"
	echo "$OUT" | grep -q 'home=/tmp' || fail "HOME is not the private /tmp: $OUT"
	# Control: the planted file does act when a shell is pointed at it.
	run -- 'HOME=/work bash -l -c true'
	ls "$WORK"/PLANTED* >/dev/null 2>&1 || fail "control: the planted login files never ran"
	pass ;;
airlock_binds)
	printf '#!/bin/sh\necho airlock-client "$@"\n' >"$T/airlock" && chmod 755 "$T/airlock"
	python3 -c "
import socket, os, sys
s = socket.socket(socket.AF_UNIX); s.bind('$T/airlock.sock'); os.chmod('$T/airlock.sock', 0o666)
s.listen(); open('$T/sockready', 'w').close()
c, _ = s.accept(); open('$T/got', 'wb').write(c.recv(100))
" &
	PIDS+=($!)
	for _ in $(seq 50); do [ -e "$T/sockready" ] && break; sleep 0.1; done
	run --airlock-sock "$T/airlock.sock" --airlock-bin "$T/airlock" -- "airlock status; echo \$AIRLOCK_SOCKET; python3 -c \"
import socket, os; s = socket.socket(socket.AF_UNIX); s.connect(os.environ['AIRLOCK_SOCKET']); s.send(b'hello')\"; (echo x > /run/wsgate/bin/airlock) 2>/dev/null || echo ro"
	sleep 0.3
	expect_out "airlock-client status
/run/wsgate/airlock.sock
ro"
	[ "$(cat "$T/got")" = hello ] || fail "socket not reached"
	pass ;;
# ---- hidden programs ([sandbox] hide) ----
hide_paths)
	[ -x /usr/bin/ssh ] && [ -x /usr/bin/scp ] || { echo "SKIP: openssh-client not installed"; exit 77; }
	CHECK='for p in /usr/bin/scp /bin/scp /usr/bin/ssh /bin/ssh /usr/lib/openssh/sftp-server /lib/openssh/sftp-server /usr/lib/sftp-server /usr/bin/sftp; do test -e $p && echo "present $p"; done; ls /usr/bin | grep -x -e ssh -e scp; ssh -V 2>/dev/null && echo ran-ssh; slogin -V 2>/dev/null && echo ran-slogin; /bin/scp 2>/dev/null; echo scp=$?; cat /etc/hostname'
	# Positive control: without the list every spelling is there and ssh runs.
	run -- "$CHECK"
	for p in /usr/bin/scp /bin/scp /usr/bin/ssh /bin/ssh; do
		echo "$OUT" | grep -qx "present $p" || fail "control: $p not visible without hide: $OUT"
	done
	echo "$OUT" | grep -qx ran-ssh || fail "control: ssh does not run without hide: $OUT"
	# The default list, ssh spelled through the merged-/usr link, and a path missing on the host.
	run --hide /usr/bin/scp --hide /usr/bin/sftp --hide /usr/lib/openssh --hide /usr/lib/sftp-server \
		--hide /usr/bin/rsync --hide /bin/ssh --hide /nonexistent/prog -- "$CHECK"
	[ "$RC" = 0 ] || fail "sandbox with hidden paths did not run (rc $RC)"
	expect_out "scp=127
wsgate"
	pass "hidden under every spelling, slogin dangles, the rest of /usr intact" ;;
hide_refused)
	# Only the read-only system views can hide an entry; anything else stops the start loudly.
	run --hide /etc/passwd -- "echo started"
	[ "$RC" = 255 ] && [ -z "$OUT" ] || fail "sandbox started with /etc/passwd hidden (rc $RC): $OUT"
	echo "$ERR" | grep -q "only entries under /usr" || fail "no reason given: $ERR"
	run --hide /usr/bin/scp -- "echo started"
	expect_out started; pass ;;
# ---- nothing of the monitor inside ----
fresh_init)
	# The harness plays the monitor: it holds an fd on the "database" and maps libseccomp.
	exec 7<"$STATE/wsgate.mdb"
	"$SANDBOX_RUN" --work "$WORK" --uid $UID_ --gid $GID_ -- 'sleep 30' >/dev/null 2>"$T/stderr" &
	SP=$!
	PIDS+=($SP)
	exec 7<&-
	INIT= CMD=
	for _ in $(seq 50); do
		INIT=$(pgrep -P $SP | head -1)
		[ -n "$INIT" ] && CMD=$(pgrep -P "$INIT" | head -1)
		[ -n "$CMD" ] && [ "$(cat /proc/$CMD/comm 2>/dev/null)" = sleep ] && break
		sleep 0.1
	done
	[ -n "$CMD" ] || fail "sandbox did not start: $(cat "$T/stderr")"
	# Positive control: the same checks do see the harness's libraries and fd.
	grep -q libseccomp /proc/$SP/maps || fail "control: harness does not map libseccomp"
	ls -l /proc/$SP/fd | grep -q wsgate.mdb || fail "control: harness holds no fd on wsgate.mdb"
	NS=$(readlink /proc/$INIT/ns/pid)
	N=0
	for d in /proc/[0-9]*; do
		[ "$(readlink $d/ns/pid 2>/dev/null)" = "$NS" ] || continue
		N=$((N + 1))
		BAD=$(grep -E 'libseccomp|liblmdb|libssh|libcrypto|libjansson|wsgate\.mdb|data\.mdb|sandbox-run' $d/maps)
		[ -z "$BAD" ] || fail "${d#/proc/} ($(cat $d/comm)) maps the monitor's files: $BAD"
		ls -l $d/fd | grep -qE 'wsgate\.mdb|socket:' && fail "${d#/proc/} holds a monitor fd: $(ls -l $d/fd)"
	done
	[ "$N" -ge 2 ] || fail "found $N processes in the sandbox"
	[ "$(cat /proc/$INIT/comm)" = wsgate-init ] || fail "pid 1 is $(cat /proc/$INIT/comm)"
	# pid 1 maps its own small program and nothing else from a file.
	FILES=$(awk 'NF >= 6 && $6 ~ /^\// { print $6 }' /proc/$INIT/maps | sort -u)
	case "$FILES" in */wsgate-init) ;; *) fail "pid 1 maps: $FILES" ;; esac
	FDS=$(ls /proc/$INIT/fd | sort -n | tr '\n' ' ')
	[ "$FDS" = "0 1 2 3 5 " ] || fail "pid 1 fds: $FDS"
	grep -qE '^NoNewPrivs:\s+1' /proc/$INIT/status && grep -qE '^Seccomp:\s+2' /proc/$INIT/status &&
		grep -qE "^Uid:\s+$UID_\s" /proc/$INIT/status || fail "pid 1 not dropped: $(cat /proc/$INIT/status)"
	pass "$N processes; pid 1 maps only wsgate-init, fds 0-3 and 5 (the exit pipe)" ;;
*) echo "unknown case $CASE"; exit 2 ;;
esac
