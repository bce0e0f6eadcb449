/* The session environment allow-list (see envname.h). */
#include "common/envname.h"

#include <string.h>

int
envname_allowed(const char *name, size_t len)
{
	if (len == 4 && (memcmp(name, "LANG", 4) == 0 || memcmp(name, "TERM", 4) == 0))
		return 1;
	if (len <= 3 || memcmp(name, "LC_", 3) != 0)
		return 0;
	for (size_t i = 3; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') || name[i] == '_'))
			return 0;
	return 1;
}

int
envname_pair_allowed(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq != NULL && envname_allowed(kv, (size_t)(eq - kv)) && strchr(eq, '\n') == NULL;
}
