/* libFuzzer target: smbpasswd_parse_line (backends/smbpasswd.c). The line is
 * copied to a buffer of its exact size, without a NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smbpasswd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smbpasswd_entry e;
	const char *reason = NULL;
	char *line;

	if (size > 65536 || (line = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(line, data, size);
	if (smbpasswd_parse_line(line, size, &e, &reason) == NTLM_OK) {
		(void)smbpasswd_entry_has_flag(&e, 'D');
		smbpasswd_entry_clear(&e);
	}
	free(line);
	return 0;
}
