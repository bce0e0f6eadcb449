/*
 * wsgatectl's commands (SPEC "Programs"). The same handlers serve local root use and admins over
 * SSH (the gateway's monitor runs `wsgatectl -c CONFIG --as ADMIN transfer|audit ...`).
 * Each handler returns the process exit code: 0 done, 1 refused or failed (one line on stderr
 * beginning "wsgatectl: "), 2 usage error.
 */
#ifndef WSGATE_CTL_H
#define WSGATE_CTL_H

#include "common/store.h"
#include "policy/config.h"

struct ctl {
	const char *config_path;
	struct config *cfg;
	struct store *st;  /* opened by wsgatectl.c before dispatch, except for init */
	const char *actor; /* "root" locally, or the admin's account name with --as */
	int json;	   /* --json */
};

int ctl_init(struct ctl *c, int argc, char **argv);	 /* gateway/ctl_init.c */
int ctl_user(struct ctl *c, int argc, char **argv);	 /* gateway/ctl_user.c */
int ctl_project(struct ctl *c, int argc, char **argv);	 /* gateway/ctl_project.c */
int ctl_audit(struct ctl *c, int argc, char **argv);	 /* gateway/ctl_audit.c */
int ctl_transfer(struct ctl *c, int argc, char **argv); /* transfer/ctl_transfer.c */
int ctl_check(struct ctl *c, int argc, char **argv);	 /* transfer/ctl_transfer.c */

#endif
