/* The number of elements of an array (OpenBSD's nitems() from <sys/param.h>, which glibc lacks). */
#ifndef WSGATE_NITEMS_H
#define WSGATE_NITEMS_H

#ifndef nitems
#define nitems(a) (sizeof(a) / sizeof((a)[0]))
#endif

#endif
