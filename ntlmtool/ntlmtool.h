/*
 * ntlmtool.h: what the subcommands of ntlmtool share.
 *
 *   main.c      dispatch, usage, the output document (text and JSON)
 *   input.c     tokens from base64 / hex / header lines / @FILE / stdin,
 *               passwords, hex, times, the policy options
 *   decode.c    "decode": every field of a message
 *   verify.c    "verify": an exchange checked offline by the acceptor
 *   diagnose.c  "diagnose": verify, then the likely cause and the knob
 *   hash.c      "hash": NT and LM hashes of a password
 *   passwd.c    "passwd": edits of an smbpasswd file
 *   client.c    "client": NEGOTIATE and AUTHENTICATE through the initiator
 *   stats.c     "stats": ntlmd's STATS as text, JSON or Prometheus metrics
 */
#ifndef PAM_NTLM_NTLMTOOL_NTLMTOOL_H
#define PAM_NTLM_NTLMTOOL_NTLMTOOL_H

#include "ntlmssp.h"
#include "spnego.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

/* Exit statuses (issue 7): authenticated / done, rejected, usage or input error. */
#define TOOL_OK       0
#define TOOL_REJECTED 1
#define TOOL_USAGE    2

#define ARRAY_LEN(a)  (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* main.c: messages and the output document                            */
/* ------------------------------------------------------------------ */

/* "ntlmtool decode: " + message on stderr; returns TOOL_USAGE. */
int tool_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a library status: "message (STATUS_NAME)". */
int tool_status_error(const char *cmd, const char *what, enum ntlm_status st);
/* Usage error: the message, then "try 'ntlmtool CMD --help'". */
int tool_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* malloc / strdup / vasprintf that exit with TOOL_USAGE on exhaustion. */
void *xmalloc(size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A document printed either as indented text or as JSON. Each node has a
 * JSON key, a text label, and a value or children. Offsets, when set, are
 * printed in a left column of the text form ("0x0048  MIC ...") and as an
 * "offset" member of JSON objects.
 */
enum doc_type { DOC_OBJECT, DOC_ARRAY, DOC_STRING, DOC_NUMBER, DOC_BOOL, DOC_NULL };
enum doc_show { DOC_BOTH = 0, DOC_TEXT_ONLY, DOC_JSON_ONLY };

struct doc {
	enum doc_type type;
	enum doc_show show;
	char *key;   /* JSON key (NULL inside arrays) */
	char *label; /* text label, NULL: the key */
	char *value; /* leaf value; for containers a text-only summary (may be NULL) */
	long offset; /* -1: none */
	struct doc *first, *last, *next;
};

struct doc *doc_new(void);
struct doc *doc_object(struct doc *parent, const char *key, const char *label);
struct doc *doc_array(struct doc *parent, const char *key, const char *label);
struct doc *doc_str(struct doc *parent, const char *key, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
struct doc *doc_num(struct doc *parent, const char *key, const char *label, long long v);
struct doc *doc_bool(struct doc *parent, const char *key, const char *label, bool v);
struct doc *doc_null(struct doc *parent, const char *key, const char *label);
/* Hex of n bytes as a string leaf. */
struct doc *doc_hex(struct doc *parent, const char *key, const char *label, const uint8_t *p, size_t n);
/* Sets the offset and returns node. */
struct doc *doc_at(struct doc *node, long offset);
/* Sets the text-only summary of a container (printf-style). */
void doc_summary(struct doc *node, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct doc *doc_only(struct doc *node, enum doc_show show);
void doc_print(FILE *f, const struct doc *root, bool json);
void doc_free(struct doc *root);

/* ------------------------------------------------------------------ */
/* input.c                                                             */
/* ------------------------------------------------------------------ */

/* A token read from the command line, a file or stdin. */
struct tool_input {
	uint8_t *raw; /* the decoded bytes, malloc'd */
	size_t raw_len;
	char source[96];           /* "Authorization header, NTLM scheme, base64", ... */
	struct spnego_token token; /* what the bytes carry; views borrow from raw */
};

/*
 * Reads a token: arg is the text itself, "@FILE", or "-" / NULL for stdin.
 * The text may be base64, hex, a header line (Authorization,
 * Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate with the NTLM or
 * Negotiate scheme), a Squid helper line (YR / KK / TT / AF ...) or a bare
 * "NTLM b64" / "Negotiate b64". Errors are printed for cmd; returns TOOL_OK
 * or TOOL_USAGE.
 */
int input_load(const char *cmd, const char *what, const char *arg, struct tool_input *ret);
/* input_load, then insists on an NTLMSSP message: SPNEGO is unwrapped,
 * Kerberos is reported as such. */
int input_load_ntlm(const char *cmd, const char *what, const char *arg, struct tool_input *ret);
void input_clear(struct tool_input *in);

/* The message for a getopt_long() failure (c is '?' or ':'); TOOL_USAGE. */
int getopt_failure(const char *cmd, int c, char **argv);

/* An option whose argument is stored in *str, or that sets *flag. The
 * lists end with id 0. */
struct opt_store {
	int id;
	const char **str;
	bool *flag;
};
/* Long option table entries: with an argument, without, and the ones
 * several commands share (same name, same id everywhere). */
/* clang-format off */
#define OPTION_ARG(name, id)  {name, required_argument, NULL, id}
#define OPTION_FLAG(name, id) {name, no_argument, NULL, id}
#define OPTION_END            {NULL, 0, NULL, 0}
/* clang-format on */
#define OPTION_JSON      OPTION_FLAG("json", 'j')
#define OPTION_HELP      OPTION_FLAG("help", 'h')
#define OPTION_PASSWORD  OPTION_ARG("password", 'p')
#define OPTION_NT_HASH   OPTION_ARG("nt-hash", 'n')
#define OPTION_NEGOTIATE OPTION_ARG("negotiate", 'N')
#define OPTION_CHALLENGE OPTION_ARG("challenge", 'C')
/* Handles an option no opt_store claims: TOOL_OK or an exit status. */
typedef int (*opt_handler)(int c, const char *arg, void *ctx);
/*
 * getopt_long() over argv with ntlmtool's messages: options in store are
 * stored; 'h' prints help (when not NULL) and ends with -1; any other goes
 * to other(). Returns TOOL_OK, -1 after --help, or an exit status.
 */
int parse_options(const char *cmd, int argc, char **argv, const char *shortopts,
                  const struct option *longopts, const struct opt_store *store, const char *help,
                  opt_handler other, void *ctx);
/* Reads a whole text file (or stdin for "-") of at most max bytes; NUL-terminated. */
int read_text(const char *cmd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Exactly n bytes of hex (whitespace and a 0x prefix allowed). */
bool parse_hex_exact(const char *s, uint8_t *out, size_t n);
/* Any even number of hex digits; malloc'd. false on bad input. */
bool parse_hex_alloc(const char *s, uint8_t **ret, size_t *ret_len);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void hex_format(const uint8_t *p, size_t n, char *out);
/* A FILETIME from a decimal FILETIME integer or ISO-8601 UTC
 * ("2024-05-01T12:00:00Z", fractional seconds and "+00:00" allowed). */
bool parse_time(const char *s, uint64_t *ret);
/* ISO-8601 UTC of a FILETIME ("2024-05-01T12:00:00Z", 100 ns digits when not 0). */
void format_filetime(uint64_t ft, char *out, size_t n);
/* "3h12m", "45s", "2d4h" of a number of seconds (absolute value). */
void format_duration(int64_t seconds, char *out, size_t n);
/* A decimal unsigned number (all of s). */
bool parse_uint(const char *s, uint64_t max, uint64_t *ret);

/* Reads a password: "-" from stdin (one line), NULL from the terminal
 * without echo (or stdin when it is not a terminal). malloc'd; wipe it. */
int read_password(const char *cmd, const char *arg, const char *prompt, bool confirm, char **ret);
void free_password(char *pw);

/* The ntlmd.conf policy of --config FILE and -o KEY=VALUE options. */
struct policy_opts {
	const char *config_path;
	const char **overrides; /* "KEY=VALUE" */
	size_t n_overrides;
};
void policy_opts_add(struct policy_opts *p, const char *kv);
void policy_opts_clear(struct policy_opts *p);

/* ------------------------------------------------------------------ */
/* Subcommands                                                         */
/* ------------------------------------------------------------------ */

int cmd_decode(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_stats(int argc, char **argv);

/* ------------------------------------------------------------------ */
/* decode.c, shared with verify / diagnose                              */
/* ------------------------------------------------------------------ */

/* Names of the set NEGOTIATE flags added to arr ("NEGOTIATE_UNICODE", ...). */
void flag_names(struct doc *arr, uint32_t flags);
/* "Windows 10 / Server 2016+ build 19041" */
void version_text(const struct ntlm_version *v, char *out, size_t n);
/* An AV_PAIR id's MS-NLMP name ("MsvAvTimestamp"), or NULL. */
const char *av_name(uint16_t id);
/* "NEGOTIATE_128, NEGOTIATE_KEY_EXCH" for the set flags. */
void flag_list(uint32_t flags, char *out, size_t n);

/* ------------------------------------------------------------------ */
/* verify.c, shared with diagnose                                      */
/* ------------------------------------------------------------------ */

struct verify_job; /* opaque: the parsed options and inputs */

/* What verify found, plus what diagnose needs to explain it. */
struct verify_outcome {
	struct ntlm_accept_result result;
	const struct ntlm_policy *policy;
	const char *const *target_names; /* the policy's list, or NULL */
	uint64_t now;
	bool has_negotiate;
	bool has_cb;             /* --channel-bindings given */
	bool cb_sent;            /* the client's MsvAvChannelBindings is non-zero */
	bool mic_field_nonzero;  /* a MIC field with something in it */
	bool mic_announced;      /* MsvAvFlags bit 0x2 */
	bool has_challenge_time; /* the CHALLENGE carried MsvAvTimestamp */
	uint64_t challenge_time;
	bool ntlm_auth_v1_permitted; /* ntlm_auth = ntlmv1-permitted */
	bool ntlm_auth_disabled;     /* ntlm_auth = disabled */
	bool lanman_auth;
	bool lmv2;
	bool domain_refused;     /* the domain is not in accepted_domains */
	const char *malformed;   /* "the CHALLENGE" when a message does not decode, else NULL */
	const char *cred_source; /* "the NT hash given with --nt-hash", a file name, ... */
};

/* Parses argv into a job; TOOL_OK or TOOL_USAGE (message printed). */
int verify_parse(const char *cmd, int argc, char **argv, struct verify_job **ret);
/* Runs it; the outcome is valid until verify_job_free(). */
const struct verify_outcome *verify_run(struct verify_job *job);
bool verify_json(const struct verify_job *job);
void verify_job_free(struct verify_job *job);
/* The verify document (text or JSON fields). */
void verify_document(struct doc *root, const struct verify_outcome *o);
/* The exit status of a status: 0 OK, 2 malformed input or our side, 1 otherwise. */
int verify_exit_status(enum ntlm_status st);

/* diagnose.c: one sentence saying why (verify's "reason"), and the advice. */
void explain(const struct verify_outcome *o, char *reason, size_t reason_len, char *advice,
             size_t advice_len);

#endif /* PAM_NTLM_NTLMTOOL_NTLMTOOL_H */
