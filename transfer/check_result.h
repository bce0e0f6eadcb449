/*
 * The verdict of the publication checks, stored with each request (transfer/queue.h) and given
 * by the checker (transfer/check.h). Its own header, so that the checker, which runs confined,
 * includes nothing of the queue or the database.
 */
#ifndef WSGATE_CHECK_RESULT_H
#define WSGATE_CHECK_RESULT_H

enum check_result { CHECK_NONE = 0, CHECK_PASS = 1, CHECK_WARN = 2, CHECK_FAIL = 3 };

/* "none", "pass", "warn", "fail" */
const char *check_result_name(int result);

#endif
