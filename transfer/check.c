/*
 * One file's checks, in order (SPEC "Publication checks"): the name's extension against
 * export_types, the size, what the content is (check_type.c) against what the name says, and for
 * a CSV/TSV table the table rules (check_csv.c, check_rules.c). The file itself is only read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/why.h"
#include "transfer/check_int.h"

static void
lower(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < outlen; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	out[i] = '\0';
}

int
check_type_allowed(const struct config *cfg, const char *name, char *ext, size_t extlen)
{
	const char *dot = strrchr(name, '.');

	ext[0] = '\0';
	if (!dot || dot == name || dot[1] == '\0')
		return 0;
	lower(dot + 1, ext, extlen);
	for (size_t i = 0; i < cfg->nexport_types; i++)
		if (strcasecmp(ext, cfg->export_types[i]) == 0)
			return 1;
	return 0;
}

void
check_cells_free(struct check_cells *cells)
{
	if (!cells)
		return;
	free(cells->v);
	memset(cells, 0, sizeof(*cells));
}

/* The type rule: what the content is against what the name says. 1: go on to the table. */
static int
type_rule(struct scan *sc, enum check_content content, const char *ext)
{
	const char *what = check_content_name(content);
	int pdf = strcmp(ext, "pdf") == 0, png = strcmp(ext, "png") == 0;

	switch (content) {
	case CONTENT_EMPTY:
		finding(sc, CHECK_WARN, "type", 0, 0, NULL, 0, "the file is empty");
		return 0;
	case CONTENT_UTF16:
		finding(sc, CHECK_FAIL, "type", 0, 0, NULL, 0,
			"UTF-16 text is not accepted: save it as UTF-8 (CSV UTF-8) or Shift_JIS");
		return 0;
	case CONTENT_BINARY:
		finding(sc, CHECK_FAIL, "type", 0, 0, NULL, 0,
			"the content is binary data, not text, PDF or PNG");
		return 0;
	case CONTENT_PDF:
	case CONTENT_PNG:
		if ((content == CONTENT_PDF && !pdf) || (content == CONTENT_PNG && !png))
			finding(sc, CHECK_FAIL, "type", 0, 0, NULL, 0,
				"the content is %s but the name says .%s", what, ext);
		else
			finding(sc, CHECK_WARN, "type", 0, 0, NULL, 0,
				"%s is not machine-checkable: the reviewer must look at it", what);
		return 0;
	default:
		break;
	}
	if (pdf || png) {
		finding(sc, CHECK_FAIL, "type", 0, 0, NULL, 0,
			"the content is %s but the name says .%s", what, ext);
		return 0;
	}
	if (strcmp(ext, "csv") == 0 || strcmp(ext, "tsv") == 0)
		return 1;
	if (strcmp(ext, "txt") == 0)
		finding(sc, CHECK_WARN, "type", 0, 0, NULL, 0,
			"free text is not machine-checkable: review it by eye (transfer view)");
	else
		finding(sc, CHECK_WARN, "type", 0, 0, NULL, 0,
			"contents of .%s files are not checked automatically: review them by eye",
			ext);
	return 0;
}

int
check_fd(const struct config *cfg, int fd, const char *name, struct check_report *rep,
	 struct check_cells *cells, char *why, size_t whylen)
{
	struct scan sc;
	enum check_content content;
	char ext[16];
	off_t size;
	int bom, ret = -1;

	memset(rep, 0, sizeof(*rep));
	memset(&sc, 0, sizeof(sc));
	if (cells)
		memset(cells, 0, sizeof(*cells));
	sc.cfg = cfg;
	sc.rep = rep;
	sc.cells = cells;
	rep->result = CHECK_PASS;
	if ((size = lseek(fd, 0, SEEK_END)) < 0)
		return why_set(why, whylen, "%s", strerror(errno));
	rules_file_name(&sc, name);
	if (!check_type_allowed(cfg, name, ext, sizeof(ext)))
		finding(&sc, CHECK_FAIL, "type", 0, 0, NULL, 0,
			"file type \"%s\" is not in export_types", ext[0] ? ext : "(none)");
	if ((uint64_t)size > cfg->export_max_size) {
		finding(&sc, CHECK_FAIL, "size", 0, 0, NULL, 0,
			"%llu bytes is over export_max_size (%llu)", (unsigned long long)size,
			(unsigned long long)cfg->export_max_size);
		return 0;
	}
	if (check_sniff(fd, &content, &bom, why, whylen) < 0)
		return -1;
	if (!type_rule(&sc, content, ext))
		return 0;
	if (rules_init(&sc) < 0) {
		why_set(why, whylen, "out of memory");
		goto out;
	}
	if (csv_scan(&sc, fd, strcmp(ext, "tsv") == 0 ? '\t' : ',', content == CONTENT_SJIS, why,
		     whylen) < 0 ||
	    rules_finish(&sc, why, whylen) < 0)
		goto out;
	ret = 0;
out:
	rules_free(&sc);
	if (ret < 0)
		check_cells_free(cells);
	return ret;
}
