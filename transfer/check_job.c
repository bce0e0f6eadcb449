/*
 * The publication checker as a confined job (transfer/confined.h): the parent sends the few
 * settings the rules use and the file's name, the child (wsgate-confined) runs check_fd on fd 0
 * and writes the report and the ledger's cells to fd 1; the parent decodes that answer as
 * hostile input. Anything it does not accept in full, like a crash or a timeout, becomes the one
 * finding `fail: checker crashed or timed out`.
 *
 * Wire format (common/codec.h, big-endian, every string length-prefixed and bounded):
 *   params: u8 version, u32 min_cell_count, u32 max_rows, u64 export_max_size,
 *           u32 ntypes, str..., u32 nfacilities, str..., str name
 *   answer: u8 version, u8 result, u32 nfindings, u32 nlisted,
 *           nlisted x {u8 severity, str rule, u32 row, u32 column, str header, str value,
 *                      str message},
 *           u8 cells_complete, u32 ncells,
 *           ncells x {str row, str col, u64 value, u32 row number, u32 column number}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/log.h"
#include "common/nitems.h"
#include "transfer/check_int.h"
#include "transfer/confined.h"

#define WIRE_VERSION 1
#define CHECK_WALL_SECONDS 120
#define CHECK_OUT_MAX (4u << 20) /* 100 findings and 10000 cells fit with room to spare */

/* The rule ids a finding may carry: anything else from the child is garbage. */
static const char *const rule_ids[] = {
    "type",
    "size",
    "small_count",
    "age_band",
    "age_85",
    "facility",
    "individual",
    "differencing_total",
    "differencing_release",
    "checker",
};

static void
params_encode(struct wbuf *b, const struct config *cfg, const char *name)
{
	size_t i;

	wbuf_put_u8(b, WIRE_VERSION);
	wbuf_put_u32(b, cfg->min_cell_count);
	wbuf_put_u32(b, cfg->max_rows);
	wbuf_put_u64(b, cfg->export_max_size);
	wbuf_put_u32(b, (uint32_t)cfg->nexport_types);
	for (i = 0; i < cfg->nexport_types; i++)
		wbuf_put_str(b, cfg->export_types[i]);
	wbuf_put_u32(b, (uint32_t)cfg->nfacilities);
	for (i = 0; i < cfg->nfacilities; i++)
		wbuf_put_str(b, cfg->facilities[i]);
	wbuf_put_str(b, name);
}

static int
params_decode(const uint8_t *p, size_t n, struct config *cfg, char *name, size_t namelen)
{
	struct rbuf r;
	uint32_t k, i;

	rbuf_init(&r, p, n);
	if (rbuf_u8(&r) != WIRE_VERSION)
		return -1;
	cfg->min_cell_count = rbuf_u32(&r);
	cfg->max_rows = rbuf_u32(&r);
	cfg->export_max_size = rbuf_u64(&r);
	if ((k = rbuf_u32(&r)) > CONFIG_MAX_TYPES)
		return -1;
	for (i = 0; i < k; i++)
		rbuf_str(&r, cfg->export_types[i], sizeof(cfg->export_types[i]));
	cfg->nexport_types = k;
	if ((k = rbuf_u32(&r)) > CONFIG_MAX_FACILITIES)
		return -1;
	for (i = 0; i < k; i++)
		rbuf_str(&r, cfg->facilities[i], sizeof(cfg->facilities[i]));
	cfg->nfacilities = k;
	rbuf_str(&r, name, namelen);
	return rbuf_done(&r) && cfg->min_cell_count >= 1 ? 0 : -1;
}

/* ---- the child (wsgate-confined) ---- */

int check_job_prepare(const uint8_t *arg, size_t arglen);
int check_job_run(int in_fd, int out_fd, const uint8_t *arg, size_t arglen);

int
check_job_prepare(const uint8_t *arg, size_t arglen)
{
	(void)arg, (void)arglen;
	return check_prepare(NULL, 0);
}

static void
answer_encode(struct wbuf *b, const struct check_report *rep, const struct check_cells *cells)
{
	unsigned i;

	wbuf_put_u8(b, WIRE_VERSION);
	wbuf_put_u8(b, (uint8_t)rep->result);
	wbuf_put_u32(b, rep->nfindings);
	wbuf_put_u32(b, rep->nlisted);
	for (i = 0; i < rep->nlisted; i++) {
		const struct check_finding *f = &rep->findings[i];

		wbuf_put_u8(b, (uint8_t)f->severity);
		wbuf_put_str(b, f->rule);
		wbuf_put_u32(b, f->row);
		wbuf_put_u32(b, f->column);
		wbuf_put_str(b, f->header);
		wbuf_put_str(b, f->value);
		wbuf_put_str(b, f->message);
	}
	wbuf_put_u8(b, (uint8_t)cells->complete);
	wbuf_put_u32(b, cells->n);
	for (i = 0; i < cells->n; i++) {
		wbuf_put_str(b, cells->v[i].row);
		wbuf_put_str(b, cells->v[i].col);
		wbuf_put_u64(b, cells->v[i].value);
		wbuf_put_u32(b, cells->v[i].rown);
		wbuf_put_u32(b, cells->v[i].coln);
	}
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w, n -= (size_t)w;
	}
	return 0;
}

int
check_job_run(int in_fd, int out_fd, const uint8_t *arg, size_t arglen)
{
	static struct check_report rep;
	struct check_cells cells;
	struct config *cfg = calloc(1, sizeof(*cfg));
	char name[256], why[256];
	struct wbuf b;
	int ret = -1;

	wbuf_init(&b);
	if (!cfg || params_decode(arg, arglen, cfg, name, sizeof(name)) < 0)
		goto out;
	if (check_fd(cfg, in_fd, name, &rep, &cells, why, sizeof(why)) < 0)
		goto out;
#ifdef WSGATE_TEST_HOOKS
	/* a checker gone wrong, for tests/transfer/test_check.c */
	if (strcmp(name, "crash-hook.csv") == 0)
		abort();
	if (strcmp(name, "garbage-hook.csv") == 0) {
		ret = write_all(out_fd, (const uint8_t *)"\x01\x03junk", 6);
		goto out;
	}
	if (strcmp(name, "lie-hook.csv") == 0)
		rep.result = CHECK_PASS;
#endif
	answer_encode(&b, &rep, &cells);
	check_cells_free(&cells);
	if (b.err || write_all(out_fd, b.data, b.len) < 0)
		goto out;
	ret = 0;
out:
	wbuf_free(&b);
	free(cfg);
	return ret;
}

/* ---- the parent ---- */

static int
known_rule(const char *r)
{
	size_t i;

	for (i = 0; i < nitems(rule_ids); i++)
		if (strcmp(r, rule_ids[i]) == 0)
			return 1;
	return 0;
}

/* Re-made printable in the parent: the child's own sanitising is not trusted. */
static void
field(struct rbuf *r, char *out, size_t cap)
{
	char tmp[256];

	rbuf_str(r, tmp, cap < sizeof(tmp) ? cap : sizeof(tmp));
	if (!rbuf_ok(r)) {
		out[0] = '\0';
		return;
	}
	check_printable(tmp, strlen(tmp), out, cap);
}

int
check_answer_decode(const uint8_t *p, size_t n, struct check_report *rep, struct check_cells *cells)
{
	struct rbuf r;
	uint32_t i, ncells;
	int worst = CHECK_PASS;

	memset(rep, 0, sizeof(*rep));
	rbuf_init(&r, p, n);
	if (rbuf_u8(&r) != WIRE_VERSION)
		return -1;
	rep->result = rbuf_u8(&r);
	rep->nfindings = rbuf_u32(&r);
	rep->nlisted = rbuf_u32(&r);
	if (!rbuf_ok(&r) || rep->result < CHECK_PASS || rep->result > CHECK_FAIL ||
	    rep->nlisted > CHECK_MAX_FINDINGS || rep->nlisted > rep->nfindings)
		return -1;
	for (i = 0; i < rep->nlisted; i++) {
		struct check_finding *f = &rep->findings[i];

		f->severity = rbuf_u8(&r);
		rbuf_str(&r, f->rule, sizeof(f->rule));
		f->row = rbuf_u32(&r);
		f->column = rbuf_u32(&r);
		field(&r, f->header, sizeof(f->header));
		field(&r, f->value, sizeof(f->value));
		field(&r, f->message, sizeof(f->message));
		if (!rbuf_ok(&r) || (f->severity != CHECK_WARN && f->severity != CHECK_FAIL) ||
		    !known_rule(f->rule) || f->column > CHECK_MAX_COLUMNS ||
		    f->row > CHECK_MAX_ROWS)
			return -1;
		if (f->severity > worst)
			worst = f->severity;
	}
	/* the verdict is the worst finding; a listed finding worse than the verdict is a lie */
	if (worst > rep->result || (rep->nfindings == 0 && rep->result != CHECK_PASS) ||
	    (rep->nfindings > 0 && rep->result == CHECK_PASS))
		return -1;
	cells->complete = rbuf_u8(&r) == 1;
	ncells = rbuf_u32(&r);
	if (!rbuf_ok(&r) || ncells > CHECK_MAX_CELLS)
		return -1;
	if (ncells && !(cells->v = calloc(ncells, sizeof(*cells->v))))
		return -1;
	for (i = 0; i < ncells; i++) {
		field(&r, cells->v[i].row, sizeof(cells->v[i].row));
		field(&r, cells->v[i].col, sizeof(cells->v[i].col));
		cells->v[i].value = rbuf_u64(&r);
		cells->v[i].rown = rbuf_u32(&r);
		cells->v[i].coln = rbuf_u32(&r);
		if (cells->v[i].rown > CHECK_MAX_ROWS || cells->v[i].coln > CHECK_MAX_COLUMNS)
			return -1;
	}
	cells->n = ncells;
	return rbuf_done(&r) ? 0 : -1;
}

static void
crashed(struct check_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->result = CHECK_PASS;
	check_report_add(rep, CHECK_FAIL, "checker", 0, 0, NULL, NULL,
			 "checker crashed or timed out");
}

int
check_confined(const struct config *cfg, int fd, const char *name, struct check_report *rep,
	       struct check_cells *cells, char *why, size_t whylen)
{
	static const struct confined_limits lim = {CHECK_WALL_SECONDS, 0, 0, CHECK_OUT_MAX};
	struct check_cells tmp = {0, 0, NULL};
	struct wbuf b;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int rc;

	if (cells)
		memset(cells, 0, sizeof(*cells));
	wbuf_init(&b);
	params_encode(&b, cfg, name);
	if (b.err) {
		wbuf_free(&b);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	rc = confined_run("check", fd, b.data, b.len, &lim, &out, &outlen, why, whylen);
	wbuf_free(&b);
	if (rc < 0)
		return -1;
	if (rc == CONFINED_FAILED || check_answer_decode(out, outlen, rep, &tmp) < 0) {
		log_warn("check of %s: %s", name,
			 rc == CONFINED_FAILED ? why : "the checker's answer does not decode");
		crashed(rep);
		check_cells_free(&tmp);
	}
	free(out);
	if (cells)
		*cells = tmp;
	else
		check_cells_free(&tmp);
	return 0;
}
