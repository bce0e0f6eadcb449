/*
 * What `wsgatectl backup` writes and `restore` reads, besides the state's own layout (db/,
 * secrets.key, blobs/, recordings/): MANIFEST, written last, naming every file other than the
 * content-addressed blobs with its SHA-256 and size, and the counts restore checks again.
 *
 *   wsgate-backup 1
 *   created 2026-12-04T14:40:00Z
 *   audit_records 1234          records in the copy's chain, which verified when it was made
 *   requests 56                 airlock requests; each one's blob is in blobs/
 *   witness 8812 /var/log/wsgate/audit.witness    bytes of the witness taken (or: witness none)
 *   file <sha256 hex> <size> <relative path>
 *
 * A backup holds the secrets key (without it the audit chain cannot be verified and the TOTP
 * seeds cannot be read): store it as you store the state itself.
 */
#ifndef WSGATE_BACKUPFMT_H
#define WSGATE_BACKUPFMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define BACKUP_MAGIC "wsgate-backup 1"
#define BACKUP_MANIFEST "MANIFEST"
#define BACKUP_HASH_HEX 65 /* 64 hex digits and NUL */

/* syncfs(2) on dir's file system: one flush for every file copied, instead of one fsync each
 * (hundreds of blobs). Returns 0 or -errno. */
int backup_sync(const char *dir);

/* out = a "/" b; -1 (out unusable) if it does not fit. */
int backup_join(char *out, size_t outlen, const char *a, const char *b);

/* Copies src to a new file dst (mode, O_EXCL), hashing what was written: a file that changes
 * while it is read is copied as read, never torn between hash and bytes. At most max bytes (the
 * witness is taken up to the length it had). Not fsynced: the caller makes a whole tree durable
 * at once with backup_sync. Returns 0 or -errno. */
int backup_copy_file(int srcfd, const char *dst, mode_t mode, uint64_t max,
		     char hex[BACKUP_HASH_HEX], uint64_t *size);

/* A relative path from a manifest that stays beneath its directory: no "..", no leading '/',
 * no empty or dot components, printable ASCII without spaces. */
int backup_relpath_ok(const char *rel);

/* [audit] witness from the config file, read with libinih: "" when the key is absent (the
 * section belongs to the audit module's config; here only its value is needed). */
void backup_witness_path(const char *config_path, char *out, size_t outlen);

#endif
