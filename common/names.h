/* Validation of names that reach file systems, LMDB keys and logs. */
#ifndef WSGATE_NAMES_H
#define WSGATE_NAMES_H

#include <stddef.h>

#define NAME_MAX_LEN 32 /* account, project, zone and area names */

/* ^[a-z][a-z0-9_-]{0,31}$ : accounts, projects, zones, areas. */
int name_valid(const char *s);
/* A single path component for a transferred file: 1..255 bytes, not "." or "..", no '/', no
 * control bytes (0x00-0x1f, 0x7f). Bytes >= 0x80 are allowed (UTF-8 file names). */
int filename_valid(const char *s);

#endif
