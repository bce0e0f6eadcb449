/*
 * One strict UTF-8 decoder for every place that shows or quotes hostile text (audit listings,
 * the reviewer's view, request reports, recordings): RFC 3629, so no overlong forms, no
 * surrogates and nothing past U+10FFFF.
 */
#ifndef WSGATE_UTF8_H
#define WSGATE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid sequence at p, which has avail bytes, and its code point in *cp;
 * 0 if it is invalid or cut short (*cp is then untouched). A NUL ends a sequence too, so a
 * NUL-terminated string may be passed with any avail. */
size_t utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp);

#endif
