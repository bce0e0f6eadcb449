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
