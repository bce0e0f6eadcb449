/* Logging and fatal errors: one line per message, prefixed by the program name. */
#ifndef WSGATE_LOG_H
#define WSGATE_LOG_H

#include <syslog.h>

/* to_stderr = 1: messages go to stderr (foreground daemon, CLI tools); else syslog. */
void log_init(const char *progname, int to_stderr);
const char *log_progname(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "prog: message" and exits 1. For entry points only; library code returns errors. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Same as fatal() with ": strerror(errno)" appended. */
void fatal_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* As OpenSSH's fatal_f()/error_f(): the same, prefixed with the calling function's name, so no
 * message needs a hand-typed "module: " prefix. */
#define fatal_f(fmt, ...) fatal("%s: " fmt, __func__, ##__VA_ARGS__)
#define fatal_errno_f(fmt, ...) fatal_errno("%s: " fmt, __func__, ##__VA_ARGS__)
#define log_err_f(fmt, ...) log_msg(LOG_ERR, "%s: " fmt, __func__, ##__VA_ARGS__)
#define log_warn_f(fmt, ...) log_msg(LOG_WARNING, "%s: " fmt, __func__, ##__VA_ARGS__)
#define log_info_f(fmt, ...) log_msg(LOG_INFO, "%s: " fmt, __func__, ##__VA_ARGS__)

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
