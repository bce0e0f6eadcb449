/*
 * libFuzzer target for config_load: the input is written to a memfd and loaded as a file.
 * Besides the sanitizers, it checks the loader's promises: on success every list is within its
 * bounds and every zone complete; on failure one non-empty line naming the file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/names.h"
#include "policy/config.h"

static int memfd = -1;
static char path[64];

static void
check_config(const struct config *cfg)
{
	size_t i;

	if (cfg->nlisten < 1 || cfg->nlisten > CONFIG_MAX_LISTEN ||
	    cfg->nzones > CONFIG_MAX_ZONES || cfg->nexport_types < 1 ||
	    cfg->nexport_types > CONFIG_MAX_TYPES || cfg->nfacilities > CONFIG_MAX_FACILITIES)
		abort();
	if (cfg->state_dir[0] != '/' || cfg->host_key[0] != '/' || cfg->max_sessions == 0 ||
	    cfg->idle_timeout == 0 || cfg->min_cell_count == 0)
		abort();
	for (i = 0; i < cfg->nzones; i++) {
		const struct zone *z = &cfg->zones[i];

		if (!name_valid(z->name) || !name_valid(z->area) || z->nnets < 1 ||
		    z->nnets > CONFIG_MAX_NETS || config_zone_by_name(cfg, z->name) != z)
			abort();
		for (size_t j = 0; j < z->nnets; j++) {
			unsigned bits = z->nets[j].family == AF_INET ? 32 : 128;

			if ((z->nets[j].family != AF_INET && z->nets[j].family != AF_INET6) ||
			    z->nets[j].prefix > bits)
				abort();
		}
	}
	for (i = 0; i < cfg->nfacilities; i++)
		if (memchr(cfg->facilities[i], '\0', sizeof(cfg->facilities[i])) == NULL ||
		    cfg->facilities[i][0] == '\0')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char why[512];

	if (memfd < 0) {
		memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
		/* memfds are created 0777; the loader refuses world-writable files */
		if (memfd < 0 || fchmod(memfd, 0600) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	if (config_load(path, &cfg, why, sizeof(why)) == 0) {
		check_config(cfg);
		config_free(cfg);
	} else {
		if (cfg != NULL || why[0] == '\0' || strchr(why, '\n') ||
		    strncmp(why, path, strlen(path)) != 0)
			abort();
	}
	return 0;
}
