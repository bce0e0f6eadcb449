/*
 * The failure buffer, one convention everywhere (STYLE.md "Errors"): library code that can fail
 * takes `char *why, size_t whylen`, returns a negative code and puts one line saying what failed,
 * on what and why into why. It never prints or exits; the entry point that called it does.
 */
#ifndef WSGATE_WHY_H
#define WSGATE_WHY_H

#include <stddef.h>

/* Formats into why (truncated to whylen; a NULL or empty buffer is left alone) and returns -1,
 * so a failure path reads: return why_set(why, whylen, "mkdir %s: %s", path, strerror(errno));
 * errno is left as it was. */
int why_set(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
