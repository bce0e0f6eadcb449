/* Role names (role.h): apart from account.c so the config parser can read them alone. */
#include "policy/role.h"

#include <string.h>

#include "common/nitems.h"

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_ANALYST:
		return "analyst";
	case ROLE_STATS:
		return "stats";
	case ROLE_ADMIN:
		return "admin";
	}
	return "?";
}

int
role_parse(const char *s, enum role *out)
{
	static const enum role roles[] = {ROLE_ANALYST, ROLE_STATS, ROLE_ADMIN};

	for (size_t i = 0; i < nitems(roles); i++) {
		if (strcmp(s, role_name(roles[i])) == 0) {
			*out = roles[i];
			return 0;
		}
	}
	return -1;
}
