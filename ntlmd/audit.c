/*
 * audit.c: ntlmd's log lines and audit records.
 *
 * Every text value that reaches a log comes from a client (user names,
 * workstation names, service names), so it is escaped: quotes, backslashes
 * and control characters never reach syslog or the JSON file raw.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

/* ntlmd_log is called from the loop and from the store workers (through
 * the backends' logger): the level is read atomically (a reload sets it),
 * syslog(3) is thread-safe, and a line to stderr is one write(2), so
 * lines of two threads never mix. log_to_stderr is set before any worker
 * starts. */
static bool log_to_stderr;
static int log_level = LOG_INFO;
static int audit_fd = -1;

void ntlmd_log_open(bool to_stderr, int level)
{
	log_to_stderr = to_stderr;
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
	openlog("ntlmd", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void ntlmd_log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

void ntlmd_log_close(void)
{
	closelog();
}

static const char *priority_name(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void ntlmd_log(int priority, const char *fmt, ...)
{
	char line[2048], out[2200];
	va_list ap;
	int n;

	if (priority > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(priority, "%s", line);
	if (!log_to_stderr)
		return;
	n = snprintf(out, sizeof(out), "ntlmd[%ld]: %s: %s\n", (long)getpid(), priority_name(priority), line);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(out)) { /* cut: the line still ends with its newline */
		n = (int)sizeof(out) - 1;
		out[n - 1] = '\n';
	}
	(void)!write(STDERR_FILENO, out, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

void ntlmd_audit_reset(struct ntlmd_audit_event *e)
{
	*e = (struct ntlmd_audit_event){0};
}

void ntlmd_audit_set(char field[NTLMD_AUDIT_TEXT], const char *s)
{
	size_t n;

	if (s == NULL) {
		field[0] = '\0';
		return;
	}
	n = strlen(s);
	if (n < NTLMD_AUDIT_TEXT) {
		memcpy(field, s, n + 1);
		return;
	}
	/* Cut before a UTF-8 continuation byte, and mark the cut. */
	n = NTLMD_AUDIT_TEXT - 4;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(field, s, n);
	memcpy(field + n, "...", 4);
}

void ntlmd_audit_set_account(struct ntlmd_audit_event *e, const char *domain, const char *name,
                             const char *key)
{
	char joined[NTLMD_AUDIT_TEXT];

	if (domain != NULL && domain[0] != '\0')
		snprintf(joined, sizeof(joined), "%s\\%s", domain, name != NULL ? name : "");
	else
		snprintf(joined, sizeof(joined), "%s", name != NULL ? name : "");
	ntlmd_audit_set(e->account, joined);
	ntlmd_audit_set(e->account_key, key);
}

const char *ntlmd_audit_outcome(enum ntlm_status st)
{
	if (st == NTLM_OK)
		return "success";
	if (ntlm_status_is_malformed(st))
		return "malformed";
	if ((st >= NTLM_STATUS_WRONG_PASSWORD && st <= NTLM_STATUS_CHALLENGE_EXPIRED) ||
	    st == NTLM_STATUS_NO_SUCH_GROUP)
		return "failure";
	return "error";
}

/* A growing string; on allocation failure it stops growing and
 * sb_finish() returns NULL. */
struct sb {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->p == NULL || b->cap - b->len <= n) {
		size_t cap = (b->cap + n) * 2 + 64;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static char *sb_finish(struct sb *b)
{
	if (b->failed) {
		free(b->p);
		return NULL;
	}
	if (b->p == NULL)
		sb_add(b, "", 0);
	return b->p;
}

/* s as a JSON string (RFC 8259 7): quotes, backslash and every control
 * character escaped; other bytes are valid UTF-8 already (the frame
 * decoder and libntlmssp check it) and are kept. */
static void sb_json_string(struct sb *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"')
			sb_add(b, "\\\"", 2);
		else if (*p == '\\')
			sb_add(b, "\\\\", 2);
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(b, "\\u%04x", *p);
		else
			sb_add(b, (const char *)p, 1);
	}
	sb_add(b, "\"", 1);
}

/* s as a quoted syslog value: the same escapes, in C style. */
static void sb_text_string(struct sb *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			sb_add(b, "\\", 1);
			sb_add(b, (const char *)p, 1);
		} else if (*p < 0x20 || *p == 0x7f) {
			sb_printf(b, "\\x%02x", *p);
		} else {
			sb_add(b, (const char *)p, 1);
		}
	}
	sb_add(b, "\"", 1);
}

static void json_key(struct sb *b, const char *key)
{
	sb_printf(b, ",\"%s\":", key);
}

static void json_str(struct sb *b, const char *key, const char *value)
{
	json_key(b, key);
	if (value == NULL || value[0] == '\0')
		sb_str(b, "null");
	else
		sb_json_string(b, value);
}

static void json_bool(struct sb *b, const char *key, bool value)
{
	json_key(b, key);
	sb_str(b, value ? "true" : "false");
}

/* The text fields of a record, with their JSON and log-line names. */
struct named_text {
	const char *json, *text, *value;
};
#define N_NAMED_TEXTS 11

static void named_texts(const struct ntlmd_audit_event *e, struct named_text out[N_NAMED_TEXTS])
{
	const struct named_text all[N_NAMED_TEXTS] = {
	    {"service", "service", e->service},
	    {"client_address", "client", e->client_address},
	    {"user", "user", e->user},
	    {"domain", "domain", e->domain},
	    {"account", "account", e->account},
	    {"account_key", "account_key", e->account_key},
	    {"workstation", "workstation", e->workstation},
	    {"response_type", "type",
	     e->has_response_type ? ntlm_response_type_name(e->response_type) : NULL},
	    {"spn", "spn", e->client_spn},
	    {"backend", "backend", e->backend},
	    {"detail", "detail", e->detail},
	};

	memcpy(out, all, sizeof(all));
}

char *ntlmd_audit_json(const struct ntlmd_audit_event *e, int64_t now_us)
{
	struct named_text texts[N_NAMED_TEXTS];
	struct sb b = {0};
	time_t secs = (time_t)(now_us / 1000000);
	struct tm tm;
	char when[40];

	if (gmtime_r(&secs, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "1970-01-01T00:00:00");
	sb_printf(&b, "{\"time\":\"%s.%06dZ\"", when, (int)(now_us % 1000000));
	json_str(&b, "request", e->request);
	json_str(&b, "outcome", ntlmd_audit_outcome(e->status));
	json_str(&b, "status", ntlm_status_name(e->status));
	sb_printf(&b, ",\"code\":\"0x%08X\",\"caller_uid\":%u,\"caller_pid\":%d",
	          (unsigned)ntlm_status_code(e->status), (unsigned)e->uid, (int)e->pid);
	named_texts(e, texts);
	for (size_t i = 0; i < N_NAMED_TEXTS; i++)
		json_str(&b, texts[i].json, texts[i].value);
	/* The same keys in every record; the verdicts are null when no
	 * NTLMSSP exchange was verified. */
	json_bool(&b, "mic_present", e->has_verdicts && e->mic != NTLM_VERDICT_ABSENT);
	json_bool(&b, "mic_verified", e->has_verdicts && e->mic == NTLM_VERDICT_VALID);
	json_str(&b, "mic", e->has_verdicts ? ntlm_verdict_name(e->mic) : NULL);
	json_bool(&b, "cb_present", e->has_verdicts && e->channel_bindings != NTLM_VERDICT_ABSENT);
	json_bool(&b, "cb_verified", e->has_verdicts && e->channel_bindings == NTLM_VERDICT_VALID);
	json_str(&b, "cb", e->has_verdicts ? ntlm_verdict_name(e->channel_bindings) : NULL);
	json_str(&b, "spn_check", e->has_verdicts ? ntlm_verdict_name(e->target_name) : NULL);
	json_key(&b, "clock_skew_s");
	if (e->has_clock_skew)
		sb_printf(&b, "%lld", (long long)e->clock_skew);
	else
		sb_str(&b, "null");
	sb_printf(&b, ",\"latency_us\":%lld}", (long long)e->latency_us);
	return sb_finish(&b);
}

/* key="value" for a non-empty text field. */
static void text_str(struct sb *b, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	sb_printf(b, " %s=", key);
	sb_text_string(b, value);
}

char *ntlmd_audit_text(const struct ntlmd_audit_event *e)
{
	struct named_text texts[N_NAMED_TEXTS];
	struct sb b = {0};

	sb_printf(&b, "%s %s status=%s code=0x%08X uid=%u pid=%d",
	          e->request != NULL ? e->request : "REQUEST", ntlmd_audit_outcome(e->status),
	          ntlm_status_name(e->status), (unsigned)ntlm_status_code(e->status), (unsigned)e->uid,
	          (int)e->pid);
	named_texts(e, texts);
	for (size_t i = 0; i < N_NAMED_TEXTS; i++)
		text_str(&b, texts[i].text, texts[i].value);
	if (e->has_verdicts)
		sb_printf(&b, " mic=%s cb=%s spn_check=%s", ntlm_verdict_name(e->mic),
		          ntlm_verdict_name(e->channel_bindings), ntlm_verdict_name(e->target_name));
	if (e->has_clock_skew)
		sb_printf(&b, " clock_skew=%llds", (long long)e->clock_skew);
	sb_printf(&b, " latency_us=%lld", (long long)e->latency_us);
	return sb_finish(&b);
}

enum ntlm_status ntlmd_audit_open(const char *json_path)
{
	int fd;

	if (json_path == NULL || json_path[0] == '\0') {
		ntlmd_audit_close();
		return NTLM_OK;
	}
	fd = open(json_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
	if (fd < 0)
		return NTLM_ERR_BACKEND_UNAVAILABLE;
	ntlmd_audit_close();
	audit_fd = fd;
	return NTLM_OK;
}

int ntlmd_audit_chown(uid_t uid, gid_t gid)
{
	if (audit_fd < 0)
		return 0;
	return fchown(audit_fd, uid, gid);
}

void ntlmd_audit_close(void)
{
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
}

void ntlmd_audit_write(const struct ntlmd_audit_event *e)
{
	struct timespec ts;
	char *text, *json;
	int priority;

	if (e->request == NULL)
		return;
	priority = e->status == NTLM_OK ? LOG_INFO : LOG_NOTICE;
	if (strcmp(ntlmd_audit_outcome(e->status), "error") == 0) /* our side: not the client's */
		priority = LOG_ERR;
	if (priority <= log_level) { /* not formatted when not logged */
		text = ntlmd_audit_text(e);
		ntlmd_log(priority, "%s", text != NULL ? text : "audit record lost: out of memory");
		free(text);
	}
	if (audit_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	json = ntlmd_audit_json(e, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	if (json != NULL) {
		size_t n = strlen(json);
		json[n] = '\n'; /* replaces the NUL: written with its length */
		/* One write() per record: O_APPEND keeps lines whole. */
		if (write(audit_fd, json, n + 1) < 0)
			ntlmd_log(LOG_ERR, "cannot write the audit file: %s", strerror(errno));
		free(json);
	}
}
