/*
 * libFuzzer target for cmdline_program: the input is a command line as an exec request carries
 * it. Besides the sanitizers, it checks the rule's promise: an accepted line holds no byte that
 * could end the command or start a substitution or redirection outside single quotes, and the
 * program is the line's first word, a bare name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[4096], prog[64];
	const char *p;
	char quote = 0; /* the open quote, or 0 */

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (cmdline_program(line, prog, sizeof(prog)) != 0) {
		if (prog[0] != '\0')
			abort();
		return 0;
	}
	p = line + strspn(line, " \t");
	if (prog[0] == '\0' || strncmp(p, prog, strlen(prog)) != 0 ||
	    prog[strspn(prog,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")])
		abort();
	for (p = line; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t')
			abort();
		if (quote == 0 && (*p == '\'' || *p == '"'))
			quote = *p;
		else if (quote != 0 && *p == quote)
			quote = 0;
		else if (quote == 0 && strchr(";&|<>()`$\\#{}!", *p) != NULL)
			abort();
		else if (quote == '"' && strchr("`$\\", *p) != NULL)
			abort();
	}
	if (quote != 0)
		abort();
	return 0;
}
