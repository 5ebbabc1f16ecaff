/*
 * error.c: names, codes and messages of enum ntlm_status.
 */
#include "internal.h"

struct status_info {
	const char *name;
	uint32_t code;
	const char *message;
};

/* Designated initialisers keep every entry next to its enum value; the
 * static assertion below and the unit test catch a missing one. Codes in
 * 0xE0A7xxxx are customer codes (MS-ERREF 2.3.1, C bit set) for outcomes
 * Windows has no NTSTATUS for. */
static const struct status_info statuses[_NTLM_STATUS_MAX] = {
    [NTLM_OK] = {"STATUS_SUCCESS", 0x00000000u, "success"},

    [NTLM_ERR_TRUNCATED] = {"STATUS_NTLM_TRUNCATED", 0xE0A70001u, "the message ends before a field it needs"},
    [NTLM_ERR_BAD_SIGNATURE] = {"STATUS_NTLM_BAD_SIGNATURE", 0xE0A70002u,
                                "the message does not start with the NTLMSSP signature"},
    [NTLM_ERR_WRONG_MESSAGE_TYPE] = {"STATUS_NTLM_WRONG_MESSAGE_TYPE", 0xE0A70003u,
                                     "the message is not of the type expected at this step"},
    [NTLM_ERR_FIELD_OUT_OF_BOUNDS] = {"STATUS_NTLM_FIELD_OUT_OF_BOUNDS", 0xE0A70004u,
                                      "a field's offset or length points outside the message"},
    [NTLM_ERR_FIELD_OVERLAP] = {"STATUS_NTLM_FIELD_OVERLAP", 0xE0A70005u,
                                "a payload field overlaps the fixed header"},
    [NTLM_ERR_MESSAGE_TOO_LONG] = {"STATUS_NTLM_MESSAGE_TOO_LONG", 0xE0A70006u,
                                   "the message is longer than the 2888-byte limit"},
    [NTLM_ERR_BAD_STRING] = {"STATUS_NTLM_BAD_STRING", 0xE0A70007u,
                             "a name is not valid UTF-16 or OEM text, or contains NUL"},
    [NTLM_ERR_STRING_TOO_LONG] = {"STATUS_NTLM_STRING_TOO_LONG", 0xE0A70008u,
                                  "a name is longer than allowed"},
    [NTLM_ERR_BAD_AV_PAIR] = {"STATUS_NTLM_BAD_AV_PAIR", 0xE0A70009u, "the AV_PAIR list is malformed"},
    [NTLM_ERR_BAD_RESPONSE] = {"STATUS_NTLM_BAD_RESPONSE", 0xE0A7000Au,
                               "the challenge response has a length no response type has"},
    [NTLM_ERR_TRAILING_DATA] = {"STATUS_NTLM_TRAILING_DATA", 0xE0A7000Bu,
                                "unexpected bytes follow the end of the data"},
    [NTLM_ERR_BAD_ENCODING] = {"STATUS_NTLM_BAD_ENCODING", 0xE0A7000Cu,
                               "the input is not valid base64 or hex"},
    [NTLM_ERR_CONTROL_CHARACTER] = {"STATUS_NTLM_CONTROL_CHARACTER", 0xE0A7000Du,
                                    "a user, domain or workstation name holds a control character"},

    [NTLM_STATUS_WRONG_PASSWORD] = {"STATUS_WRONG_PASSWORD", 0xC000006Au, "the password does not match"},
    [NTLM_STATUS_NO_SUCH_USER] = {"STATUS_NO_SUCH_USER", 0xC0000064u, "no such user"},
    [NTLM_STATUS_LOGON_FAILURE] = {"STATUS_LOGON_FAILURE", 0xC000006Du, "logon failure"},
    [NTLM_STATUS_ACCOUNT_DISABLED] = {"STATUS_ACCOUNT_DISABLED", 0xC0000072u, "the account is disabled"},
    [NTLM_STATUS_ACCOUNT_LOCKED_OUT] = {"STATUS_ACCOUNT_LOCKED_OUT", 0xC0000234u,
                                        "the account is locked out"},
    [NTLM_STATUS_ACCOUNT_EXPIRED] = {"STATUS_ACCOUNT_EXPIRED", 0xC0000193u, "the account has expired"},
    [NTLM_STATUS_PASSWORD_EXPIRED] = {"STATUS_PASSWORD_EXPIRED", 0xC0000071u, "the password has expired"},
    [NTLM_STATUS_PASSWORD_MUST_CHANGE] = {"STATUS_PASSWORD_MUST_CHANGE", 0xC0000224u,
                                          "the password must be changed before logging on"},
    [NTLM_STATUS_INVALID_LOGON_HOURS] = {"STATUS_INVALID_LOGON_HOURS", 0xC000006Fu,
                                         "the account may not log on at this time"},
    [NTLM_STATUS_INVALID_WORKSTATION] = {"STATUS_INVALID_WORKSTATION", 0xC0000070u,
                                         "the account may not log on from this workstation"},
    [NTLM_STATUS_ACCOUNT_RESTRICTION] = {"STATUS_ACCOUNT_RESTRICTION", 0xC000006Eu,
                                         "an account restriction prevents this logon"},
    [NTLM_STATUS_NOLOGON_TRUST_ACCOUNT] = {"STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT", 0xC0000199u,
                                           "trust accounts may not log on interactively"},
    [NTLM_STATUS_NTLM_BLOCKED] = {"STATUS_NTLM_BLOCKED", 0xC0000418u,
                                  "the response type is refused by policy"},
    [NTLM_STATUS_ANONYMOUS_REFUSED] = {"STATUS_NTLM_ANONYMOUS_REFUSED", 0xE0A70101u,
                                       "anonymous logons are refused by policy"},
    [NTLM_STATUS_DOWNGRADE_DETECTED] = {"STATUS_DOWNGRADE_DETECTED", 0xC0000388u,
                                        "negotiate flags required by policy are missing"},
    [NTLM_STATUS_TIME_SKEW] = {"STATUS_TIME_DIFFERENCE_AT_DC", 0xC0000133u,
                               "the client's timestamp is further from the server clock than allowed"},
    [NTLM_STATUS_MIC_MISSING] = {"STATUS_NTLM_MIC_MISSING", 0xE0A70102u,
                                 "the message integrity code is required but absent"},
    [NTLM_STATUS_MIC_INVALID] = {"STATUS_NTLM_MIC_INVALID", 0xE0A70103u,
                                 "the message integrity code does not match: the messages were altered"},
    [NTLM_STATUS_BAD_BINDINGS] = {"STATUS_BAD_BINDINGS", 0xC000035Bu,
                                  "the channel bindings do not match this channel"},
    [NTLM_STATUS_BINDINGS_MISSING] = {"STATUS_NTLM_BINDINGS_MISSING", 0xE0A70104u,
                                      "channel bindings are required but the client sent none"},
    [NTLM_STATUS_TARGET_NAME_MISMATCH] = {"STATUS_NTLM_TARGET_NAME_MISMATCH", 0xE0A70105u,
                                          "the client's target name (SPN) is not one this service accepts"},
    [NTLM_STATUS_AV_PAIRS_ALTERED] = {"STATUS_NTLM_AV_PAIRS_ALTERED", 0xE0A70106u,
                                      "the server's AV pairs did not come back unchanged"},
    [NTLM_STATUS_CHALLENGE_MISMATCH] = {"STATUS_NTLM_CHALLENGE_MISMATCH", 0xE0A70107u,
                                        "the response answers a different challenge"},
    [NTLM_STATUS_CHALLENGE_EXPIRED] = {"STATUS_NTLM_CHALLENGE_EXPIRED", 0xE0A70108u,
                                       "the challenge is unknown, already used or expired"},

    [NTLM_ERR_INVALID_ARGUMENT] = {"STATUS_INVALID_PARAMETER", 0xC000000Du, "invalid argument"},
    [NTLM_ERR_NO_MEMORY] = {"STATUS_NO_MEMORY", 0xC0000017u, "out of memory"},
    [NTLM_ERR_CRYPTO] = {"STATUS_NTLM_CRYPTO_FAILURE", 0xE0A70201u,
                         "a cryptographic operation failed (is OpenSSL's legacy provider installed?)"},
    [NTLM_ERR_BACKEND_UNAVAILABLE] = {"STATUS_NO_LOGON_SERVERS", 0xC000005Eu,
                                      "the account store is unavailable"},
    [NTLM_ERR_INTERNAL] = {"STATUS_INTERNAL_ERROR", 0xC00000E5u, "internal error"},
    [NTLM_ERR_INSUFFICIENT_RESOURCES] = {"STATUS_INSUFFICIENT_RESOURCES", 0xC000009Au,
                                         "a resource limit of the daemon is reached; try again later"},

    /* No NTSTATUS names a configuration error (STATUS_INVALID_PARAMETER is
     * API misuse, STATUS_NO_LOGON_SERVERS would send a client to another
     * server): a customer code of the "our side" group. */
    [NTLM_ERR_CONFIG] = {"STATUS_NTLM_CONFIG_ERROR", 0xE0A70202u,
                         "the configuration is wrong (the log or ntlmd -t names the file and line)"},
    [NTLM_ERR_BAD_REQUEST] =
        {"STATUS_INVALID_NETWORK_RESPONSE", 0xC00000C3u,
         "the daemon frame is malformed: a field repeated or of a wrong size, or flags set"},
    [NTLM_STATUS_NO_SUCH_GROUP] = {"STATUS_NO_SUCH_GROUP", 0xC0000066u, "no such group"},
};

_Static_assert(NTLM_ARRAY_LEN(statuses) == _NTLM_STATUS_MAX, "every status needs an entry");

/* What the accessors give for a value outside the table. */
static const struct status_info unknown_status = {"STATUS_UNKNOWN", 0xC0000001u /* STATUS_UNSUCCESSFUL */,
                                                  "unknown status"};

static const struct status_info *status_info(enum ntlm_status s)
{
	if ((unsigned)s >= (unsigned)_NTLM_STATUS_MAX || statuses[s].name == NULL)
		return &unknown_status;
	return &statuses[s];
}

const char *ntlm_status_name(enum ntlm_status s)
{
	return status_info(s)->name;
}

const char *ntlm_status_message(enum ntlm_status s)
{
	return status_info(s)->message;
}

uint32_t ntlm_status_code(enum ntlm_status s)
{
	return status_info(s)->code;
}

bool ntlm_status_is_malformed(enum ntlm_status s)
{
	return (s >= NTLM_ERR_TRUNCATED && s <= NTLM_ERR_CONTROL_CHARACTER) || s == NTLM_ERR_BAD_REQUEST;
}

static const char *const response_type_names[] = {
    [NTLM_RESPONSE_NONE] = "none",
    [NTLM_RESPONSE_ANONYMOUS] = "anonymous",
    [NTLM_RESPONSE_LM] = "LM",
    [NTLM_RESPONSE_NTLMV1] = "NTLMv1",
    [NTLM_RESPONSE_NTLMV1_ESS] = "NTLMv1-ESS",
    [NTLM_RESPONSE_NTLMV2] = "NTLMv2",
    [NTLM_RESPONSE_LMV2] = "LMv2",
};

static const char *const verdict_names[] = {
    [NTLM_VERDICT_ABSENT] = "absent",
    [NTLM_VERDICT_VALID] = "valid",
    [NTLM_VERDICT_INVALID] = "invalid",
    [NTLM_VERDICT_UNCHECKED] = "unchecked",
};

/* names[v] of a table of n names, or "unknown" outside it. */
static const char *table_name(const char *const *names, size_t n, unsigned v)
{
	return v < n && names[v] != NULL ? names[v] : "unknown";
}

const char *ntlm_response_type_name(enum ntlm_response_type t)
{
	return table_name(response_type_names, NTLM_ARRAY_LEN(response_type_names), (unsigned)t);
}

const char *ntlm_verdict_name(enum ntlm_verdict v)
{
	return table_name(verdict_names, NTLM_ARRAY_LEN(verdict_names), (unsigned)v);
}
