/*
 * wsgatectl's commands (SPEC "Programs"). The same handlers serve local root use and admins over
 * SSH (the gateway's monitor runs `wsgatectl -c CONFIG --as ADMIN transfer|audit ...`).
 * Each handler returns the process exit code: 0 done, 1 refused or failed (one line on stderr
 * beginning "wsgatectl: "), 2 usage error.
 */
#ifndef WSGATE_CTL_H
#define WSGATE_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/store.h"
#include "policy/config.h"

struct ctl {
	const char *config_path;
	struct config *cfg;
	struct store *st;  /* opened by wsgatectl.c before dispatch, except for init */
	const char *actor; /* "root" locally, or the admin's account name with --as */
	int json;	   /* --json */
};

/*
 * Calling convention: argv[0] is the command word ("user", "transfer", ...), argv[1..] what
 * follows it, so a handler may run getopt_long on (argc - 1, argv + 1) after setting optind = 0.
 * A handler accepts --json among its own options too (wsgatectl -c F user list --json).
 */
int ctl_init(struct ctl *c, int argc, char **argv);	/* ctl/ctl_init.c */
int ctl_user(struct ctl *c, int argc, char **argv);	/* ctl/ctl_user.c */
int ctl_project(struct ctl *c, int argc, char **argv);	/* ctl/ctl_project.c */
int ctl_audit(struct ctl *c, int argc, char **argv);	/* ctl/ctl_audit.c */
int ctl_transfer(struct ctl *c, int argc, char **argv); /* ctl/ctl_transfer.c */
int ctl_check(struct ctl *c, int argc, char **argv);	/* ctl/ctl_check.c */
int ctl_backup(struct ctl *c, int argc, char **argv);	/* ctl/ctl_backup.c */
int ctl_restore(struct ctl *c, int argc, char **argv);	/* ctl/ctl_restore.c */
/* The folders init makes under state_dir (ctl/ctl_init.c), for restore: 0 or 1 (reported). */
int ctl_init_dirs(const char *state_dir);

/* transfer view and transfer drafts, called by ctl_transfer with argv at the subcommand. */
int ctl_transfer_view(struct ctl *c, int argc, char **argv);   /* ctl/ctl_view.c */
int ctl_transfer_drafts(struct ctl *c, int argc, char **argv); /* ctl/ctl_drafts.c */
/* Reviews and resubmissions in list and show (ctl/ctl_review.c). */
struct req_summary;
struct request;
unsigned ctl_review_state_width(const struct ctl *c);
const char *ctl_review_state(struct ctl *c, MDB_txn *txn, const struct req_summary *s, char *buf,
			     size_t len);
int ctl_print_awaiting(struct ctl *c, uint64_t id, int json);
void ctl_review_show(struct ctl *c, const struct request *r, json_t *j);
/* A request id: decimal, 1 .. 2^64 - 1; 0 or -1. (ctl/ctl_transfer.c) */
int ctl_parse_id(const char *s, uint64_t *id);
/* audit recordings and audit replay (ctl/ctl_recording.c); user and speed may be NULL. */
int ctl_recordings(struct ctl *c, const char *user, uint64_t since);
int ctl_replay(struct ctl *c, const char *id, const char *speed);

/* Helpers in ctl/wsgatectl.c. ctl_fail prints "wsgatectl: MESSAGE" and returns 1,
 * ctl_usage the same and returns 2. ctl_name shows a name from the command line safely: valid
 * names as they are, anything else truncated and escaped (hostile input reaches the terminal). */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *ctl_name(const char *s, char *buf, size_t len);
#define CTL_NAMEBUF 96

/* Prints j indented, keys in insertion order, and frees it; NULL (a failed build) and a failed
 * write are reported with ctl_fail. Returns 0 or 1. */
int ctl_print_json(json_t *j);

/* A command's subcommands as a table: ctl_dispatch runs the one named by argv[1], passing
 * argv + 1 (so the handler's argv[0] is the subcommand word). Unknown or missing: usage, 2. */
struct ctl_sub {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
};
int ctl_dispatch(struct ctl *c, int argc, char **argv, const struct ctl_sub *subs,
		 const char *usage);
/* --since TIME: epoch seconds, YYYY-MM-DD (UTC midnight), or a duration ago ("1h", "7d"). */
int ctl_parse_since(const char *s, uint64_t now, uint64_t *out);
/* YYYY-MM-DD to the epoch seconds of 00:00:00 UTC that day; -1 if malformed. */
void ctl_format_time(uint64_t t, char *out, size_t outlen); /* "2026-11-26T02:30:00Z" */

#endif
