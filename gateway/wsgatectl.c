#include <stdio.h>
int
main(void)
{
	fprintf(stderr, "wsgatectl: not built yet\n");
	return 1;
}
