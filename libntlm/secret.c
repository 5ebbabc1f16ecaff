/*
 * secret.c: wiping, constant-time comparison and randomness.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

void ntlm_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

/* Kept out of line, even under link-time optimisation: the compiler then
 * cannot specialise the loop at a call site (an early exit on a known
 * length), and tests/harden/test-ct.sh can wrap it as the one place where
 * the result of a comparison of secrets becomes public. */
#if defined(__GNUC__) && !defined(__clang__)
#define NTLM_OPAQUE __attribute__((noipa))
#else
#define NTLM_OPAQUE __attribute__((noinline))
#endif

/* OR of the XORs of all bytes, so the time depends on n only (Monocypher
 * style); the final comparison is on a value that holds no secret bits
 * beyond equal / not equal. */
NTLM_OPAQUE bool ntlm_equal_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff = (uint8_t)(diff | (x[i] ^ y[i]));
	return diff == 0;
}

enum ntlm_status ntlm_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return NTLM_ERR_CRYPTO;
		}
		p += got;
		n -= (size_t)got;
	}
	return NTLM_OK;
}

void ntlm_free_wiped(void *p, size_t len)
{
	ntlm_wipe(p, len);
	free(p);
}

void ntlm_free_string(char *s)
{
	if (s != NULL)
		ntlm_free_wiped(s, strlen(s));
}

void ntlm_clear_struct(void *obj, size_t size, char *const *strings, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ntlm_free_string(strings[i]);
	ntlm_wipe(obj, size);
}
