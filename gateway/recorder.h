/*
 * The worker's half of session recordings (common/recording.h): each chunk it relays, as it
 * relays it, becomes one asciicast event line written to the monitor's pipe. Worker only.
 */
#ifndef WSGATE_RECORDER_H
#define WSGATE_RECORDER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct recorder {
	int fd; /* the pipe's write end, or -1: not recorded */
	struct timespec t0;
	uint64_t bytes[2]; /* recorded so far: [0] output ('o'), [1] input ('i') */
};

void recorder_start(struct recorder *r, int fd);
/* Writes an 'o' (to the client) or 'i' (from the client) event. Returns 0 (also when not
 * recording), or -1 if the pipe broke: the channel must then end, as an unrecorded session of
 * a recorded role must not go on. */
int recorder_event(struct recorder *r, char code, const uint8_t *p, size_t n);
void recorder_close(struct recorder *r);

#endif
