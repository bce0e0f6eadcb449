/* Daily byte budgets of session channels (see budget.h). */
#include "policy/budget.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/codec.h"
#include "common/units.h"

#define BUDGET_KEY_MAX (NAME_MAX_LEN + 1 + 4)
#define BUDGET_MIN_GRANT (64u << 10)

/* The key: the account's name, a NUL, the big-endian day; one record per account and day. */
static size_t
budget_key(const char *user, uint32_t day, uint8_t key[BUDGET_KEY_MAX])
{
	size_t n = strnlen(user, NAME_MAX_LEN);

	memcpy(key, user, n);
	key[n] = '\0';
	codec_be32_put(key + n + 1, day);
	return n + 5;
}

uint32_t
budget_day_of(uint64_t t)
{
	return (uint32_t)(t / 86400);
}

uint64_t
budget_limit(const struct config *cfg, enum budget_dir dir)
{
	return dir == BUDGET_OUT ? cfg->output_budget : cfg->input_budget;
}

int
budget_get(struct store *st, MDB_txn *txn, const char *user, uint32_t day, struct budget_day *out)
{
	uint8_t key[BUDGET_KEY_MAX];
	struct rbuf r;
	MDB_val v;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_get(st, txn, DB_BUDGET, key, budget_key(user, day, key), &v);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	rbuf_init(&r, v.mv_data, v.mv_size);
	for (int d = BUDGET_OUT; d <= BUDGET_IN; d++) {
		out->used[d] = rbuf_u64(&r);
		out->extra[d] = rbuf_u64(&r);
		out->warned[d] = rbuf_u8(&r);
		out->reached[d] = rbuf_u8(&r);
	}
	return rbuf_done(&r) ? 0 : STORE_BADRECORD;
}

int
budget_put(struct store *st, MDB_txn *txn, const char *user, uint32_t day,
	   const struct budget_day *b)
{
	uint8_t key[BUDGET_KEY_MAX];
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	for (int d = BUDGET_OUT; d <= BUDGET_IN; d++) {
		wbuf_put_u64(&w, b->used[d]);
		wbuf_put_u64(&w, b->extra[d]);
		wbuf_put_u8(&w, b->warned[d]);
		wbuf_put_u8(&w, b->reached[d]);
	}
	rc = w.err
		 ? -ENOMEM
		 : store_put(st, txn, DB_BUDGET, key, budget_key(user, day, key), w.data, w.len, 0);
	wbuf_free(&w);
	return rc;
}

/* limit + extra, saturating (extra is granted by an operator, limits by the config). */
static uint64_t
budget_total(const struct config *cfg, const struct budget_day *b, enum budget_dir dir)
{
	uint64_t limit = budget_limit(cfg, dir);

	if (limit == CONFIG_BUDGET_NONE || b->extra[dir] > UINT64_MAX - limit)
		return UINT64_MAX;
	return limit + b->extra[dir];
}

uint64_t
budget_left(const struct config *cfg, const struct budget_day *b, enum budget_dir dir)
{
	uint64_t total = budget_total(cfg, b, dir);

	return b->used[dir] >= total ? 0 : total - b->used[dir];
}

int
budget_take(struct store *st, MDB_txn *txn, const struct config *cfg, const char *user,
	    enum budget_dir dir, uint64_t unused, uint64_t want, uint64_t now, uint64_t *granted,
	    enum budget_event *event)
{
	uint32_t day = budget_day_of(now);
	struct budget_day b;
	uint64_t total, left;
	int rc;

	*granted = 0;
	*event = BUDGET_EV_NONE;
	if (budget_limit(cfg, dir) == CONFIG_BUDGET_NONE) {
		*granted = UINT64_MAX;
		return 0;
	}
	if ((rc = budget_get(st, txn, user, day, &b)) != 0)
		return rc;
	/* What a channel gives back goes to today's record even if it took it before midnight:
	 * at most one allowance per channel, in the account's favour. */
	b.used[dir] -= unused < b.used[dir] ? unused : b.used[dir];
	total = budget_total(cfg, &b, dir);
	left = budget_left(cfg, &b, dir);
	/* A quarter of what is left at most (64 KiB at least): channels of other connections
	 * drawing on the same balance get their share instead of finding it all reserved. */
	if (want > BUDGET_MIN_GRANT && want > left / 4)
		want = left / 4 > BUDGET_MIN_GRANT ? left / 4 : BUDGET_MIN_GRANT;
	*granted = want < left ? want : left;
	b.used[dir] += *granted;
	if (want > 0 && *granted == 0 && !b.reached[dir]) {
		b.reached[dir] = 1;
		*event = BUDGET_EV_REACHED;
	} else if (!b.warned[dir] && b.used[dir] >= total / 5 * 4) {
		b.warned[dir] = 1;
		*event = BUDGET_EV_WARN;
	}
	return budget_put(st, txn, user, day, &b);
}

void
budget_line(const struct config *cfg, enum budget_dir dir, char *out, size_t outlen)
{
	char size[32];

	format_size(budget_limit(cfg, dir), size, sizeof(size));
	snprintf(out, outlen, "wsgate: daily %s budget (%s) reached",
		 dir == BUDGET_OUT ? "output" : "input", size);
}
