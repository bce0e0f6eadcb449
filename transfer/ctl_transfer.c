/* placeholder until the airlock issue lands */
#include <stdio.h>

#include "gateway/ctl.h"

int
ctl_transfer(struct ctl *c, int argc, char **argv)
{
	fprintf(stderr, "wsgatectl: transfer: not available yet\n");
	return 1;
}

int
ctl_check(struct ctl *c, int argc, char **argv)
{
	fprintf(stderr, "wsgatectl: check: not available yet\n");
	return 1;
}
