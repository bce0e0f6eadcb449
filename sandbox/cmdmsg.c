/* The command message of a sandbox's go-ahead (cmdmsg.h). */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "sandbox/cmdmsg.h"

static size_t
strv_count(char *const *v, size_t *bytes)
{
	size_t n = 0;

	for (; v != NULL && v[n] != NULL; n++)
		*bytes += strlen(v[n]) + 1;
	return n;
}

size_t
cmdmsg_pack(char *const *argv, char *const *envp, uint8_t **out)
{
	size_t bytes = 8, argc, envc, off = 8;

	*out = NULL;
	argc = strv_count(argv, &bytes);
	envc = strv_count(envp, &bytes);
	if (argc == 0 || argc + envc > CMDMSG_MAX_STRINGS || bytes > CMDMSG_MAX)
		return 0;
	if ((*out = malloc(bytes)) == NULL)
		return 0;
	codec_be32_put(*out, (uint32_t)argc);
	codec_be32_put(*out + 4, (uint32_t)envc);
	for (size_t i = 0; i < argc + envc; i++) {
		const char *s = i < argc ? argv[i] : envp[i - argc];
		size_t n = strlen(s) + 1;

		memcpy(*out + off, s, n);
		off += n;
	}
	return bytes;
}

/* Points v[0..n-1] at the next n strings of buf from *off; -1 if one is missing. */
static int
take_strings(uint8_t *buf, size_t len, size_t *off, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *nul;

		if (*off >= len || (nul = memchr(buf + *off, '\0', len - *off)) == NULL)
			return -1;
		v[i] = (char *)buf + *off;
		*off = (size_t)(nul - buf) + 1;
	}
	v[n] = NULL;
	return 0;
}

int
cmdmsg_unpack(uint8_t *buf, size_t len, struct cmdmsg *out)
{
	uint32_t argc, envc;
	size_t off = 8;

	out->argv[0] = out->envp[0] = NULL;
	if (len < 8 || len > CMDMSG_MAX)
		return -1;
	argc = codec_be32_get(buf);
	envc = codec_be32_get(buf + 4);
	if (argc == 0 || argc > CMDMSG_MAX_STRINGS || envc > CMDMSG_MAX_STRINGS - argc)
		return -1;
	if (take_strings(buf, len, &off, out->argv, argc) != 0 ||
	    take_strings(buf, len, &off, out->envp, envc) != 0 || off != len) {
		out->argv[0] = out->envp[0] = NULL;
		return -1;
	}
	return 0;
}
