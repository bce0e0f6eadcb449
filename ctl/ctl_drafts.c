/*
 * wsgatectl transfer drafts [--json]: the import drafts waiting for their uploaders (SPEC "The
 * airlock": imports and drafts), after removing those older than import_draft_ttl. Drafts are
 * not requests: nobody reviews them until their uploader submits them; this listing is for the
 * operator (what sits in state_dir/drafts, and whose).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "transfer/blob.h"
#include "transfer/draft.h"
#include "transfer/queue.h"

struct drafts_ctx {
	json_t *arr;
	unsigned n;
};

static int
draft_line(const struct draft *d, void *arg)
{
	struct drafts_ctx *x = arg;
	char hex[65], t[32], name[256];

	blob_hex(d->sha256, hex);
	ctl_format_time(d->created, t, sizeof(t));
	queue_safe_text(d->name, name, sizeof(name), 0);
	x->n++;
	if (x->arr)
		return json_array_append_new(
			   x->arr, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I}", "project",
					     d->project, "area", d->area, "user", d->user, "name",
					     name, "size", (json_int_t)d->size, "sha256", hex,
					     "created", (json_int_t)d->created)) < 0
			   ? -1
			   : 0;
	printf("%-16s %-10s %-16s %12" PRIu64 " %-20s %s %s\n", d->project, d->area, d->user,
	       d->size, t, hex, name);
	return 0;
}

int
ctl_transfer_drafts(struct ctl *c, int argc, char **argv)
{
	struct drafts_ctx x = {0};
	char why[512];
	unsigned expired = 0;
	int json = c->json, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return ctl_usage("usage: transfer drafts [--json]");
	}
	if (draft_expire(c->st, c->cfg, (uint64_t)time(NULL), &expired, why, sizeof(why)) < 0)
		return ctl_fail("%s", why);
	if (json)
		x.arr = json_array();
	else
		printf("%-16s %-10s %-16s %12s %-20s %-64s %s\n", "PROJECT", "AREA", "USER", "SIZE",
		       "CREATED", "SHA256", "NAME");
	rc = draft_foreach(c->st, draft_line, &x);
	if (rc != 0) {
		json_decref(x.arr);
		return ctl_fail("the drafts database holds a record that cannot be read: %s",
				store_strerror(rc));
	}
	if (json)
		return ctl_print_json(
		    json_pack("{s:o, s:i}", "drafts", x.arr, "expired", (int)expired));
	if (expired)
		printf("(%u expired draft%s removed)\n", expired, expired > 1 ? "s" : "");
	return 0;
}
