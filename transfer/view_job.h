/*
 * transfer view in the confined parser (transfer/confined.h): the renderer (view.h) runs in
 * wsgate-confined, never in wsgatectl, which is root and holds the store and the keys. The
 * parent sends the file's name, the display options and the cells to mark; the child writes
 * the rendered text, which the parent copies to the reviewer's terminal as it is (view_render
 * escapes everything of the file itself).
 */
#ifndef WSGATE_VIEW_JOB_H
#define WSGATE_VIEW_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "transfer/view.h"

#define VIEW_OUT_MAX (128u << 20) /* more rendered text than this is a failure, not a view */
#define VIEW_JOB_MAX_MARKS 512	  /* --mark cells and the checker's findings; more are dropped */

/* Renders the file open at fd in the confined child to out_fd. Returns 0, or -1 with why (the
 * child could not run, crashed, timed out or wrote too much). */
int view_confined(int fd, const char *name, const struct view_mark *marks, size_t nmarks,
		  const struct view_opts *o, int out_fd, char *why, size_t whylen);

/* Is out what view_render writes: UTF-8 text without control characters but newline and
 * carriage return, and no escape sequence but SGR 7 and SGR 27 (the marks)? The parent checks
 * the child's output with it before it reaches the reviewer's terminal: a parser taken over by
 * a hostile file must not be able to send the terminal anything else (OSC 52, titles, ...). */
int view_output_safe(const uint8_t *out, size_t n);

/* The job's two halves, for wsgate-confined's table (confined_jobs.c). */
int view_job_prepare(const uint8_t *arg, size_t arglen);
int view_job_run(int in_fd, int out_fd, const uint8_t *arg, size_t arglen);

#endif
