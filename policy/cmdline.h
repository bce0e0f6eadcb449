/*
 * Which program an exec request without a pty would run (SPEC "The terminal is a display, not a
 * file transfer"). The sandbox runs a command line as `/bin/sh -c LINE`, so "the program" is what
 * the shell would run, and a line the shell could turn into a second program has none.
 *
 * The rule, deliberately narrower than the shell: a line names a program only if it is ONE simple
 * command whose first word is a bare name, and nothing after it can start another command, a
 * substitution or a redirection:
 *   - optional leading blanks (space, tab), then the first word: [A-Za-z0-9._+-]+ not starting
 *     with '.' or '-' (as the config accepts names),
 *     ended by a blank or the end of the line. No quotes, backslash, '=', '$' or '/' in it: a
 *     quoted or escaped name, a variable assignment (X=1 cmd), a path (/usr/bin/cat, ./x) or an
 *     expansion is refused, not interpreted;
 *   - the first word is not a shell reserved word or a builtin that runs another command
 *     (exec, eval, command, builtin, trap, source, time, if, while, for, case, ...);
 *   - the rest is arguments: outside quotes only [A-Za-z0-9], blanks, bytes >= 0x80 and
 *     _ . , + - / : = @ % ^ ~ * ? [ ]; '...' may hold any printable byte; "..." may hold any
 *     printable byte but $ ` and backslash. A quote must be closed. Control characters
 *     (newline, CR, ...) are refused everywhere, quoted or not.
 * So ; & | < > ( ) $ ` \ newline # { } ! and unbalanced quotes all make the line refused.
 * Whether a program that IS named may be run is the list's business (exec_without_pty): a
 * listed program must not itself run programs named in its arguments (sh, env, nice, xargs...).
 */
#ifndef WSGATE_POLICY_CMDLINE_H
#define WSGATE_POLICY_CMDLINE_H

#include <stddef.h>

#include "policy/config.h"

/* If cmdline is one simple command with a bare program name (rules above), copies the name to
 * prog and returns 0; otherwise returns -1 (prog is then ""). */
int cmdline_program(const char *cmdline, char *prog, size_t proglen);

/* 1 if cmdline may run without a pty under cfg: the rule is off (exec_without_pty = *), or the
 * line names a program (cmdline_program) listed in exec_without_pty. 0 otherwise. */
int cmdline_program_allowed(const struct config *cfg, const char *cmdline);

#endif
