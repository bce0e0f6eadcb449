/*
 * UTC timestamps, written one way everywhere (audit, transfer lists, SFTP listings, expiry
 * days). Always UTC: the gateway's records must read the same on every operator's terminal,
 * and the medical information security guideline asks for one synchronised clock.
 */
#ifndef WSGATE_UTCTIME_H
#define WSGATE_UTCTIME_H

#include <stddef.h>
#include <stdint.h>

enum utc_style {
	UTC_DAY,     /* 2026-11-26 */
	UTC_MINUTE,  /* 2026-11-26 02:30 (SFTP's ls -l style listing) */
	UTC_ISO8601, /* 2026-11-26T02:30:00Z */
};

#define UTC_MAX_LEN 21 /* the longest style with its NUL */

/* Writes t (seconds since the epoch) in style into out. Returns the length written, or -1 if out
 * is too small or the year is outside 0..9999 (out is then ""). Formatted by hand, without
 * strftime: `transfer list` writes 100,000 of these. */
int utc_format(uint64_t t, enum utc_style style, char *out, size_t outlen);
/* Parses a day "YYYY-MM-DD" strictly (no 2026-02-31) to its UTC midnight. Returns 0 or -1. */
int utc_parse_day(const char *s, uint64_t *out);

#endif
