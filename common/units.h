/* SPEC units: durations "45s", "30m", "12h", "7d"; sizes "512K", "50M", "4G" (powers of 1024). */
#ifndef WSGATE_UNITS_H
#define WSGATE_UNITS_H

#include <stdint.h>

/* Returns 0 and the value in seconds / bytes, or -1 for anything malformed or overflowing.
 * A bare number is seconds / bytes. No sign, no spaces, no fraction. */
int parse_duration(const char *s, uint64_t *seconds);
int parse_size(const char *s, uint64_t *bytes);
/* Strict decimal: digits only, no sign, no spaces, no leading zero ("0" itself is fine), no
 * overflow. Returns 0 or -1. */
int parse_u64_strict(const char *s, uint64_t *out);
/* Formats for display: "15m", "4G" when exact, else the smaller unit. */
void format_duration(uint64_t seconds, char *out, unsigned outlen);
void format_size(uint64_t bytes, char *out, unsigned outlen);

#endif
