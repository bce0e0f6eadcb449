#include <stdio.h>
int
main(void)
{
	fprintf(stderr, "wsgated: not built yet\n");
	return 1;
}
