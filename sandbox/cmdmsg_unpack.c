/*
 * The bounded parse of a command message (cmdmsg.h). Compiled into wsgate_sandbox and into
 * wsgate-init, which is freestanding: no libc here, not even memchr, and nothing that needs a
 * relocation.
 */
#include "sandbox/cmdmsg.h"

/* Points v[0..n-1] at the next n strings of buf from *off; -1 if one is missing. */
static int
take_strings(uint8_t *buf, size_t len, size_t *off, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t end = *off;

		while (end < len && buf[end] != '\0')
			end++;
		if (end >= len)
			return -1;
		v[i] = (char *)buf + *off;
		*off = end + 1;
	}
	v[n] = 0;
	return 0;
}

int
cmdmsg_unpack(uint8_t *buf, size_t len, struct cmdmsg *out)
{
	uint32_t argc, envc;
	size_t off = 8;

	out->argv[0] = out->envp[0] = 0;
	if (len < 8 || len > CMDMSG_MAX)
		return -1;
	argc = cmdmsg_be32(buf);
	envc = cmdmsg_be32(buf + 4);
	if (argc == 0 || argc > CMDMSG_MAX_STRINGS || envc > CMDMSG_MAX_STRINGS - argc)
		return -1;
	if (take_strings(buf, len, &off, out->argv, argc) != 0 ||
	    take_strings(buf, len, &off, out->envp, envc) != 0 || off != len) {
		out->argv[0] = out->envp[0] = 0;
		return -1;
	}
	return 0;
}
