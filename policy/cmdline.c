/*
 * The program of a command line without a pty: see cmdline.h for the rule and why it is
 * narrower than the shell. Pure functions, no allocation; the input is hostile (the client's
 * exec request) and is read once, left to right, never beyond its terminating NUL.
 */
#include <string.h>

#include "common/nitems.h"
#include "policy/cmdline.h"

#define CMDLINE_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"
/* Unquoted argument bytes (besides letters, digits, blanks and bytes >= 0x80): none of them
 * ends a command, starts a substitution or redirects. Globs only expand to existing names. */
#define CMDLINE_ARG_CHARS "_.,+-/:=@%^~*?[]"

/* Words the shell gives a meaning of its own in a command's first position: reserved words
 * (POSIX 2.4, plus bash's) and builtins that run or evaluate another command. A list naming one
 * of them would hand the next word to the shell. */
static const char *const cmdline_shell_words[] = {
    "if",    "then",	"else",	   "elif",   "fi",	 "do",	   "done",   "case", "esac",
    "while", "until",	"for",	   "in",     "function", "select", "coproc", "time", "exec",
    "eval",  "command", "builtin", "source", "trap",	 "fc",	   "alias",
};

static int
cmdline_blank(unsigned char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Bytes never accepted, quoted or not: C0 controls but tab, and DEL. A newline would end the
 * command inside the shell's parse; CR and escapes only disguise the line in logs. */
static int
cmdline_control(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

static int
cmdline_arg_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       cmdline_blank(ch) || ch >= 0x80 || (ch != '\0' && strchr(CMDLINE_ARG_CHARS, ch));
}

/* The arguments after the program: 0 if nothing in them can reach the shell's grammar. */
static int
cmdline_args_ok(const unsigned char *p)
{
	while (*p != '\0') {
		if (*p == '\'') {
			for (p++; *p != '\'' && *p != '\0'; p++)
				if (cmdline_control(*p))
					return -1;
			if (*p++ != '\'')
				return -1; /* unclosed: sh would fail, or read further lines */
			continue;
		}
		if (*p == '"') {
			for (p++; *p != '"' && *p != '\0'; p++)
				if (cmdline_control(*p) || *p == '$' || *p == '`' || *p == '\\')
					return -1;
			if (*p++ != '"')
				return -1;
			continue;
		}
		if (!cmdline_arg_byte(*p))
			return -1;
		p++;
	}
	return 0;
}

int
cmdline_program(const char *cmdline, char *prog, size_t proglen)
{
	const unsigned char *p = (const unsigned char *)cmdline;
	size_t n;

	if (proglen > 0)
		prog[0] = '\0';
	if (cmdline == NULL || proglen == 0)
		return -1;
	while (cmdline_blank(*p))
		p++;
	n = strspn((const char *)p, CMDLINE_NAME_CHARS);
	if (n == 0 || n >= proglen || p[0] == '.' || p[0] == '-')
		return -1;
	if (p[n] != '\0' && !cmdline_blank(p[n]))
		return -1; /* "air\"\"lock", "airlock;cat", "X=1 cat", "/usr/bin/x", "a\\b" ... */
	for (size_t i = 0; i < nitems(cmdline_shell_words); i++)
		if (strlen(cmdline_shell_words[i]) == n &&
		    memcmp(cmdline_shell_words[i], p, n) == 0)
			return -1;
	if (cmdline_args_ok(p + n) != 0)
		return -1;
	memcpy(prog, p, n);
	prog[n] = '\0';
	return 0;
}

int
cmdline_program_allowed(const struct config *cfg, const char *cmdline)
{
	char prog[sizeof(cfg->exec_without_pty[0])];

	if (cfg->exec_without_pty_any)
		return 1;
	if (cmdline_program(cmdline, prog, sizeof(prog)) != 0)
		return 0;
	for (size_t i = 0; i < cfg->nexec_without_pty && i < nitems(cfg->exec_without_pty); i++)
		if (strcmp(cfg->exec_without_pty[i], prog) == 0)
			return 1;
	return 0;
}
