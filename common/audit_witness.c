/*
 * Syslog and the witness file (audit.h, docs/audit.md "Witness"). A record is told to them only
 * after its transaction committed: LMDB has fsynced it by then, so the witness never names a
 * record the log could lose in a crash, and `audit verify --witness` never cries wolf.
 *
 * The witness gets one write(2) per committed transaction on an O_APPEND descriptor, so lines of
 * concurrent processes (monitors, wsgatectl) never interleave; they may come out of order by a
 * few records, which the reader sorts. Policy: fdatasync at most once a second while records
 * come, and at close. A crash of a process loses nothing (the bytes are in the page cache); a
 * power cut loses at most the last second of witness lines, which only weakens the check for
 * those records.
 */
#include "common/audit_witness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/why.h"

#define WITNESS_LINE_MAX 96 /* "SEQ" (<= 20) " " 64 hex "\n" */

struct pending {
	MDB_txn *txn;
	uint64_t seq;
	uint8_t mac[AUDIT_MAC_LEN];
};

/* One store per process (audit_attach). */
static struct {
	struct store *st;
	int fd; /* the witness, or -1 */
	time_t synced;
	struct pending *p;
	size_t n, cap;
} sink = {NULL, -1, 0, NULL, 0, 0};

static void
hex(const uint8_t *mac, char *out)
{
	for (size_t i = 0; i < AUDIT_MAC_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

int
audit_witness_note(struct store *st, MDB_txn *txn, uint64_t seq, const uint8_t *mac)
{
	if (sink.st != st)
		return 0;
	if (sink.n == sink.cap) {
		size_t cap = sink.cap ? sink.cap * 2 : 8;
		struct pending *p = realloc(sink.p, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		sink.p = p;
		sink.cap = cap;
	}
	sink.p[sink.n].txn = txn;
	sink.p[sink.n].seq = seq;
	memcpy(sink.p[sink.n].mac, mac, AUDIT_MAC_LEN);
	sink.n++;
	return 0;
}

static void
witness_sync(int force)
{
	time_t now = time(NULL);

	if (sink.fd < 0 || (!force && now == sink.synced))
		return;
	if (fdatasync(sink.fd) < 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "audit witness: fdatasync: %m");
	sink.synced = now;
}

/* Tells syslog and the witness about txn's records, all witness lines in one write. */
static void
publish(MDB_txn *txn)
{
	char buf[64 * WITNESS_LINE_MAX], mac[2 * AUDIT_MAC_LEN + 1];
	size_t len = 0;

	for (size_t i = 0; i < sink.n; i++) {
		struct pending *e = &sink.p[i];

		if (e->txn != txn)
			continue;
		hex(e->mac, mac);
		syslog(LOG_AUTHPRIV | LOG_INFO, "audit seq=%llu mac=%s", (unsigned long long)e->seq,
		       mac);
		if (sink.fd < 0)
			continue;
		if (len + WITNESS_LINE_MAX > sizeof(buf)) {
			if (write(sink.fd, buf, len) != (ssize_t)len)
				syslog(LOG_AUTHPRIV | LOG_ERR, "audit witness: write: %m");
			len = 0;
		}
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%llu %s\n",
					(unsigned long long)e->seq, mac);
	}
	if (len && write(sink.fd, buf, len) != (ssize_t)len)
		syslog(LOG_AUTHPRIV | LOG_ERR, "audit witness: write: %m");
	witness_sync(0);
}

/* Forgets txn's notes (published or aborted). */
static void
forget(MDB_txn *txn)
{
	size_t o = 0;

	for (size_t i = 0; i < sink.n; i++)
		if (sink.p[i].txn != txn)
			sink.p[o++] = sink.p[i];
	sink.n = o;
}

static void
on_commit(void *arg, MDB_txn *txn, int what)
{
	(void)arg;
	if (what == STORE_HOOK_CLOSE) {
		witness_sync(1);
		if (sink.fd >= 0 && close(sink.fd) < 0)
			syslog(LOG_AUTHPRIV | LOG_ERR, "audit witness: close: %m");
		free(sink.p);
		sink.st = NULL;
		sink.fd = -1;
		sink.p = NULL;
		sink.n = sink.cap = 0;
		return;
	}
	if (what == STORE_HOOK_COMMITTED)
		publish(txn);
	forget(txn);
}

int
audit_attach(struct store *st, const char *witness, char *why, size_t whylen)
{
	int fd = -1;

	if (sink.st)
		return why_set(why, whylen, "audit: already attached to a store");
	/* O_NOFOLLOW: the witness is root's; a symlink planted there is refused, not followed. */
	if (witness && *witness &&
	    (fd = open(witness, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
		       0600)) < 0)
		return why_set(why, whylen, "audit witness %s: %s", witness, strerror(errno));
	/* The witness is evidence only if nobody else could have written it: a regular file of
	 * ours that no group or other may write (as config files and secrets.key are checked). */
	if (fd >= 0) {
		struct stat sb;

		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
		    (sb.st_mode & 022)) {
			close(fd);
			return why_set(why, whylen,
				       "audit witness %s: not a regular file of ours that only we "
				       "may write",
				       witness);
		}
	}
	sink.st = st;
	sink.fd = fd;
	sink.synced = time(NULL);
	store_set_commit_hook(st, on_commit, NULL);
	return 0;
}

static int
unhex(const char *s, uint8_t *out)
{
	for (size_t i = 0; i < AUDIT_MAC_LEN; i++) {
		int hi, lo;

		hi = s[2 * i] >= 'a' ? s[2 * i] - 'a' + 10 : s[2 * i] - '0';
		lo = s[2 * i + 1] >= 'a' ? s[2 * i + 1] - 'a' + 10 : s[2 * i + 1] - '0';
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* One line "SEQ MAC-HEX\n": digits, one space, 64 lowercase hex digits. */
static int
parse_line(const char *line, struct witness_entry *e)
{
	const char *sp = strchr(line, ' ');
	char *end;

	if (!sp || sp == line || sp - line > 20 ||
	    strspn(line, "0123456789") != (size_t)(sp - line))
		return -1;
	errno = 0;
	e->seq = strtoull(line, &end, 10);
	if (errno || end != sp || e->seq == 0)
		return -1;
	if (strspn(sp + 1, "0123456789abcdef") != 2 * AUDIT_MAC_LEN ||
	    strcmp(sp + 1 + 2 * AUDIT_MAC_LEN, "\n") != 0)
		return -1;
	return unhex(sp + 1, e->mac);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct witness_entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
audit_witness_read(const char *path, struct witness_entry **out, size_t *n, char *why,
		   size_t whylen)
{
	struct witness_entry *v = NULL;
	size_t cap = 0, len = 0;
	char line[WITNESS_LINE_MAX + 2];
	unsigned lineno = 0;
	FILE *f;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

	if (fd < 0 || (f = fdopen(fd, "r")) == NULL) {
		why_set(why, whylen, "witness %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (len == cap) {
			struct witness_entry *p;

			cap = cap ? cap * 2 : 1024;
			if ((p = realloc(v, cap * sizeof(*v))) == NULL) {
				why_set(why, whylen, "witness %s: out of memory", path);
				goto fail;
			}
			v = p;
		}
		if (parse_line(line, &v[len]) < 0) {
			why_set(why, whylen, "witness %s:%u: not a \"SEQ MAC\" line", path, lineno);
			goto fail;
		}
		v[len++].line = lineno;
	}
	if (ferror(f)) {
		why_set(why, whylen, "witness %s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	if (len)
		qsort(v, len, sizeof(*v), entry_cmp);
	*out = v;
	*n = len;
	return 0;
fail:
	fclose(f);
	free(v);
	return -1;
}
