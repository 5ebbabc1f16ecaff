/*
 * fuzz_helper.h: the common part of the fuzz targets of ntlm_auth's line
 * protocols (fuzz_helper_*.c). The input's first byte chooses the options
 * and the fake daemon's verdicts; the rest is split at LF into request
 * lines, each fed to na_helper_line(). The fake daemon answers as ntlmd
 * would: a real CHALLENGE (libntlmssp's acceptor), and for the verifying
 * requests success (with a user, flags, a uid and a session key) or a
 * failure, by the selector bits and a counter.
 */
#ifndef PAM_NTLM_FUZZ_HELPER_H
#define PAM_NTLM_FUZZ_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "helper.h"
#include "protocol.h"

struct fake_daemon {
	uint8_t selector;
	unsigned calls;
};

static enum ntlm_status fake_call(void *ctx, uint16_t type, const struct ntlm_writer *request,
                                  struct ntlmd_reply *ret)
{
	static const struct ntlm_server_names names = {.nb_computer = "FUZZSRV", .nb_domain = "FUZZDOM"};
	static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct fake_daemon *d = ctx;
	struct ntlm_writer fields;
	struct ntlmd_frame req = {0};
	enum ntlm_status verdict, st;
	unsigned call = d->calls++;

	if ((d->selector & 0x80) != 0 && call % 5 == 4)
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	/* the request must be a well-formed payload */
	if ((st = ntlmd_payload_decode(type, request->data, request->len, &req)) != NTLM_OK)
		return st;
	ntlmd_fields_init(&fields);
	if (type == NTLMD_REQ_CHALLENGE) {
		const uint8_t *neg = NULL;
		size_t neg_len = 0;
		uint8_t *chal = NULL;
		size_t chal_len = 0;

		if (ntlmd_frame_has(&req, NTLMD_TAG_NEGOTIATE) &&
		    ntlmd_frame_get_bytes(&req, NTLMD_TAG_NEGOTIATE, &neg, &neg_len) != NTLM_OK)
			neg = NULL;
		verdict =
		    ntlm_acceptor_challenge(&names, neg, neg_len, ntlm_filetime_now(), &chal, &chal_len);
		if (verdict == NTLM_OK)
			ntlmd_put_bytes(&fields, NTLMD_TAG_CHALLENGE, chal, chal_len);
		free(chal);
	} else {
		static const enum ntlm_status verdicts[] = {NTLM_OK,
		                                            NTLM_STATUS_WRONG_PASSWORD,
		                                            NTLM_STATUS_NO_SUCH_USER,
		                                            NTLM_STATUS_ACCOUNT_DISABLED,
		                                            NTLM_ERR_TRUNCATED,
		                                            NTLM_STATUS_CHALLENGE_EXPIRED};

		verdict = verdicts[(d->selector + call) % (sizeof(verdicts) / sizeof(verdicts[0]))];
		ntlmd_put_string(&fields, NTLMD_TAG_USER, "user");
		if (verdict == NTLM_OK) {
			ntlmd_put_string(&fields, NTLMD_TAG_AUTH_USER, "FUZZDOM\\user");
			ntlmd_put_u32(&fields, NTLMD_TAG_FLAGS, 0xe2088235u);
			ntlmd_put_u32(&fields, NTLMD_TAG_UID, 65534);
			ntlmd_put_bytes(&fields, NTLMD_TAG_SESSION_KEY, key, sizeof(key));
		}
	}
	ntlmd_frame_clear(&req);
	return ntlmd_reply_make(type, verdict, &fields, ret);
}

/* Runs the lines of data[1..size) through a helper of protocol. */
static int fuzz_helper_lines(enum na_protocol protocol, const uint8_t *data, size_t size)
{
	struct fake_daemon d = {0};
	struct na_options opt = {0};
	struct na_helper h;
	size_t start = 1;

	if (size < 1 || size > 256 * 1024)
		return 0;
	d.selector = data[0];
	opt.protocol = protocol;
	opt.quiet = true;
	opt.kv_replies = (data[0] & 1) != 0;
	opt.channel_ids = (data[0] & 2) != 0;
	opt.service = "fuzz";
	opt.username = "user";
	opt.domain = "FUZZDOM";
	opt.password = (data[0] & 4) != 0 ? "Passw0rd" : NULL;
	if ((data[0] & 8) != 0) {
		opt.require_group = true;
		opt.group_error = (data[0] & 16) != 0;
		opt.group_gid = 65534;
	}
	na_helper_init(&h, &opt, fake_call, &d);
	while (start <= size) {
		const uint8_t *nl = start < size ? memchr(data + start, '\n', size - start) : NULL;
		size_t end = nl != NULL ? (size_t)(nl - data) : size;
		struct na_buf out = {0};

		if (end > start || nl != NULL) {
			na_helper_line(&h, (const char *)data + start, end - start, &out);
			/* every reply is whole lines */
			if (!out.failed && out.len > 0 && out.p[out.len - 1] != '\n')
				abort();
			/* ntlm-server-1: one reply per block, at its "." alone */
			if (protocol == NA_PROTO_NTLM_SERVER_1 && !out.failed) {
				size_t n = end - start;
				bool dot = (n == 1 && data[start] == '.') ||
				           (n == 2 && data[start] == '.' && data[start + 1] == '\r');

				if (dot != (out.len > 0))
					abort();
			}
		}
		na_buf_clear(&out);
		start = end + 1;
	}
	na_helper_clear(&h);
	return 0;
}

#endif /* PAM_NTLM_FUZZ_HELPER_H */
