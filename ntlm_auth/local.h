/*
 * local.h: the server helpers' test mode (--password with
 * squid-2.5-ntlmssp, gss-spnego, ntlm-server-1): the client's responses are
 * checked against that password here, as Samba's ntlm_auth does, instead of
 * by ntlmd. See local.c.
 */
#ifndef PAM_NTLM_NTLM_AUTH_LOCAL_H
#define PAM_NTLM_NTLM_AUTH_LOCAL_H

#include "helper.h"

#define NA_LOCAL_NAME_MAX 15u /* a NetBIOS name */

struct na_local {
	const char *password; /* the caller's --password */
	char separator;       /* of the DOMAIN<sep>user names reported */
	char nb_name[NA_LOCAL_NAME_MAX + 1];
	/* the questions this mode does not answer (CHECK_PASSWORD, group
	 * searches) go here: ntlmd */
	na_call_fn fallback;
	void *fallback_ctx;
};

/* na_call_fn: CHALLENGE, VERIFY and VERIFY_RESPONSE answered locally
 * against l->password; the other requests go to l->fallback. */
enum ntlm_status na_local_call(void *ctx, uint16_t type, const struct ntlm_writer *fields,
                               struct ntlmd_reply *ret);

#endif /* PAM_NTLM_NTLM_AUTH_LOCAL_H */
