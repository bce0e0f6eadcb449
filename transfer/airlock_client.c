/*
 * airlock -- the analyst's end of the airlock, run inside a sandboxed session:
 *   airlock export PATH [--reason TEXT] [--replaces ID]
 *   airlock status [ID]
 *   airlock withdraw ID
 *   airlock inbox
 *   airlock submit NAME [--reason TEXT]
 * It speaks airlock_proto.h to the socket the gateway bound into this session
 * ($AIRLOCK_SOCKET, default /run/wsgate/airlock.sock) and prints the reply. It claims no
 * identity: the gateway knows who it serves from the socket. Exit 0 done, 1 refused, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/fsutil.h"
#include "transfer/airlock_proto.h"

static void __attribute__((noreturn)) die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("airlock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn)) usage(void)
{
	/* One line, like every other message of ours (SPEC "Exit codes"). */
	fprintf(
	    stderr,
	    "airlock: usage: airlock export PATH [--reason TEXT] [--replaces ID] | status [ID] | "
	    "withdraw ID | inbox | submit NAME [--reason TEXT]\n");
	exit(2);
}

static uint64_t
parse_id(const char *s)
{
	char *end;
	uint64_t v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
		usage();
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0)
		usage();
	return v;
}

static int
connect_gateway(void)
{
	const char *path = getenv("AIRLOCK_SOCKET");
	struct sockaddr_un sa;
	struct timeval tv = {AIRLOCK_IO_TIMEOUT_MS / 1000 * 60, 0};
	int fd;

	if (!path || !*path)
		path = AIRLOCK_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long: %s", path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot reach the gateway at %s: %s", path, strerror(errno));
	/* An export of a large file is copied and hashed before the reply: wait minutes. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
transact(struct wbuf *req)
{
	uint8_t hdr[4], *body;
	char *text;
	uint32_t len, status;
	struct rbuf rd;
	int fd;

	if (req->err)
		die("out of memory");
	if (req->len > AIRLOCK_MAX_FRAME)
		die("request too large");
	fd = connect_gateway();
	codec_be32_put(hdr, (uint32_t)req->len);
	/* A server that refuses us closes at once: that is "no reply", not a SIGPIPE death. */
	if (write_all(fd, hdr, 4) < 0 || write_all(fd, req->data, req->len) < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			die("no reply from the gateway (connection closed)");
		die("sending the request: %s", strerror(errno));
	}
	if (read_all(fd, hdr, 4) != 4)
		die("no reply from the gateway");
	len = codec_be32_get(hdr);
	if (len > AIRLOCK_MAX_FRAME || !(body = malloc(len)) || !(text = malloc(len + 1)))
		die("bad reply from the gateway");
	if (read_all(fd, body, len) != (ssize_t)len)
		die("short reply from the gateway");
	close(fd);
	rbuf_init(&rd, body, len);
	if (rbuf_u8(&rd) != AIRLOCK_PROTO_VERSION)
		die("gateway speaks another protocol version");
	status = rbuf_u32(&rd);
	rbuf_str(&rd, text, len + 1);
	if (!rbuf_done(&rd))
		die("malformed reply from the gateway");
	if (status != AIRLOCK_ST_OK) {
		/* A refusal is one line, or one line and the check report's findings after it. */
		while (*text && text[strlen(text) - 1] == '\n')
			text[strlen(text) - 1] = '\0';
		die("%s", text);
	}
	fputs(text, stdout);
	if (*text && text[strlen(text) - 1] != '\n')
		putchar('\n');
	free(body);
	free(text);
	return 0;
}

static int
cmd_export(int argc, char **argv)
{
	const char *path = NULL, *reason = "";
	uint64_t replaces = 0;
	char abs[AIRLOCK_MAX_PATH + 1], cwd[PATH_MAX];
	struct wbuf b;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			reason = argv[++i];
		else if (strncmp(argv[i], "--reason=", 9) == 0)
			reason = argv[i] + 9;
		else if (strcmp(argv[i], "--replaces") == 0 && i + 1 < argc)
			replaces = parse_id(argv[++i]);
		else if (strncmp(argv[i], "--replaces=", 11) == 0)
			replaces = parse_id(argv[i] + 11);
		else if (argv[i][0] == '-' && argv[i][1])
			usage();
		else if (!path)
			path = argv[i];
		else
			usage();
	}
	if (!path)
		usage();
	if (strlen(reason) >= AIRLOCK_MAX_REASON)
		die("reason is longer than %d bytes", AIRLOCK_MAX_REASON - 1);
	if (path[0] == '/') {
		if (snprintf(abs, sizeof(abs), "%s", path) >= (int)sizeof(abs))
			die("path too long");
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			die("getcwd: %s", strerror(errno));
		if (snprintf(abs, sizeof(abs), "%s/%s", strcmp(cwd, "/") ? cwd : "", path) >=
		    (int)sizeof(abs))
			die("path too long");
	}
	wbuf_init(&b);
	wbuf_put_u8(&b, AIRLOCK_PROTO_VERSION);
	wbuf_put_u8(&b, AIRLOCK_OP_EXPORT);
	wbuf_put_str(&b, abs);
	wbuf_put_str(&b, reason);
	wbuf_put_u64(&b, replaces);
	transact(&b);
	wbuf_free(&b);
	return 0;
}

/* airlock inbox: the drafts of this account; airlock submit NAME: queue one. */
static int
cmd_inbox(int argc)
{
	struct wbuf b;

	if (argc != 1)
		usage();
	wbuf_init(&b);
	wbuf_put_u8(&b, AIRLOCK_PROTO_VERSION);
	wbuf_put_u8(&b, AIRLOCK_OP_INBOX);
	transact(&b);
	wbuf_free(&b);
	return 0;
}

static int
cmd_submit(int argc, char **argv)
{
	const char *name = NULL, *reason = "";
	struct wbuf b;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			reason = argv[++i];
		else if (strncmp(argv[i], "--reason=", 9) == 0)
			reason = argv[i] + 9;
		else if (argv[i][0] == '-' || name)
			usage();
		else
			name = argv[i];
	}
	if (!name || strlen(name) > 255)
		usage();
	if (strlen(reason) >= AIRLOCK_MAX_REASON)
		die("reason is longer than %d bytes", AIRLOCK_MAX_REASON - 1);
	wbuf_init(&b);
	wbuf_put_u8(&b, AIRLOCK_PROTO_VERSION);
	wbuf_put_u8(&b, AIRLOCK_OP_SUBMIT);
	wbuf_put_str(&b, name);
	wbuf_put_str(&b, reason);
	transact(&b);
	wbuf_free(&b);
	return 0;
}

static int
cmd_id(int op, int argc, char **argv, int optional)
{
	struct wbuf b;
	uint64_t id = 0;

	if (argc > 2 || (argc < 2 && !optional))
		usage();
	if (argc == 2)
		id = parse_id(argv[1]);
	wbuf_init(&b);
	wbuf_put_u8(&b, AIRLOCK_PROTO_VERSION);
	wbuf_put_u8(&b, (uint8_t)op);
	wbuf_put_u64(&b, id);
	transact(&b);
	wbuf_free(&b);
	return 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_id(AIRLOCK_OP_STATUS, argc - 1, argv + 1, 1);
	if (strcmp(argv[1], "withdraw") == 0)
		return cmd_id(AIRLOCK_OP_WITHDRAW, argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "inbox") == 0)
		return cmd_inbox(argc - 1);
	if (strcmp(argv[1], "submit") == 0)
		return cmd_submit(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fprintf(
		    stdout,
		    "usage: airlock export PATH [--reason TEXT] [--replaces ID] | status [ID] | "
		    "withdraw ID | inbox | submit NAME [--reason TEXT]\n");
		return 0;
	}
	usage();
}
