/*
 * protocol.h: the ntlmd protocol, spoken over a UNIX stream socket by
 * ntlmd and its clients (pam_ntlm, ntlm_auth, ntlmtool). docs/PROTOCOL.md
 * describes it field by field; this header holds the numbers.
 *
 * The client connects, writes one request frame and reads one reply frame.
 * It may then close, or write a further request on the same connection,
 * one at a time: the daemon reads no byte of a request before it has
 * written the reply to the previous one. The daemon closes a connection
 * idle between two requests for idle_timeout, after
 * max_requests_per_connection replies, and after any malformed frame; the
 * caller stays the one SO_PEERCRED named at connect.
 *
 *   frame   := header payload
 *   header  := magic "NTD" | version u8 (1) | type u16le | flags u16le (0)
 *              | payload_len u32le (<= NTLMD_MAX_PAYLOAD)            (12 bytes)
 *   payload := field*
 *   field   := tag u16le | len u32le | value[len]
 *
 * Every value is bytes; integers are little-endian of the size the tag
 * says; strings are UTF-8 without NUL. A tag appears at most once, and a
 * frame has at most NTLMD_MAX_FIELDS fields. A
 * receiver ignores tags it does not know (the protocol grows by adding
 * tags) but refuses a frame whose fields do not exactly fill the payload.
 * A reply has type = request type | NTLMD_REPLY and always starts with
 * NTLMD_TAG_STATUS (u32: the NTSTATUS code of enum ntlm_status, see
 * ntlm_status_code()) and NTLMD_TAG_STATUS_NAME.
 */
#ifndef PAM_NTLM_PROTOCOL_H
#define PAM_NTLM_PROTOCOL_H

#include "ntlmssp.h"

#define NTLMD_MAGIC       "NTD"
#define NTLMD_VERSION     1u
#define NTLMD_HEADER_LEN  12u
#define NTLMD_MAX_PAYLOAD 65536u /* hard cap on a frame's payload */
#define NTLMD_MAX_STRING  1024u  /* cap on any string field */
#define NTLMD_MAX_FIELDS  256u   /* cap on the fields of one frame */
#define NTLMD_REPLY       0x8000u

/* Request types. Access: A = anyone, P = privileged callers only (root,
 * allow_users, allow_groups), R = root only. */
enum ntlmd_request_type {
	NTLMD_REQ_PING = 1,             /* A: liveness, version, counters */
	NTLMD_REQ_CHALLENGE = 2,        /* P: CHALLENGE for a NEGOTIATE; remembered */
	NTLMD_REQ_VERIFY = 3,           /* P: verify NEGOTIATE/CHALLENGE/AUTHENTICATE */
	NTLMD_REQ_VERIFY_RESPONSE = 4,  /* P: bare challenge/response (MS-CHAP) */
	NTLMD_REQ_CHECK_PASSWORD = 5,   /* P: plaintext password */
	NTLMD_REQ_ACCOUNT_STATUS = 6,   /* P: account policy for a user */
	NTLMD_REQ_CHANGE_PASSWORD = 7,  /* P: old password required unless root */
	NTLMD_REQ_CHECK_MEMBERSHIP = 8, /* P: is a user in a group of a store's group search */
	NTLMD_REQ_SYNC_PASSWORD = 9,    /* R: store a password's NT hash unless it is stored
	                                   already (pam_ntlm migrate); no lockout, no oracle */
	NTLMD_REQ_STATS = 10,           /* P: counters, histograms, the stores' state (stats.h) */
};

/* Field tags. */
enum ntlmd_tag {
	/* replies */
	NTLMD_TAG_STATUS = 1,      /* u32: NTSTATUS code */
	NTLMD_TAG_STATUS_NAME = 2, /* string: "STATUS_WRONG_PASSWORD" */
	NTLMD_TAG_MESSAGE = 3,     /* string: one human sentence */

	/* context of a request */
	NTLMD_TAG_SERVICE = 10,        /* string: PAM service name, "squid", ... */
	NTLMD_TAG_CLIENT_ADDRESS = 11, /* string: the end user's address, for audit and lockout */

	/* NTLMSSP */
	NTLMD_TAG_NEGOTIATE = 20,         /* bytes */
	NTLMD_TAG_CHALLENGE = 21,         /* bytes */
	NTLMD_TAG_AUTHENTICATE = 22,      /* bytes */
	NTLMD_TAG_CB_APPLICATION = 23,    /* bytes: gss_channel_bindings_struct application data */
	NTLMD_TAG_CB_INITIATOR_ADDR = 24, /* bytes: u32le addrtype then address */
	NTLMD_TAG_CB_ACCEPTOR_ADDR = 25,  /* bytes: u32le addrtype then address */

	/* names and secrets of the bare requests */
	NTLMD_TAG_USER = 30,             /* string without control characters (C0, DEL, C1) */
	NTLMD_TAG_DOMAIN = 31,           /* as USER */
	NTLMD_TAG_WORKSTATION = 32,      /* as USER */
	NTLMD_TAG_SERVER_CHALLENGE = 33, /* 8 bytes */
	NTLMD_TAG_LM_RESPONSE = 34,      /* bytes */
	NTLMD_TAG_NT_RESPONSE = 35,      /* bytes */
	NTLMD_TAG_PASSWORD = 36,         /* string: wiped after use */
	NTLMD_TAG_NEW_PASSWORD = 37,     /* string: wiped after use */
	NTLMD_TAG_MSCHAPV2 = 38,         /* u8: 1 when the response is MS-CHAPv2's */
	NTLMD_TAG_CREATE = 39,           /* u8: CHANGE_PASSWORD by root, SYNC_PASSWORD: 1 adds a
	                                    missing user */
	NTLMD_TAG_GROUP = 40,            /* string: CHECK_MEMBERSHIP's group name, or a SID */
	NTLMD_TAG_EXACT_NAME = 41,       /* u8: 1 = USER is a login name: the account must carry
	                                    that name byte for byte, else STATUS_NO_SUCH_USER */

	/* results */
	NTLMD_TAG_AUTH_USER = 50,        /* string: the account's domain and name formatted per
	                                    user_name_format (never the client's spelling) */
	NTLMD_TAG_AUTH_DOMAIN = 51,      /* string: the domain the client sent (informative) */
	NTLMD_TAG_RESPONSE_TYPE = 52,    /* string: "NTLMv2", "NTLMv1-ESS", ... */
	NTLMD_TAG_FLAGS = 53,            /* u32: negotiated flags */
	NTLMD_TAG_MIC = 54,              /* string verdict: absent | valid | invalid | unchecked */
	NTLMD_TAG_CHANNEL_BINDINGS = 55, /* string verdict */
	NTLMD_TAG_TARGET_NAME = 56,      /* string verdict */
	NTLMD_TAG_CLIENT_SPN = 57,       /* string: the client's MsvAvTargetName */
	NTLMD_TAG_SESSION_KEY = 58,      /* 16 bytes: ExportedSessionKey / NT session key */
	NTLMD_TAG_ACCOUNT_FLAGS = 59,    /* string: account-control letters */
	NTLMD_TAG_VERSION = 60,          /* string: ntlmd version (PING) */
	NTLMD_TAG_UID = 61,              /* u32: the account's uid */
	NTLMD_TAG_MEMBER = 62,           /* u8: CHECK_MEMBERSHIP: 1 member, 0 not */
	NTLMD_TAG_ACCOUNT_NAME = 63,     /* string: the account's name as its store spells it */
	NTLMD_TAG_ACCOUNT_DOMAIN = 64,   /* string: the account's domain (files: netbios_domain;
	                                    ldap: the entry's sambaDomain) */
	NTLMD_TAG_PASSWORD_STORED = 65,  /* u8: SYNC_PASSWORD: 0 the stored hash was the
	                                    password's already, 1 updated, 2 user added */
	NTLMD_TAG_ACCOUNT_SID = 66,      /* string: the account's SID, "S-1-5-21-..." (files:
	                                    domain_sid and RID 2 * uid + 1000; ldap: sambaSID);
	                                    absent when the store knows none */

	/* PING counters, each u64, since start-up (added with ntlmd) */
	NTLMD_TAG_UPTIME = 70,             /* u64: seconds since start-up */
	NTLMD_TAG_REQUESTS = 71,           /* u64: requests answered */
	NTLMD_TAG_SUCCESSES = 72,          /* u64: decisions that succeeded */
	NTLMD_TAG_FAILURES = 73,           /* u64: authentication failures */
	NTLMD_TAG_ERRORS = 74,             /* u64: malformed requests and internal errors */
	NTLMD_TAG_REFUSED = 75,            /* u64: connections closed without an answer */
	NTLMD_TAG_CONNECTIONS = 76,        /* u64: connections open now */
	NTLMD_TAG_CHALLENGES = 77,         /* u64: server challenges remembered now */
	NTLMD_TAG_LOCKOUTS = 78,           /* u64: users and addresses with failure counters */
	NTLMD_TAG_STORE_WAITING = 79,      /* u64: requests waiting for a store worker now */
	NTLMD_TAG_STORE_CALLS = 80,        /* u64: store calls sent to a worker */
	NTLMD_TAG_STORE_TIMEOUTS = 81,     /* u64: requests answered at store_timeout */
	NTLMD_TAG_LATE_ANSWERS = 82,       /* u64: store answers after their deadline, dropped */
	NTLMD_TAG_WRITEBACKS = 83,         /* u64: lockout write-backs run */
	NTLMD_TAG_WRITEBACKS_DROPPED = 84, /* u64: write-backs not run: too many waiting */
	NTLMD_TAG_STORE_CANCELLED = 85,    /* u64: store calls taken back unrun: nobody waited */

	/* STATS (with VERSION, UPTIME and the PING counters); the encodings
	 * of counts, histogram and stores are in common/stats.h */
	NTLMD_TAG_STATS_REQUESTS = 90,         /* counts: requests answered by type ("VERIFY") */
	NTLMD_TAG_STATS_OUTCOMES = 91,         /* counts: decisions by outcome ("success", "failure",
	                                          "malformed", "error") */
	NTLMD_TAG_STATS_STATUSES = 92,         /* counts: replies by status name */
	NTLMD_TAG_STATS_RESPONSE_TYPES = 93,   /* counts: verified responses by type ("NTLMv2", "LM",
	                                          "MS-CHAPv2", ...) */
	NTLMD_TAG_STATS_MIC = 94,              /* counts: NTLMSSP exchanges by MIC verdict */
	NTLMD_TAG_STATS_CHANNEL_BINDINGS = 95, /* counts: by channel-bindings verdict */
	NTLMD_TAG_STATS_STORE_SECONDS = 96,    /* histogram: store calls' time in a worker */
	NTLMD_TAG_STATS_REQUEST_SECONDS = 97,  /* histogram: requests' time, start to reply */
	NTLMD_TAG_STATS_STORES = 98,           /* stores: what each store reports (cache, servers) */
	NTLMD_TAG_CHALLENGE_CAPACITY = 99,     /* u64: max_challenges */
	NTLMD_TAG_STORE_WORKERS = 100,         /* u64: store_workers */
	NTLMD_TAG_STORE_BUSY = 101,            /* u64: workers running a call now */
	NTLMD_TAG_STORE_QUEUED = 102,          /* u64: calls queued for a worker now */
};

/* NTLMD_TAG_PASSWORD_STORED's values. */
enum ntlmd_password_stored {
	NTLMD_STORED_UNCHANGED = 0, /* the stored NT hash was the password's: nothing written */
	NTLMD_STORED_UPDATED = 1,   /* another hash was stored: the password's written */
	NTLMD_STORED_ADDED = 2,     /* no store held the user: added (CREATE 1) */
};

#endif /* PAM_NTLM_PROTOCOL_H */
