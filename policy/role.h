/* The roles of SPEC "Who uses it". Apart from account.h so that the network worker, which must
 * decide what a channel may request, never includes the store's headers. */
#ifndef WSGATE_ROLE_H
#define WSGATE_ROLE_H

enum role { ROLE_ANALYST = 1, ROLE_STATS = 2, ROLE_ADMIN = 3 };

const char *role_name(enum role r);
/* Returns 0 and the role named s ("analyst", "stats", "admin"), or -1. */
int role_parse(const char *s, enum role *out);

#endif
