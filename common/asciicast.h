/*
 * asciicast v2 lines (https://docs.asciinema.org/manual/asciicast/v2/), the format of session
 * recordings (SPEC "The terminal is a display"; docs/audit.md "Recordings"). Pure functions on
 * buffers: the worker encodes events, wsgatectl decodes them, and both sides are fuzzed.
 *
 * A terminal's bytes need not be UTF-8, and JSON strings hold only Unicode. So bytes that are
 * valid UTF-8 go in as characters, and every other byte b goes in as the lone surrogate
 * \udcXX (Python's "surrogateescape"): the decoder gives back exactly the bytes that passed,
 * and a standard player shows a replacement character for them.
 */
#ifndef WSGATE_ASCIICAST_H
#define WSGATE_ASCIICAST_H

#include <stddef.h>
#include <stdint.h>

/* The largest data an event carries, and the buffer an encoded event needs ("\udcXX" is six
 * bytes per input byte at worst, plus the frame). */
#define ASCIICAST_DATA_MAX 65536
#define ASCIICAST_LINE_MAX (6 * ASCIICAST_DATA_MAX + 64)

/* Appends the JSON string for n bytes of p (quotes included) to out; returns its length or 0 if
 * cap is too small. */
size_t asciicast_quote(const uint8_t *p, size_t n, char *out, size_t cap);

/* One event line "[SECONDS, "CODE", "DATA"]\n" (code 'o' output, 'i' input); seconds since the
 * start with microseconds. Returns the line's length, or 0 if n > ASCIICAST_DATA_MAX or cap is too
 * small. */
size_t asciicast_event(double seconds, char code, const uint8_t *p, size_t n, char *out,
		       size_t cap);

/* Decodes one event line (with or without its newline): 0 and the time, code and data (at most
 * cap bytes), or -1 if it is not exactly such a line. Never reads past len. */
int asciicast_parse_event(const char *line, size_t len, double *seconds, char *code, uint8_t *out,
			  size_t cap, size_t *outlen);

#endif
