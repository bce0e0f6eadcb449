/*
 * The command message: what the monitor sends with a sandbox's go-ahead, the command's argv and
 * environment. The sandbox is built, its privileges dropped and wsgate-init exec'd before the
 * command is known (sandbox_prepare in sandbox.h: a connection that runs many short commands
 * keeps one built ahead), so they travel on the go-ahead socket, not through the clone or exec.
 *
 *   'G', be32 length, then the message:
 *   be32 argc, be32 envc, then argc + envc strings, each ending in NUL; nothing after them.
 *
 * The monitor writes it; wsgate-init, inside the sandbox, reads it and still parses with bounds
 * (cmdmsg_unpack.c): a short, long or malformed message is refused, never half-used.
 */
#ifndef WSGATE_SANDBOX_CMDMSG_H
#define WSGATE_SANDBOX_CMDMSG_H

#include <stddef.h>
#include <stdint.h>

#define CMDMSG_MAX (128u * 1024) /* the monitor's own request frames are 64 KiB */
#define CMDMSG_MAX_STRINGS 256
/* wsgate-init's reason when the go-ahead socket closed without one (the monitor gave up). */
#define CMDMSG_NO_GO "no go-ahead from the monitor"

/* Packs argv and envp (NULL-terminated; envp may be NULL) into a malloc'd buffer. Returns its
 * length, or 0 if they do not fit CMDMSG_MAX or memory ran out (*out is then NULL). */
size_t cmdmsg_pack(char *const *argv, char *const *envp, uint8_t **out);

/* The vectors of an unpacked message, NULL-terminated, pointing into the message's buffer. */
struct cmdmsg {
	char *argv[CMDMSG_MAX_STRINGS + 1];
	char *envp[CMDMSG_MAX_STRINGS + 1];
};

/* A big-endian u32 of the message (its counts, the go-ahead's length), without common/codec.c,
 * which wsgate-init does not link. */
static inline uint32_t
cmdmsg_be32(const uint8_t p[4])
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Splits a message in place into out (argv has at least one string). No allocation and no
 * libc: wsgate-init runs it. Returns 0, or -1 if the message is malformed. */
int cmdmsg_unpack(uint8_t *buf, size_t len, struct cmdmsg *out);

#endif
