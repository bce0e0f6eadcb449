/* The environment a client may set in a session (SPEC "Login"): LANG, LC_* and TERM, nothing
 * else. The worker applies it to each env request and the monitor again to what the worker
 * passes on; both call this one function. */
#ifndef WSGATE_ENVNAME_H
#define WSGATE_ENVNAME_H

#include <stddef.h>

/* 1 if the len bytes at name are LANG, TERM or LC_ followed by [A-Z_]+, else 0. */
int envname_allowed(const char *name, size_t len);
/* 1 if kv is "NAME=value" with an allowed NAME and no newline in the value, else 0. */
int envname_pair_allowed(const char *kv);

#endif
