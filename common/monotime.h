/* Milliseconds on the monotonic clock, for deadlines and timers that a change of the wall clock
 * must not stretch or cut short. */
#ifndef WSGATE_MONOTIME_H
#define WSGATE_MONOTIME_H

#include <stdint.h>

int64_t mono_ms(void);

#endif
