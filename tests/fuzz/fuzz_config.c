/* libFuzzer target: ntlmd_config_load (common/ntlmd_conf.c) on the input
 * written to a memfd and read through its /proc/self/fd path. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ntlmd_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntlmd_config cfg = {0};
	struct ntlmd_config_error errors[4];
	size_t n_errors;
	char path[64];
	int fd;

	if (size > 65536 || (fd = memfd_create("fuzz-ntlmd.conf", MFD_CLOEXEC)) < 0)
		return 0;
	if (size == 0 || write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (ntlmd_config_load(path, &cfg, errors, 4, &n_errors) == NTLM_OK)
			(void)ntlmd_config_policy(&cfg, "sshd");
		ntlmd_config_clear(&cfg);
	}
	close(fd);
	return 0;
}
