/* transfer view in the confined parser (view_job.h). */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/fsutil.h"
#include "common/utf8.h"
#include "common/why.h"
#include "transfer/check.h"
#include "transfer/confined.h"
#include "transfer/view_job.h"

#define VIEW_WIRE_VERSION 1
#define VIEW_WALL_SECONDS 60
#define VIEW_EOL_MAX 4

static void
args_encode(struct wbuf *b, const char *name, const struct view_mark *marks, size_t nmarks,
	    const struct view_opts *o)
{
	wbuf_put_u8(b, VIEW_WIRE_VERSION);
	wbuf_put_str(b, name);
	wbuf_put_u8(b, (uint8_t)(o->terminal != 0));
	wbuf_put_u32(b, o->width);
	wbuf_put_u32(b, o->rows);
	wbuf_put_str(b, o->eol ? o->eol : "\n");
	wbuf_put_u32(b, (uint32_t)nmarks);
	for (size_t i = 0; i < nmarks; i++) {
		wbuf_put_u32(b, marks[i].row);
		wbuf_put_u32(b, marks[i].column);
	}
}

struct view_args {
	char name[256];
	char eol[VIEW_EOL_MAX + 1];
	struct view_opts o;
	struct view_mark marks[VIEW_JOB_MAX_MARKS];
	size_t nmarks;
};

static int
args_decode(const uint8_t *p, size_t n, struct view_args *a)
{
	struct rbuf r;
	uint32_t k;

	rbuf_init(&r, p, n);
	if (rbuf_u8(&r) != VIEW_WIRE_VERSION)
		return -1;
	rbuf_str(&r, a->name, sizeof(a->name));
	a->o.terminal = rbuf_u8(&r) != 0;
	a->o.width = rbuf_u32(&r);
	a->o.rows = rbuf_u32(&r);
	rbuf_str(&r, a->eol, sizeof(a->eol));
	a->o.eol = a->eol;
	if ((k = rbuf_u32(&r)) > VIEW_JOB_MAX_MARKS)
		return -1;
	for (uint32_t i = 0; i < k; i++) {
		a->marks[i].row = rbuf_u32(&r);
		a->marks[i].column = rbuf_u32(&r);
	}
	a->nmarks = k;
	return rbuf_done(&r) ? 0 : -1;
}

int
view_job_prepare(const uint8_t *arg, size_t arglen)
{
	(void)arg, (void)arglen;
	/* Before the filter: the CP932 converter's module (kept loaded by the checker's open
	 * descriptor) and the C.UTF-8 locale, which the renderer asks for again. */
	if (check_prepare(NULL, 0) < 0 || newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0) == 0)
		return -1;
	return 0;
}

int
view_job_run(int in_fd, int out_fd, const uint8_t *arg, size_t arglen)
{
	struct view_args *a = calloc(1, sizeof(*a));
	char why[256];
	int rc = -1;

	if (a != NULL && args_decode(arg, arglen, a) == 0)
		rc = view_render(in_fd, a->name, a->marks, a->nmarks, &a->o, out_fd, why,
				 sizeof(why));
	free(a);
	return rc;
}

int
view_output_safe(const uint8_t *out, size_t n)
{
	static const char *const sgr[] = {"\x1b[7m", "\x1b[27m"};
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k = 0;

		if (out[i] == 0x1b) {
			for (size_t j = 0; j < 2 && k == 0; j++)
				if (n - i >= strlen(sgr[j]) &&
				    memcmp(out + i, sgr[j], strlen(sgr[j])) == 0)
					k = strlen(sgr[j]);
		} else if (out[i] == '\n' || out[i] == '\r') {
			k = 1;
		} else if ((k = utf8_decode(out + i, n - i, &cp)) != 0 &&
			   (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))) {
			k = 0;
		}
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

int
view_confined(int fd, const char *name, const struct view_mark *marks, size_t nmarks,
	      const struct view_opts *o, int out_fd, char *why, size_t whylen)
{
	static const struct confined_limits lim = {VIEW_WALL_SECONDS, 0, 0, VIEW_OUT_MAX};
	uint8_t *out = NULL;
	size_t outlen = 0;
	struct wbuf b;
	int rc;

	if (nmarks > VIEW_JOB_MAX_MARKS)
		nmarks = VIEW_JOB_MAX_MARKS;
	wbuf_init(&b);
	args_encode(&b, name, marks, nmarks, o);
	if (b.err) {
		wbuf_free(&b);
		return why_set(why, whylen, "out of memory");
	}
	rc = confined_run("view", fd, b.data, b.len, &lim, &out, &outlen, why, whylen);
	wbuf_free(&b);
	if (rc == CONFINED_OK && !view_output_safe(out, outlen)) {
		rc = CONFINED_FAILED;
		why_set(why, whylen, "the viewer wrote something that is not its text: not shown");
	} else if (rc == CONFINED_FAILED) {
		why_set(why, whylen, "the viewer crashed, timed out or wrote too much");
	}
	if (rc == CONFINED_OK && write_all(out_fd, out, outlen) != (ssize_t)outlen)
		rc = why_set(why, whylen, "writing the view: %s", strerror(errno));
	free(out);
	return rc == CONFINED_OK ? 0 : -1;
}
