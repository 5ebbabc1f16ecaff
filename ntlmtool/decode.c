/*
 * decode.c: "ntlmtool decode": every field of an NTLMSSP message in order,
 * with its offset, and the warnings an admin can act on; Negotiate tokens
 * are unwrapped and Kerberos is called Kerberos.
 *
 * The library decoders validate the message first (a malformed message is
 * an input error, exit 2); the printing below only walks what they accepted,
 * through the bounded reader, to show offsets and raw values.
 */
#include <config.h>

#include "ntlmtool.h"

#include <stdlib.h>
#include <string.h>

static const char decode_usage[] =
    "usage: ntlmtool decode [--json] [--at TIME] [INPUT|-]\n"
    "\n"
    "Prints every field of an NTLMSSP message (NEGOTIATE, CHALLENGE, AUTHENTICATE)\n"
    "with its offset, and warnings. INPUT is base64, hex, a header line\n"
    "('Authorization: NTLM ...', 'Proxy-Authorization: Negotiate ...',\n"
    "'WWW-Authenticate: ...'), a Squid 'YR'/'KK' line, or @FILE; '-' or nothing\n"
    "reads standard input. Negotiate (SPNEGO) tokens are unwrapped; Kerberos\n"
    "tokens are reported as Kerberos.\n"
    "\n"
    "  --json       machine-readable output\n"
    "  --at TIME    compare timestamps with TIME (FILETIME or ISO-8601 UTC), not now\n";

/* MS-NLMP 2.2.1 fixed header sizes and field positions */
#define NEGOTIATE_HEADER    32u
#define CHALLENGE_HEADER    48u
#define AUTHENTICATE_HEADER 64u
#define VERSION_LEN         8u
#define MIC_OFFSET          72u
#define V1_RESPONSE_LEN     24u
#define V2_BLOB_HEADER      28u /* RespType .. Reserved3 (MS-NLMP 2.2.2.7) */
#define V2_BLOB_TIMESTAMP   8u
#define V2_BLOB_CHALLENGE   16u

/* Where a payload field's Len/MaxLen/Offset triple sits (MS-NLMP 2.2.1). */
struct field_def {
	const char *key, *label;
	size_t at;
};

static const struct field_def negotiate_fields[] = {
    {"domain_name", "DomainName", 16},
    {"workstation", "Workstation", 24},
};
static const struct field_def challenge_fields[] = {
    {"target_name", "TargetName", 12},
    {"target_info", "TargetInfo", 40},
};
enum { F_LM, F_NT, F_DOMAIN, F_USER, F_WORKSTATION, F_KEY, F_COUNT };
static const struct field_def authenticate_fields[F_COUNT] = {
    {"lm_challenge_response", "LmChallengeResponse", 12},
    {"nt_challenge_response", "NtChallengeResponse", 20},
    {"domain_name", "DomainName", 28},
    {"user_name", "UserName", 36},
    {"workstation", "Workstation", 44},
    {"encrypted_random_session_key", "EncryptedRandomSessionKey", 52},
};

/* The payload fields of each message type. */
static const struct {
	const struct field_def *defs;
	size_t n;
} layouts[] = {
    {NULL, 0},
    {negotiate_fields, ARRAY_LEN(negotiate_fields)},
    {challenge_fields, ARRAY_LEN(challenge_fields)},
    {authenticate_fields, ARRAY_LEN(authenticate_fields)},
};

/* A security buffer as read from a message. */
struct secbuf {
	const char *key, *label;
	size_t at;
	uint16_t len, max_len;
	uint32_t offset;
	bool used; /* counts (NEGOTIATE: only when its *_SUPPLIED flag is set) */
};

struct decoder {
	const uint8_t *msg;
	size_t len;
	uint64_t now;
	struct doc *root, *fields, *warnings;
	size_t end; /* the end of the last field: bytes after it are trailing */
	bool bad;   /* a sub-structure was malformed: exit 2 */
};

static void warn(struct decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct decoder *d, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	doc_str(d->warnings, NULL, NULL, "%s", buf);
}

/* The offset of p inside the message. */
static long off(const struct decoder *d, const uint8_t *p)
{
	return p != NULL && p >= d->msg && p <= d->msg + d->len ? (long)(p - d->msg) : -1;
}

static void cover(struct decoder *d, size_t end)
{
	if (end > d->end)
		d->end = end;
}

/* ------------------------------------------------------------------ */
/* Names of things                                                     */
/* ------------------------------------------------------------------ */

/* MS-NLMP 2.2.2.5, bit 0 first; r1..r10 are the unused bits. */
static const char *const flag_bits[32] = {
    "NEGOTIATE_UNICODE",
    "NEGOTIATE_OEM",
    "REQUEST_TARGET",
    "r10 (unused, 0x00000008)",
    "NEGOTIATE_SIGN",
    "NEGOTIATE_SEAL",
    "NEGOTIATE_DATAGRAM",
    "NEGOTIATE_LM_KEY",
    "r9 (unused, 0x00000100)",
    "NEGOTIATE_NTLM",
    "r8 (unused, 0x00000400)",
    "NEGOTIATE_ANONYMOUS",
    "NEGOTIATE_OEM_DOMAIN_SUPPLIED",
    "NEGOTIATE_OEM_WORKSTATION_SUPPLIED",
    "r7 (unused, 0x00004000)",
    "NEGOTIATE_ALWAYS_SIGN",
    "TARGET_TYPE_DOMAIN",
    "TARGET_TYPE_SERVER",
    "r6 (unused, 0x00040000)",
    "NEGOTIATE_EXTENDED_SESSIONSECURITY",
    "NEGOTIATE_IDENTIFY",
    "r5 (unused, 0x00200000)",
    "REQUEST_NON_NT_SESSION_KEY",
    "NEGOTIATE_TARGET_INFO",
    "r4 (unused, 0x01000000)",
    "NEGOTIATE_VERSION",
    "r3 (unused, 0x04000000)",
    "r2 (unused, 0x08000000)",
    "r1 (unused, 0x10000000)",
    "NEGOTIATE_128",
    "NEGOTIATE_KEY_EXCH",
    "NEGOTIATE_56",
};

void flag_names(struct doc *arr, uint32_t flags)
{
	for (unsigned i = 0; i < 32; i++)
		if (flags & (1u << i))
			doc_str(arr, NULL, NULL, "%s", flag_bits[i]);
}

void flag_list(uint32_t flags, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < 32 && used < n; i++)
		if (flags & (1u << i)) {
			int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", flag_bits[i]);

			used += w > 0 ? (size_t)w : 0;
		}
}

void version_text(const struct ntlm_version *v, char *out, size_t n)
{
	static const struct {
		uint8_t major, minor;
		const char *name;
	} windows[] = {
	    {5, 0, "Windows 2000"},
	    {5, 1, "Windows XP"},
	    {5, 2, "Windows Server 2003 / XP x64"},
	    {6, 0, "Windows Vista / Server 2008"},
	    {6, 1, "Windows 7 / Server 2008 R2"},
	    {6, 2, "Windows 8 / Server 2012"},
	    {6, 3, "Windows 8.1 / Server 2012 R2"},
	};
	const char *name = NULL;

	if (v->major == 10 && v->minor == 0)
		name = v->build >= 22000 ? "Windows 11" : "Windows 10 / Server 2016+";
	for (size_t i = 0; i < ARRAY_LEN(windows) && name == NULL; i++)
		if (windows[i].major == v->major && windows[i].minor == v->minor)
			name = windows[i].name;
	if (name != NULL)
		snprintf(out, n, "%s build %u", name, (unsigned)v->build);
	else
		snprintf(out, n, "unknown Windows version %u.%u build %u", (unsigned)v->major,
		         (unsigned)v->minor, (unsigned)v->build);
}

const char *av_name(uint16_t id)
{
	static const char *const names[] = {
	    "MsvAvEOL",           "MsvAvNbComputerName", "MsvAvNbDomainName",    "MsvAvDnsComputerName",
	    "MsvAvDnsDomainName", "MsvAvDnsTreeName",    "MsvAvFlags",           "MsvAvTimestamp",
	    "MsvAvSingleHost",    "MsvAvTargetName",     "MsvAvChannelBindings",
	};

	return id < ARRAY_LEN(names) ? names[id] : NULL;
}

static const char *etype_name(int32_t etype)
{
	switch (etype) {
	case 1:
		return "des-cbc-crc";
	case 3:
		return "des-cbc-md5";
	case 17:
		return "aes128-cts-hmac-sha1-96";
	case 18:
		return "aes256-cts-hmac-sha1-96";
	case 19:
		return "aes128-cts-hmac-sha256-128";
	case 20:
		return "aes256-cts-hmac-sha384-192";
	case 23:
		return "rc4-hmac";
	default:
		break;
	}
	return "unknown";
}

/* ------------------------------------------------------------------ */
/* Common fields                                                       */
/* ------------------------------------------------------------------ */

static struct doc *fixed(struct decoder *d, const char *key, const char *label, size_t at)
{
	return doc_at(doc_object(d->fields, key, label), (long)at);
}

/* Reads the Len / MaxLen / Offset triples of a message of type into b. */
static size_t read_secbufs(const struct decoder *d, uint32_t type, struct secbuf *b)
{
	size_t n = layouts[type].n;

	for (size_t i = 0; i < n; i++) {
		const struct field_def *def = &layouts[type].defs[i];
		struct ntlm_reader r;

		b[i] = (struct secbuf){def->key, def->label, def->at, 0, 0, 0, true};
		ntlm_reader_init(&r, d->msg, d->len);
		if (ntlm_reader_skip(&r, def->at) != NTLM_OK || ntlm_read_u16le(&r, &b[i].len) != NTLM_OK ||
		    ntlm_read_u16le(&r, &b[i].max_len) != NTLM_OK ||
		    ntlm_read_u32le(&r, &b[i].offset) != NTLM_OK)
			b[i].used = false;
	}
	return n;
}

static void print_secbuf_headers(struct decoder *d, const struct secbuf *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char key[64], label[64];
		struct doc *f;

		snprintf(key, sizeof(key), "%s_fields", b[i].key);
		snprintf(label, sizeof(label), "%sFields", b[i].label);
		f = doc_at(doc_object(d->fields, key, label), (long)b[i].at);
		doc_summary(f, "length %u, max %u, offset 0x%04x%s", b[i].len, b[i].max_len,
		            (unsigned)b[i].offset, b[i].used ? "" : " (not supplied)");
		doc_only(doc_num(f, "length", NULL, b[i].len), DOC_JSON_ONLY);
		doc_only(doc_num(f, "max_length", NULL, b[i].max_len), DOC_JSON_ONLY);
		doc_only(doc_num(f, "buffer_offset", NULL, b[i].offset), DOC_JSON_ONLY);
		if (b[i].used && b[i].len > 0)
			cover(d, (size_t)b[i].offset + b[i].len);
	}
}

/* The payload fields in the order of their offsets. */
static size_t payload_order(const struct secbuf *b, size_t n, size_t *order)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (b[i].used && b[i].len > 0)
			order[k++] = i;
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && b[order[j - 1]].offset > b[order[j]].offset; j--) {
			size_t t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	return k;
}

static void print_signature(struct decoder *d, uint32_t type, const char *name)
{
	doc_at(doc_str(d->fields, "signature", "Signature", "NTLMSSP\\0"), 0);
	doc_at(doc_str(d->fields, "message_type", "MessageType", "%u (%s)", (unsigned)type, name), 8);
}

static void print_flags(struct decoder *d, uint32_t flags, size_t at)
{
	struct doc *f = doc_at(doc_array(d->fields, "negotiate_flags", "NegotiateFlags"), (long)at);

	doc_summary(f, "0x%08x", (unsigned)flags);
	flag_names(f, flags);
	doc_only(doc_str(d->fields, "negotiate_flags_hex", NULL, "0x%08x", (unsigned)flags), DOC_JSON_ONLY);
}

static void print_version(struct decoder *d, bool has, const struct ntlm_version *v, size_t at)
{
	char text[96];
	struct doc *f;

	if (!has)
		return;
	version_text(v, text, sizeof(text));
	f = fixed(d, "version", "Version", at);
	doc_summary(f, "%u.%u build %u, NTLM revision %u: %s", v->major, v->minor, v->build, v->revision,
	            text);
	doc_only(doc_num(f, "major", NULL, v->major), DOC_JSON_ONLY);
	doc_only(doc_num(f, "minor", NULL, v->minor), DOC_JSON_ONLY);
	doc_only(doc_num(f, "build", NULL, v->build), DOC_JSON_ONLY);
	doc_only(doc_num(f, "revision", NULL, v->revision), DOC_JSON_ONLY);
	doc_only(doc_str(f, "windows", NULL, "%s", text), DOC_JSON_ONLY);
	cover(d, at + VERSION_LEN);
}

static void print_name(struct decoder *d, const struct secbuf *b, const char *value)
{
	doc_at(doc_only(doc_str(d->fields, NULL, b->label, "\"%s\"", value ? value : ""), DOC_TEXT_ONLY),
	       (long)b->offset);
	doc_only(doc_str(d->fields, b->key, NULL, "%s", value ? value : ""), DOC_JSON_ONLY);
}

static void print_bytes(struct decoder *d, const struct secbuf *b, struct ntlm_view v)
{
	doc_at(doc_hex(d->fields, b->key, b->label, v.data, v.len), (long)b->offset);
}

/* Warns about timestamps more than the default max_clock_skew from now. */
static void check_clock(struct decoder *d, uint64_t ts, const char *what)
{
	int64_t skew = ntlm_filetime_to_unix(ts) - ntlm_filetime_to_unix(d->now);
	char dur[32];

	if (skew <= NTLM_DEFAULT_MAX_CLOCK_SKEW && skew >= -NTLM_DEFAULT_MAX_CLOCK_SKEW)
		return;
	format_duration(skew, dur, sizeof(dur));
	warn(d,
	     "%s is %s %s this machine's clock (or --at): ntlmd refuses NTLMv2 responses beyond "
	     "max_clock_skew (%d s by default)",
	     what, dur, skew > 0 ? "ahead of" : "behind", NTLM_DEFAULT_MAX_CLOCK_SKEW);
}

/* True when a name needed more than ASCII or UTF-16LE: then "names
 * decoded by" says which rule applied. */
static bool notable_rule(enum ntlm_text_rule r)
{
	return r != NTLM_TEXT_NONE && r != NTLM_TEXT_ASCII && r != NTLM_TEXT_UTF16;
}

/* Which rule decoded a name, for "names decoded by". */
static const char *text_rule(enum ntlm_text_rule r)
{
	if (r == NTLM_TEXT_CODEPAGE)
		return "code page CP850 (fallback: not UTF-8)";
	return ntlm_text_rule_name(r);
}

static void check_oem(struct decoder *d, uint32_t flags)
{
	if (!(flags & NTLM_NEGOTIATE_UNICODE))
		warn(d, "OEM strings: NEGOTIATE_UNICODE is not set, so names travel in an 8-bit code page "
		        "and only ASCII names are understood");
}

static void check_trailing(struct decoder *d)
{
	if (d->len > d->end)
		warn(d, "%zu trailing bytes at 0x%04zx after the last field", d->len - d->end, d->end);
}

/* ------------------------------------------------------------------ */
/* AV pairs (MS-NLMP 2.2.2.1)                                          */
/* ------------------------------------------------------------------ */

/* Sets the text of a pair (summary) and its JSON "value". */
static void av_set(struct doc *p, const char *text, const char *json)
{
	doc_summary(p, "%s", text);
	doc_only(doc_str(p, "value", NULL, "%s", json), DOC_JSON_ONLY);
}

/* The value of one pair, as text and JSON, with JSON details on p. */
static void av_value(struct doc *p, const struct ntlm_av_pair *pair)
{
	static const uint8_t zeros[16];
	const struct ntlm_view *v = &pair->value;
	struct ntlm_av_list one = {.count = 1};
	char buf[128], *name = NULL, *hex;
	uint32_t u32;
	uint64_t u64;

	one.pairs[0] = *pair;
	if (ntlm_av_list_get_u32(&one, NTLM_AV_FLAGS, &u32)) {
		struct doc *names = doc_only(doc_array(p, "flags", NULL), DOC_JSON_ONLY);

		snprintf(buf, sizeof(buf), "0x%08x%s%s%s", (unsigned)u32,
		         u32 & NTLM_AVFLAG_CONSTRAINED ? " CONSTRAINED" : "",
		         u32 & NTLM_AVFLAG_MIC_PRESENT ? " MIC_PRESENT" : "",
		         u32 & NTLM_AVFLAG_UNVERIFIED_SPN ? " UNVERIFIED_SPN" : "");
		av_set(p, buf, buf);
		if (u32 & NTLM_AVFLAG_CONSTRAINED)
			doc_str(names, NULL, NULL, "CONSTRAINED");
		if (u32 & NTLM_AVFLAG_MIC_PRESENT)
			doc_str(names, NULL, NULL, "MIC_PRESENT");
		if (u32 & NTLM_AVFLAG_UNVERIFIED_SPN)
			doc_str(names, NULL, NULL, "UNVERIFIED_SPN");
		return;
	}
	if (ntlm_av_list_get_u64(&one, NTLM_AV_TIMESTAMP, &u64)) {
		format_filetime(u64, buf, sizeof(buf));
		av_set(p, buf, buf);
		doc_only(doc_str(p, "filetime", NULL, "%llu", (unsigned long long)u64), DOC_JSON_ONLY);
		return;
	}
	if (pair->id != NTLM_AV_FLAGS && pair->id != NTLM_AV_TIMESTAMP && pair->id != NTLM_AV_SINGLE_HOST &&
	    pair->id != NTLM_AV_CHANNEL_BINDINGS && av_name(pair->id) != NULL &&
	    (v->len == 0 || ntlm_utf16le_to_utf8(v->data, v->len, &name) == NTLM_OK)) {
		char *quoted = xasprintf("\"%s\"", name ? name : "");

		av_set(p, quoted, name ? name : "");
		free(quoted);
		free(name);
		return;
	}
	hex = xmalloc(2 * v->len + 1);
	hex_format(v->data, v->len, hex);
	if (pair->id == NTLM_AV_CHANNEL_BINDINGS && v->len == 16 && ntlm_equal_ct(v->data, zeros, 16)) {
		char *text = xasprintf("%s (all zeros: no channel bindings)", hex);

		av_set(p, text, hex);
		free(text);
	} else {
		av_set(p, hex, hex);
	}
	free(hex);
}

/* Prints the list at v; *ret is the decoded list. False when malformed. */
static bool print_av_pairs(struct decoder *d, struct doc *parent, struct ntlm_view v,
                           struct ntlm_av_list *ret)
{
	struct doc *arr = doc_at(doc_array(parent, "av_pairs", "AvPairs"), off(d, v.data));
	long at = off(d, v.data);
	enum ntlm_status st = ntlm_av_list_decode(v.data, v.len, ret);
	size_t used = 0;

	if (st != NTLM_OK) {
		doc_summary(arr, "malformed: %s (%s)", ntlm_status_message(st), ntlm_status_name(st));
		doc_only(doc_str(arr, "error", NULL, "%s", ntlm_status_name(st)), DOC_JSON_ONLY);
		d->bad = true;
		return false;
	}
	doc_summary(arr, "%zu pairs, %zu bytes", ret->count, v.len);
	for (size_t i = 0; i < ret->count; i++) {
		const struct ntlm_av_pair *pair = &ret->pairs[i];
		const char *name = av_name(pair->id);
		char label[32];
		struct doc *p;

		snprintf(label, sizeof(label), "%s", name ? name : "");
		if (name == NULL)
			snprintf(label, sizeof(label), "AvId 0x%04x", pair->id);
		p = doc_at(doc_object(arr, NULL, label), at + (long)used);
		doc_only(doc_num(p, "id", NULL, pair->id), DOC_JSON_ONLY);
		doc_only(doc_str(p, "name", NULL, "%s", label), DOC_JSON_ONLY);
		av_value(p, pair);
		used += 4 + pair->value.len;
	}
	doc_only(doc_at(doc_str(arr, NULL, "MsvAvEOL", "end of list"), at + (long)used), DOC_TEXT_ONLY);
	used += 4;
	if (v.len > used)
		doc_only(
		    doc_at(doc_str(arr, NULL, "padding", "%zu zero bytes", v.len - used), at + (long)used),
		    DOC_TEXT_ONLY);
	return true;
}

/* ------------------------------------------------------------------ */
/* NEGOTIATE (MS-NLMP 2.2.1.1)                                         */
/* ------------------------------------------------------------------ */

static void decode_negotiate(struct decoder *d, const struct ntlm_negotiate *m)
{
	struct secbuf b[2] = {0};
	size_t order[2], n;

	read_secbufs(d, 1, b);
	/* the fields count only when their OEM_*_SUPPLIED flag is set */
	b[0].used = b[0].used && (m->flags & NTLM_NEGOTIATE_OEM_DOMAIN_SUPPLIED) != 0;
	b[1].used = b[1].used && (m->flags & NTLM_NEGOTIATE_OEM_WORKSTATION_SUPPLIED) != 0;
	cover(d, NEGOTIATE_HEADER);
	print_flags(d, m->flags, 12);
	print_secbuf_headers(d, b, 2);
	print_version(d, m->has_version, &m->version, NEGOTIATE_HEADER);
	n = payload_order(b, 2, order);
	for (size_t i = 0; i < n; i++)
		print_name(d, &b[order[i]], order[i] == 0 ? m->domain : m->workstation);
	if (notable_rule(m->domain_text) || notable_rule(m->workstation_text))
		doc_str(d->root, "name_rules", "names decoded by", "domain %s, workstation %s",
		        text_rule(m->domain_text), text_rule(m->workstation_text));
	if (m->domain_text == NTLM_TEXT_ESCAPED || m->workstation_text == NTLM_TEXT_ESCAPED ||
	    m->domain_text == NTLM_TEXT_UNREADABLE || m->workstation_text == NTLM_TEXT_UNREADABLE)
		warn(d, "a NEGOTIATE name is not text or points outside the payload: it only informs, "
		        "ntlmd keeps it escaped or leaves it out and does not refuse the exchange");
	if (!(m->flags & NTLM_NEGOTIATE_UNICODE))
		warn(d, "OEM only: the client does not offer NEGOTIATE_UNICODE, so names will travel in an "
		        "8-bit code page");
	if (!(m->flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) && (m->flags & NTLM_NEGOTIATE_LM_KEY))
		warn(d, "the client asks for the LM session key (NEGOTIATE_LM_KEY) without extended session "
		        "security: an NTLMv1-era client");
}

/* ------------------------------------------------------------------ */
/* CHALLENGE (MS-NLMP 2.2.1.2)                                         */
/* ------------------------------------------------------------------ */

static void decode_challenge(struct decoder *d, const struct ntlm_challenge *m)
{
	struct secbuf b[2] = {0};
	struct ntlm_av_list list;
	uint64_t ts;
	size_t order[2], n;

	read_secbufs(d, 2, b);
	cover(d, CHALLENGE_HEADER);
	print_secbuf_headers(d, b, 1);
	print_flags(d, m->flags, 20);
	doc_at(doc_hex(d->fields, "server_challenge", "ServerChallenge", m->server_challenge, 8), 24);
	doc_at(doc_str(d->fields, "reserved", "Reserved", "8 bytes"), 32);
	print_secbuf_headers(d, b + 1, 1);
	print_version(d, m->has_version, &m->version, CHALLENGE_HEADER);
	n = payload_order(b, 2, order);
	for (size_t i = 0; i < n; i++) {
		if (order[i] == 0) {
			print_name(d, &b[0], m->target_name);
			continue;
		}
		if (print_av_pairs(d, d->fields, m->target_info, &list) &&
		    ntlm_av_list_get_u64(&list, NTLM_AV_TIMESTAMP, &ts))
			check_clock(d, ts, "the CHALLENGE's MsvAvTimestamp (the server's clock)");
	}
	if (!(m->flags & NTLM_NEGOTIATE_TARGET_INFO) || m->target_info.len == 0)
		warn(d, "no TargetInfo: clients cannot answer with NTLMv2");
	check_oem(d, m->flags);
	check_trailing(d);
}

/* ------------------------------------------------------------------ */
/* AUTHENTICATE (MS-NLMP 2.2.1.3)                                      */
/* ------------------------------------------------------------------ */

/* The response type from the field lengths, as the acceptor classifies
 * it (MS-NLMP 3.2.5.1.2); LM-only responses are "LM or LMv2". */
static enum ntlm_response_type classify(const struct ntlm_authenticate *m)
{
	size_t lm = m->lm_response.len, nt = m->nt_response.len;

	if (m->user[0] == '\0' && nt == 0 && (lm == 0 || (lm == 1 && m->lm_response.data[0] == 0)))
		return NTLM_RESPONSE_ANONYMOUS;
	if (nt > V1_RESPONSE_LEN)
		return NTLM_RESPONSE_NTLMV2;
	if (nt == V1_RESPONSE_LEN)
		return (m->flags & NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY) && lm == V1_RESPONSE_LEN
		           ? NTLM_RESPONSE_NTLMV1_ESS
		           : NTLM_RESPONSE_NTLMV1;
	return nt == 0 && lm == V1_RESPONSE_LEN ? NTLM_RESPONSE_LM : NTLM_RESPONSE_NONE;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	static const uint8_t zeros[32];

	return n <= sizeof(zeros) && ntlm_equal_ct(p, zeros, n);
}

/* A response as hex (JSON) and as hex with what it is (text). */
static void print_response(struct decoder *d, const struct secbuf *b, struct ntlm_view v, const char *what)
{
	char *hex = xmalloc(2 * v.len + 1);

	hex_format(v.data, v.len, hex);
	doc_at(doc_only(doc_str(d->fields, NULL, b->label, "%s (%s)", hex, what), DOC_TEXT_ONLY),
	       (long)b->offset);
	doc_only(doc_str(d->fields, b->key, NULL, "%s", hex), DOC_JSON_ONLY);
	free(hex);
}

static void print_lm_response(struct decoder *d, const struct secbuf *b, const struct ntlm_authenticate *m,
                              enum ntlm_response_type type)
{
	const uint8_t *lm = m->lm_response.data;
	const char *what;

	if (m->lm_response.len != V1_RESPONSE_LEN)
		what = "Z(1): anonymous";
	else if (all_zero(lm, V1_RESPONSE_LEN))
		what = "Z(24): no LMv2 response";
	else if (type == NTLM_RESPONSE_NTLMV2)
		what = "LMv2 response";
	else if (type == NTLM_RESPONSE_NTLMV1_ESS)
		what = "client challenge then Z(16)";
	else if (type == NTLM_RESPONSE_NTLMV1 && m->nt_response.len == V1_RESPONSE_LEN &&
	         memcmp(lm, m->nt_response.data, V1_RESPONSE_LEN) == 0) /* not secret: both sent in clear */
		what = "a copy of the NT response";
	else if (type == NTLM_RESPONSE_NTLMV1)
		what = "LM response";
	else
		what = "LM or LMv2 response";
	print_response(d, b, m->lm_response, what);
	doc_only(doc_str(d->fields, "lm_challenge_response_kind", NULL, "%s", what), DOC_JSON_ONLY);
}

/* What the NTLMv2 blob says, for the warnings. */
struct blob_facts {
	bool decoded;
	uint64_t timestamp;
	bool has_av_timestamp, mic_announced, unverified_spn, cb_present, cb_zero;
};

static void print_v2_blob(struct decoder *d, struct doc *f, struct ntlm_view nt, struct blob_facts *facts)
{
	static const uint8_t zeros[16];
	struct ntlm_v2_blob blob;
	struct ntlm_av_list list;
	const struct ntlm_av_pair *cb;
	long at = off(d, nt.data);
	uint32_t av_flags = 0;
	char ts[64];
	enum ntlm_status st;

	doc_at(doc_hex(f, "ntproofstr", "NTProofStr", nt.data, 16), at);
	st = ntlm_v2_blob_decode(nt.data + 16, nt.len - 16, &blob);
	if (st != NTLM_OK) {
		doc_str(f, "error", "NTLMv2_CLIENT_CHALLENGE", "malformed: %s (%s)", ntlm_status_message(st),
		        ntlm_status_name(st));
		d->bad = true;
		return;
	}
	at += 16;
	doc_at(doc_num(f, "resp_type", "RespType", blob.resp_type), at);
	doc_at(doc_num(f, "hi_resp_type", "HiRespType", blob.hi_resp_type), at + 1);
	format_filetime(blob.timestamp, ts, sizeof(ts));
	doc_at(doc_str(f, "timestamp", "TimeStamp", "%s", ts), at + V2_BLOB_TIMESTAMP);
	doc_only(doc_str(f, "timestamp_filetime", NULL, "%llu", (unsigned long long)blob.timestamp),
	         DOC_JSON_ONLY);
	doc_at(doc_hex(f, "client_challenge", "ChallengeFromClient", blob.client_challenge, 8),
	       at + V2_BLOB_CHALLENGE);
	facts->decoded = true;
	facts->timestamp = blob.timestamp;
	if (!print_av_pairs(d, f, blob.av_pairs, &list))
		return;
	(void)ntlm_av_list_get_u32(&list, NTLM_AV_FLAGS, &av_flags);
	facts->has_av_timestamp = ntlm_av_list_find(&list, NTLM_AV_TIMESTAMP) != NULL;
	facts->mic_announced = (av_flags & NTLM_AVFLAG_MIC_PRESENT) != 0;
	facts->unverified_spn = (av_flags & NTLM_AVFLAG_UNVERIFIED_SPN) != 0;
	cb = ntlm_av_list_find(&list, NTLM_AV_CHANNEL_BINDINGS);
	facts->cb_present = cb != NULL;
	facts->cb_zero = cb != NULL && ntlm_equal_ct(cb->value.data, zeros, 16);
}

static void print_nt_response(struct decoder *d, const struct secbuf *b, struct ntlm_view nt,
                              enum ntlm_response_type type, struct blob_facts *facts)
{
	struct doc *f;

	if (type != NTLM_RESPONSE_NTLMV2) {
		char what[32];

		snprintf(what, sizeof(what), "%s response", ntlm_response_type_name(type));
		print_response(d, b, nt, what);
		return;
	}
	f = doc_at(doc_object(d->fields, b->key, b->label), (long)b->offset);
	doc_summary(f, "NTLMv2 response, %zu bytes", nt.len);
	print_v2_blob(d, f, nt, facts);
}

static void authenticate_warnings(struct decoder *d, const struct ntlm_authenticate *m,
                                  enum ntlm_response_type type, const struct blob_facts *facts)
{
	if (type == NTLM_RESPONSE_NTLMV1 || type == NTLM_RESPONSE_NTLMV1_ESS)
		warn(d,
		     "NTLMv1 in use%s: the response can be cracked offline from a capture; ntlmd refuses it "
		     "unless ntlm_auth = ntlmv1-permitted",
		     type == NTLM_RESPONSE_NTLMV1_ESS ? " (with extended session security)" : "");
	if (type == NTLM_RESPONSE_LM)
		warn(d, "LM or LMv2 response only: ntlmd refuses it unless lanman_auth or lmv2 is on");
	if (type != NTLM_RESPONSE_NTLMV2 || !facts->decoded)
		return;
	if (facts->has_av_timestamp && !facts->mic_announced)
		warn(
		    d,
		    "no MIC although the CHALLENGE carried a timestamp: a relay can strip or alter the "
		    "NEGOTIATE/CHALLENGE flags unnoticed (CVE-2019-1040); require_mic = yes would refuse it");
	if (!facts->mic_announced && m->mic_offset != 0 && !all_zero(m->mic, NTLM_MIC_LEN))
		warn(d, "a MIC field is filled in but MsvAvFlags does not announce it, so it is not checked");
	if (!facts->cb_present)
		warn(d, "channel bindings absent: the response is not bound to a TLS channel");
	else if (facts->cb_zero)
		warn(d, "channel bindings all zeros: the client did not bind the response to a TLS channel");
	if (facts->unverified_spn)
		warn(d,
		     "UNVERIFIED_SPN: the client says the target name (SPN) came from an untrusted source; "
		     "it is refused when target_names is set unless allow_unverified_spn = yes");
	check_clock(d, facts->timestamp, "the NTLMv2 timestamp");
}

static void decode_authenticate(struct decoder *d, const struct ntlm_authenticate *m)
{
	struct secbuf b[F_COUNT] = {0};
	const char *names[F_COUNT] = {NULL, NULL, m->domain, m->user, m->workstation, NULL};
	enum ntlm_response_type type = classify(m);
	struct blob_facts facts = {0};
	size_t order[F_COUNT], n;

	read_secbufs(d, 3, b);
	cover(d, AUTHENTICATE_HEADER);
	print_secbuf_headers(d, b, F_COUNT);
	print_flags(d, m->flags, 60);
	print_version(d, m->has_version, &m->version, AUTHENTICATE_HEADER);
	if (m->mic_offset != 0) {
		doc_at(doc_hex(d->fields, "mic", "MIC", m->mic, NTLM_MIC_LEN), (long)m->mic_offset);
		cover(d, m->mic_offset + NTLM_MIC_LEN);
	}
	n = payload_order(b, F_COUNT, order);
	for (size_t i = 0; i < n; i++) {
		const struct secbuf *f = &b[order[i]];

		if (order[i] == F_LM)
			print_lm_response(d, f, m, type);
		else if (order[i] == F_NT)
			print_nt_response(d, f, m->nt_response, type, &facts);
		else if (order[i] == F_KEY)
			print_bytes(d, f, m->encrypted_session_key);
		else
			print_name(d, f, names[order[i]]);
	}
	doc_str(d->root, "response_type", "response type", "%s%s", ntlm_response_type_name(type),
	        type == NTLM_RESPONSE_LM ? " or LMv2" : "");
	doc_str(d->root, "user", NULL, "%s", m->user);
	doc_str(d->root, "domain", NULL, "%s", m->domain);
	doc_str(d->root, "workstation", NULL, "%s", m->workstation);
	if (notable_rule(m->user_text) || notable_rule(m->domain_text) || notable_rule(m->workstation_text))
		doc_str(d->root, "name_rules", "names decoded by", "user %s, domain %s, workstation %s",
		        text_rule(m->user_text), text_rule(m->domain_text), text_rule(m->workstation_text));
	doc_str(d->root, "mic", "MIC", "%s",
	        m->mic_offset != 0 && !all_zero(m->mic, NTLM_MIC_LEN) ? "present" : "absent");
	if (facts.decoded)
		doc_bool(d->root, "mic_announced", "MIC announced", facts.mic_announced);
	authenticate_warnings(d, m, type, &facts);
	check_oem(d, m->flags);
	check_trailing(d);
}

/* ------------------------------------------------------------------ */
/* Errors: which field is at fault                                      */
/* ------------------------------------------------------------------ */

/* Names the fields whose offset and length point outside the message. */
static void report_bad_fields(const uint8_t *msg, size_t len, uint32_t type)
{
	const struct decoder d = {.msg = msg, .len = len};
	struct secbuf b[F_COUNT] = {0};
	size_t n = read_secbufs(&d, type, b);

	for (size_t i = 0; i < n; i++)
		if (b[i].used && b[i].len > 0 && ((size_t)b[i].offset > len || b[i].len > len - b[i].offset))
			fprintf(stderr,
			        "  %s: offset 0x%04x + length %u runs past the end of the %zu-byte message\n",
			        b[i].label, (unsigned)b[i].offset, b[i].len, len);
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */
/* ------------------------------------------------------------------ */

static void print_token(struct doc *root, const struct spnego_token *t, size_t raw_len)
{
	struct doc *tok;

	if (t->form == SPNEGO_FORM_RAW && t->kind == SPNEGO_KIND_NTLMSSP)
		return;
	tok = doc_object(root, "token", "Negotiate token");
	doc_summary(tok, "%s%s, %zu bytes", t->form == SPNEGO_FORM_RAW ? "bare Kerberos message" : "",
	            t->form == SPNEGO_FORM_GSS_MECH         ? "GSS-API token"
	            : t->form == SPNEGO_FORM_NEG_TOKEN_INIT ? "SPNEGO NegTokenInit"
	            : t->form == SPNEGO_FORM_NEG_TOKEN_RESP ? "SPNEGO NegTokenResp"
	                                                    : "",
	            raw_len);
	doc_only(doc_str(tok, "form", NULL, "%s", ntlm_spnego_form_name(t->form)), DOC_JSON_ONLY);
	doc_bool(tok, "gss_header", "GSS-API header", t->gss_header);
	if (t->form == SPNEGO_FORM_NEG_TOKEN_INIT) {
		struct doc *m = doc_array(tok, "mech_types", "mechTypes");

		for (size_t i = 0; i < t->n_mechs; i++) {
			const char *name = ntlm_spnego_mech_name(t->mech_types[i]);

			doc_str(m, NULL, NULL, "%s%s%s%s", t->mech_types[i], name ? " (" : "",
			        name ? name : "", name ? ")" : "");
		}
	}
	if (t->has_neg_state)
		doc_str(tok, "neg_state", "negState", "%s", ntlm_spnego_neg_state_name(t->neg_state));
	if (t->supported_mech[0] != '\0')
		doc_str(tok, "supported_mech", "supportedMech", "%s", t->supported_mech);
	if (t->inner_mech[0] != '\0') {
		const char *name = ntlm_spnego_mech_name(t->inner_mech);

		doc_str(tok, "inner_mech", "inner token", "%s%s%s%s, %zu bytes", t->inner_mech,
		        name ? " (" : "", name ? name : "", name ? ")" : "", t->inner.len);
	}
	if (t->mech_list_mic.len > 0)
		doc_hex(tok, "mech_list_mic", "mechListMIC", t->mech_list_mic.data, t->mech_list_mic.len);
}

static void print_kerberos(struct doc *root, const struct spnego_token *t)
{
	struct doc *k = doc_object(root, "kerberos", "Kerberos");
	const char *msg = ntlm_spnego_krb_msg_name(t->krb_msg_type);

	if (t->krb_msg_type != 0)
		doc_str(k, "message", NULL, "%s", msg ? msg : "unknown");
	if (t->krb_tok_id != 0)
		doc_str(k, "gss_tok_id", "GSS TOK_ID", "0x%04x", t->krb_tok_id);
	if (t->krb_realm[0] != '\0')
		doc_str(k, "realm", "ticket realm", "%s", t->krb_realm);
	if (t->krb_sname[0] != '\0')
		doc_str(k, "service", "ticket service (SPN)", "%s", t->krb_sname);
	if (t->krb_etype >= 0)
		doc_str(k, "etype", "ticket etype", "%d (%s)", (int)t->krb_etype, etype_name(t->krb_etype));
	doc_str(
	    root, "note", NULL,
	    "this Negotiate token is Kerberos, not NTLM: the client got a Kerberos ticket%s%s and sent it "
	    "instead of an NTLM message; ntlmd cannot accept Kerberos, and the client falls back to NTLM "
	    "only when it cannot get a ticket for the server's SPN",
	    t->krb_sname[0] ? " for " : "", t->krb_sname);
}

static const char *const type_names[] = {"", "NEGOTIATE_MESSAGE", "CHALLENGE_MESSAGE",
                                         "AUTHENTICATE_MESSAGE"};

/* Decodes one NTLMSSP message into the document; TOOL_OK or TOOL_USAGE. */
static int decode_ntlm(struct decoder *d, const uint8_t *msg, size_t len)
{
	union {
		struct ntlm_negotiate n;
		struct ntlm_challenge c;
		struct ntlm_authenticate a;
	} m;
	uint32_t type = 0;
	enum ntlm_status st;

	memset(&m, 0, sizeof(m));
	st = ntlm_message_type(msg, len, &type);
	if (st == NTLM_OK)
		st = type == 1   ? ntlm_negotiate_decode(msg, len, &m.n)
		     : type == 2 ? ntlm_challenge_decode(msg, len, &m.c)
		                 : ntlm_authenticate_decode(msg, len, &m.a);
	if (st != NTLM_OK) {
		tool_error("decode", "the %s is malformed: %s (%s)", type ? type_names[type] : "message",
		           ntlm_status_message(st), ntlm_status_name(st));
		if (type != 0)
			report_bad_fields(msg, len, type);
		return TOOL_USAGE;
	}
	d->msg = msg;
	d->len = len;
	doc_str(d->root, "message", NULL, "%s (type %u), %zu bytes", type_names[type], (unsigned)type, len);
	doc_only(doc_num(d->root, "message_type", NULL, type), DOC_JSON_ONLY);
	doc_only(doc_num(d->root, "length", NULL, (long long)len), DOC_JSON_ONLY);
	d->fields = doc_object(d->root, "fields", "");
	print_signature(d, type, type_names[type]);
	if (type == 1) {
		decode_negotiate(d, &m.n);
		check_trailing(d);
		ntlm_negotiate_clear(&m.n);
	} else if (type == 2) {
		decode_challenge(d, &m.c);
		ntlm_challenge_clear(&m.c);
	} else {
		decode_authenticate(d, &m.a);
		ntlm_authenticate_clear(&m.a);
	}
	return d->bad ? TOOL_USAGE : TOOL_OK;
}

/* --at TIME */
static int set_at(int c, const char *arg, void *ctx)
{
	(void)c;
	if (!parse_time(arg, ctx))
		return tool_usage_error("decode", "--at: '%s' is neither a FILETIME nor an ISO-8601 time",
		                        arg);
	return TOOL_OK;
}

int cmd_decode(int argc, char **argv)
{
	static const struct option opts[] = {OPTION_JSON, OPTION_ARG("at", 't'), OPTION_HELP, OPTION_END};
	struct tool_input in = {0};
	struct decoder d = {0};
	bool json = false;
	const struct opt_store store[] = {{'j', NULL, &json}, {0, NULL, NULL}};
	int rc;

	d.now = ntlm_filetime_now();
	rc = parse_options("decode", argc, argv, ":h", opts, store, decode_usage, set_at, &d.now);
	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if (argc - optind > 1)
		return tool_usage_error("decode", "one input at a time");
	rc = input_load("decode", "input", optind < argc ? argv[optind] : NULL, &in);
	if (rc != TOOL_OK)
		return rc;
	d.root = doc_new();
	d.warnings = doc_array(NULL, "warnings", "warnings");
	doc_str(d.root, "input", NULL, "%s, %zu bytes", in.source, in.raw_len);
	print_token(d.root, &in.token, in.raw_len);
	doc_str(d.root, "kind", NULL, "%s", ntlm_spnego_kind_name(in.token.kind));
	if (in.token.kind == SPNEGO_KIND_KERBEROS)
		print_kerberos(d.root, &in.token);
	else if (in.token.kind == SPNEGO_KIND_NTLMSSP && in.token.inner.len > 0)
		rc = decode_ntlm(&d, in.token.inner.data, in.token.inner.len);
	else
		doc_str(d.root, "note", NULL, "the token carries no NTLMSSP message");
	/* the warnings come last */
	if (d.warnings->first != NULL || json) {
		d.root->last->next = d.warnings;
		d.root->last = d.warnings;
	} else {
		doc_free(d.warnings);
	}
	if (rc == TOOL_OK || d.bad)
		doc_print(stdout, d.root, json);
	if (d.bad)
		tool_error("decode", "the message holds a malformed structure (shown above)");
	doc_free(d.root);
	input_clear(&in);
	return rc;
}
