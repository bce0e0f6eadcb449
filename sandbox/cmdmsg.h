/*
 * The command message: what the monitor sends with a sandbox's go-ahead, wsgate-init's argv and
 * the command's environment. The sandbox is built before the command is known (sandbox_prepare
 * in sandbox.h: a connection that runs many short commands keeps one built ahead), so they travel
 * on the go-ahead socket, not through the clone.
 *
 *   be32 argc, be32 envc, then argc + envc strings, each ending in NUL; nothing after them.
 *
 * Both ends are wsgated (the monitor and its own clone), but the reader still parses with
 * bounds: a short, long or malformed message is refused, never half-used.
 */
#ifndef WSGATE_SANDBOX_CMDMSG_H
#define WSGATE_SANDBOX_CMDMSG_H

#include <stddef.h>
#include <stdint.h>

#define CMDMSG_MAX (128u * 1024) /* the monitor's own request frames are 64 KiB */
#define CMDMSG_MAX_STRINGS 256

/* Packs argv and envp (NULL-terminated; envp may be NULL) into a malloc'd buffer. Returns its
 * length, or 0 if they do not fit CMDMSG_MAX or memory ran out (*out is then NULL). */
size_t cmdmsg_pack(char *const *argv, char *const *envp, uint8_t **out);

/* The vectors of an unpacked message, NULL-terminated, pointing into the message's buffer. */
struct cmdmsg {
	char *argv[CMDMSG_MAX_STRINGS + 1];
	char *envp[CMDMSG_MAX_STRINGS + 1];
};

/* Splits a message in place into out (argv has at least one string). No allocation: the
 * sandbox's child runs it, a raw clone that must not call malloc (another thread of the
 * monitor may have held its lock at the clone). Returns 0, or -1 if the message is malformed. */
int cmdmsg_unpack(uint8_t *buf, size_t len, struct cmdmsg *out);

#endif
