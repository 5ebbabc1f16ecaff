/*
 * clock.c: FILETIME helpers (MS-DTYP 2.3.3: 100 ns ticks since 1601-01-01).
 */
#include "internal.h"

#include <time.h>

/* Seconds between 1601-01-01 and 1970-01-01 */
#define FILETIME_UNIX_EPOCH 11644473600LL
#define FILETIME_TICKS      10000000LL

uint64_t ntlm_filetime_from_unix(int64_t seconds)
{
	if (seconds < -FILETIME_UNIX_EPOCH)
		return 0;
	return (uint64_t)(seconds + FILETIME_UNIX_EPOCH) * (uint64_t)FILETIME_TICKS;
}

int64_t ntlm_filetime_to_unix(uint64_t filetime)
{
	return (int64_t)(filetime / (uint64_t)FILETIME_TICKS) - FILETIME_UNIX_EPOCH;
}

uint64_t ntlm_filetime_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return ntlm_filetime_from_unix((int64_t)ts.tv_sec) + (uint64_t)ts.tv_nsec / 100u;
}
