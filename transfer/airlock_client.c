#include <stdio.h>
int
main(void)
{
	fprintf(stderr, "airlock: not built yet\n");
	return 1;
}
