/*
 * diagnostics.h: --diagnostics (Samba's diagnose_ntlm_auth()): responses
 * computed from --password are verified by ntlmd. See diagnostics.c.
 */
#ifndef PAM_NTLM_NTLM_AUTH_DIAGNOSTICS_H
#define PAM_NTLM_NTLM_AUTH_DIAGNOSTICS_H

#include <stdbool.h>

#include "helper.h"

struct na_diagnostics {
	const char *user, *domain, *password;
	const char *service;
	bool request_lm_key; /* also the LM test */
	na_call_fn call;     /* ntlmd */
	void *call_ctx;
};

/* Runs the tests; 0 when all that ntlmd's policy permits passed, else 1. */
int na_diagnostics_run(const struct na_diagnostics *d);

#endif /* PAM_NTLM_NTLM_AUTH_DIAGNOSTICS_H */
