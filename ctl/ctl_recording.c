/*
 * wsgatectl audit recordings | replay (SPEC "Programs"; docs/audit.md "Recordings"). The list
 * comes from the audit log, not from the directory: session.start names each recording and
 * session.end holds its SHA-256, so a file nobody recorded is never listed and a file that was
 * changed is refused at replay.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/asciicast.h"
#include "common/audit.h"
#include "common/recording.h"
#include "ctl/ctl.h"

struct rec_entry {
	uint64_t id;
	uint64_t start;
	char user[64], project[64], area[64], kind[16], addr[64];
	int ended;
	uint64_t bytes;
	char sha256[65];
};

struct rec_list {
	struct rec_entry *v;
	size_t n, cap;
	uint64_t only; /* replay: just this id */
};

/* The value of key=... in an audit detail (our own unquoted tokens), or NULL. */
static const char *
detail_value(const char *detail, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key), n;
	const char *p = detail;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == detail || p[-1] == ' ') && p[klen] == '=') {
			p += klen + 1;
			n = strcspn(p, " ");
			if (n >= outlen)
				return NULL;
			memcpy(out, p, n);
			out[n] = '\0';
			return out;
		}
		p += klen;
	}
	return NULL;
}

static uint64_t
detail_u64(const char *detail, const char *key)
{
	char buf[24], *end;
	unsigned long long v;

	if (!detail_value(detail, key, buf, sizeof(buf)) || buf[0] < '0' || buf[0] > '9')
		return 0;
	errno = 0;
	v = strtoull(buf, &end, 10);
	return errno || *end ? 0 : (uint64_t)v;
}

static struct rec_entry *
find(struct rec_list *l, uint64_t id)
{
	for (size_t i = l->n; i-- > 0;)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

static int
collect(const struct audit_record *r, void *arg)
{
	struct rec_list *l = arg;
	uint64_t id = detail_u64(r->detail, "recording");
	struct rec_entry *e;

	if (id == 0 || (l->only && id != l->only))
		return 0;
	if (strcmp(r->event, "session.start") == 0) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 64;
			void *p = realloc(l->v, cap * sizeof(*l->v));

			if (!p)
				return -ENOMEM;
			l->v = p;
			l->cap = cap;
		}
		e = &l->v[l->n++];
		memset(e, 0, sizeof(*e));
		e->id = id;
		e->start = r->time;
		snprintf(e->user, sizeof(e->user), "%s", r->actor);
		snprintf(e->project, sizeof(e->project), "%s", r->project);
		snprintf(e->area, sizeof(e->area), "%s", r->area);
		snprintf(e->addr, sizeof(e->addr), "%s", r->addr);
		if (!detail_value(r->detail, "kind", e->kind, sizeof(e->kind)))
			snprintf(e->kind, sizeof(e->kind), "-");
	} else if (strcmp(r->event, "session.end") == 0 && (e = find(l, id)) != NULL) {
		e->ended = 1;
		e->bytes = detail_u64(r->detail, "bytes");
		if (!detail_value(r->detail, "sha256", e->sha256, sizeof(e->sha256)))
			e->sha256[0] = '\0';
	}
	return 0;
}

static int
load(struct ctl *c, struct rec_list *l)
{
	int rc = audit_foreach(c->st, 0, collect, l);

	if (rc != 0)
		return ctl_fail("audit: a record cannot be read (%s; run audit verify)",
				store_strerror(rc));
	return 0;
}

static json_t *
entry_json(const struct rec_entry *e)
{
	char t[32];

	ctl_format_time(e->start, t, sizeof(t));
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:s}", "id",
			 (json_int_t)e->id, "start", t, "user", e->user, "project", e->project,
			 "area", e->area, "kind", e->kind, "addr", e->addr, "ended", e->ended,
			 "bytes", (json_int_t)e->bytes, "sha256", e->sha256);
}

int
ctl_recordings(struct ctl *c, const char *user, uint64_t since)
{
	struct rec_list l = {0};
	json_t *arr = NULL;
	char t[32];
	int rc;

	if ((rc = load(c, &l)) != 0)
		return rc;
	if (c->json && (arr = json_array()) == NULL) {
		free(l.v);
		return ctl_fail("out of memory");
	}
	if (!c->json)
		printf("%-8s %-20s %-16s %-12s %-8s %-6s %10s %s\n", "ID", "START", "USER",
		       "PROJECT", "AREA", "KIND", "BYTES", "SHA256");
	for (size_t i = 0; i < l.n; i++) {
		const struct rec_entry *e = &l.v[i];

		if ((user && strcmp(user, e->user) != 0) || e->start < since)
			continue;
		if (c->json) {
			json_array_append_new(arr, entry_json(e));
			continue;
		}
		ctl_format_time(e->start, t, sizeof(t));
		printf("%-8" PRIu64 " %-20s %-16s %-12s %-8s %-6s %10" PRIu64 " %s\n", e->id, t,
		       e->user, e->project, e->area, e->kind, e->bytes,
		       e->ended ? e->sha256 : "(open or cut short)");
	}
	free(l.v);
	return c->json ? ctl_print_json(arr) : 0;
}

/* SHA-256 of the whole file, as hex. */
static int
file_sha256(int fd, char hex[65])
{
	static uint8_t buf[1 << 16];
	uint8_t md[32];
	unsigned int len = 32;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t n;
	int rc = -1;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
	if (n < 0 || EVP_DigestFinal_ex(ctx, md, &len) != 1)
		goto out;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = lseek(fd, 0, SEEK_SET) == 0 ? 0 : -1;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void
pause_for(double seconds)
{
	struct timespec ts;

	if (!(seconds > 0))
		return;
	if (seconds > 3600)
		seconds = 3600;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Plays the 'o' events of f to stdout with their timing divided by speed. Line by line, each
 * bounded: the file's lines came from the worker, so they are parsed as hostile input. */
static int
play(FILE *f, uint64_t id, double speed)
{
	static char line[ASCIICAST_LINE_MAX + 2];
	static uint8_t data[ASCIICAST_DATA_MAX * 4];
	double t, prev = 0;
	size_t len, n;
	json_t *hdr;
	unsigned lineno = 1;
	char code;

	if (!fgets(line, sizeof(line), f) ||
	    (hdr = json_loads(line, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return ctl_fail("recording %" PRIu64 ": no asciicast header", id);
	if (json_integer_value(json_object_get(hdr, "version")) != 2) {
		json_decref(hdr);
		return ctl_fail("recording %" PRIu64 ": not asciicast v2", id);
	}
	json_decref(hdr);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		len = strlen(line);
		if (len == 0 || (line[len - 1] != '\n' && !feof(f)))
			return ctl_fail("recording %" PRIu64 ": line %u too long", id, lineno);
		if (asciicast_parse_event(line, len, &t, &code, data, sizeof(data), &n) < 0)
			return ctl_fail("recording %" PRIu64 ": line %u is not an event", id,
					lineno);
		if (code != 'o')
			continue;
		if (t > prev)
			pause_for((t - prev) / speed);
		prev = t > prev ? t : prev;
		if (fwrite(data, 1, n, stdout) != n || fflush(stdout) != 0)
			return ctl_fail("stdout: %s", strerror(errno));
	}
	return ferror(f) ? ctl_fail("recording %" PRIu64 ": %s", id, strerror(errno)) : 0;
}

int
ctl_replay(struct ctl *c, const char *idarg, const char *speedarg)
{
	struct rec_list l = {0};
	struct rec_entry *e;
	char nb[CTL_NAMEBUF], why[512], hex[65], *end;
	double speed = 1;
	uint64_t id;
	FILE *f;
	int fd, rc;

	errno = 0;
	id = strtoull(idarg, &end, 10);
	if (errno || *end || id == 0 || idarg[0] < '0' || idarg[0] > '9')
		return ctl_usage("audit replay: %s is not a recording id",
				 ctl_name(idarg, nb, sizeof(nb)));
	if (speedarg) {
		speed = strtod(speedarg, &end);
		if (*end || !(speed > 0) || speed > 1e6)
			return ctl_usage("audit replay: --speed wants a number above 0");
	}
	l.only = id;
	if ((rc = load(c, &l)) != 0)
		return rc;
	e = find(&l, id);
	if (!e) {
		free(l.v);
		return ctl_fail("audit replay: no recording %" PRIu64 " in the audit log", id);
	}
	if ((fd = recording_open(c->cfg->state_dir, id, why, sizeof(why))) < 0) {
		free(l.v);
		return ctl_fail("audit replay: %s", why);
	}
	if (file_sha256(fd, hex) < 0) {
		close(fd);
		free(l.v);
		return ctl_fail("audit replay: recording %" PRIu64 ": %s", id, strerror(errno));
	}
	/* Only what the monitor hashed at the session's end is played back as that session. */
	if (e->ended && CRYPTO_memcmp(hex, e->sha256, 64) != 0) {
		close(fd);
		free(l.v);
		return ctl_fail("audit replay: recording %" PRIu64 " does not match the SHA-256 in "
				"its session.end record (changed after the session)",
				id);
	}
	if (!e->ended)
		fprintf(stderr,
			"wsgatectl: recording %" PRIu64 " has no session.end record (still "
			"running, or cut short): played unverified\n",
			id);
	free(l.v);
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return ctl_fail("audit replay: %s", strerror(errno));
	}
	rc = play(f, id, speed);
	fclose(f);
	return rc;
}
