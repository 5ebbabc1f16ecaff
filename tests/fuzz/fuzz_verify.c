/*
 * libFuzzer target: the whole ntlm_acceptor_verify path (MS-NLMP 3.2.5.1.2)
 * with a fixed account store (NTOWFv1("Password") for every user) and a
 * fixed clock.
 *
 * Input: one mode byte (bit 0: permissive policy instead of the default;
 * bit 1: no NEGOTIATE), then NEGOTIATE and CHALLENGE, each preceded by its
 * length (u16le), then the AUTHENTICATE (the rest).
 */
#include <stddef.h>
#include <stdint.h>

#include "ntlmssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum ntlm_status lookup(void *ctx, const char *user, const char *domain, struct ntlm_credentials *ret)
{
	(void)ctx;
	(void)user;
	(void)domain;
	*ret = (struct ntlm_credentials){.account_status = NTLM_OK};
	return ntlm_ntowfv1("Password", &ret->nt_hash);
}

/* One length-prefixed part; false when the input is too short. */
static bool take(const uint8_t **p, size_t *left, const uint8_t **ret, size_t *ret_len)
{
	size_t n;

	if (*left < 2)
		return false;
	n = (size_t)(*p)[0] | (size_t)(*p)[1] << 8;
	if (*left - 2 < n)
		return false;
	*ret = *p + 2;
	*ret_len = n;
	*p += 2 + n;
	*left -= 2 + n;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntlm_policy policy;
	struct ntlm_accept_result result = {0};
	const uint8_t *p, *neg, *chal;
	size_t left, neg_len, chal_len;
	uint8_t mode;

	if (size < 1 || size > 65536)
		return 0;
	mode = data[0];
	p = data + 1;
	left = size - 1;
	if (!take(&p, &left, &neg, &neg_len) || !take(&p, &left, &chal, &chal_len))
		return 0;
	ntlm_policy_init(&policy);
	if (mode & 1) {
		policy.allow_lm = policy.allow_ntlmv1 = policy.allow_ntlmv1_ess = true;
		policy.allow_lmv2 = policy.allow_anonymous = true;
		policy.check_av_echo = false;
		policy.channel_bindings = NTLM_CB_OFF;
		policy.max_clock_skew = 0;
	}
	(void)ntlm_acceptor_verify(&policy, (mode & 2) ? NULL : neg, (mode & 2) ? 0 : neg_len, chal, chal_len,
	                           p, left, NULL, lookup, NULL, ntlm_filetime_from_unix(1795305600), &result);
	ntlm_accept_result_clear(&result);
	return 0;
}
