/*
 * Benchmark, run on demand (not a test): config_load of a large policy (64 zones x 64
 * networks) and config_zone_for's worst case, a source in no zone, which every connection
 * pays before the banner.
 *   cmake --build build --target bench_config && ./build/bin/bench_config
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "policy/config.h"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(void)
{
	char path[] = "/tmp/bench_config.XXXXXX", why[512];
	struct config *cfg = NULL;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	const struct zone *z = NULL;
	const int loads = 200;
	const long lookups = 200000;
	double t0;
	FILE *f;
	int fd, i, j;

	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		return 1;
	for (i = 0; i < CONFIG_MAX_ZONES; i++) {
		fprintf(f, "[zone z%d]\narea = a\nnetworks = 10.%d.0.0/24\n", i, i);
		for (j = 1; j < CONFIG_MAX_NETS; j++)
			fprintf(f, "  2001:db8:%x:%x::/64\n", i, j);
	}
	if (fclose(f) != 0)
		return 1;

	t0 = now();
	for (i = 0; i < loads; i++) {
		config_free(cfg);
		if (config_load(path, &cfg, why, sizeof(why)) != 0) {
			fprintf(stderr, "%s\n", why);
			return 1;
		}
	}
	printf("config_load, %d zones x %d networks: %.0f us per load\n", CONFIG_MAX_ZONES,
	       CONFIG_MAX_NETS, (now() - t0) / loads * 1e6);

	inet_pton(AF_INET, "192.168.1.1", &sin.sin_addr);
	t0 = now();
	for (long n = 0; n < lookups; n++)
		z = config_zone_for(cfg, (const struct sockaddr *)&sin);
	printf("config_zone_for, address in no zone (%d networks): %.2f us per lookup%s\n",
	       CONFIG_MAX_ZONES * CONFIG_MAX_NETS, (now() - t0) / (double)lookups * 1e6,
	       z ? " (unexpected match)" : "");
	config_free(cfg);
	unlink(path);
	return 0;
}
