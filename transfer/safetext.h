/*
 * Text from requesters (file names, reasons, notes, table headers and cells) made safe for a
 * reviewer's terminal and for JSON. Implemented in queue.c; a header of its own so that the
 * confined checker can use it without the queue's and the database's headers.
 */
#ifndef WSGATE_SAFETEXT_H
#define WSGATE_SAFETEXT_H

#include <stddef.h>

/* Invalid UTF-8, C0 and C1 control characters (C1 includes the 8-bit CSI, 0x9b) become '?';
 * newlines are kept only when keep_nl is set. Returns out. */
const char *queue_safe_text(const char *in, char *out, size_t outlen, int keep_nl);

#endif
