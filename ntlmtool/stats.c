/*
 * stats.c: "ntlmtool stats": asks ntlmd for its STATS (docs/PROTOCOL.md)
 * and prints them as text, as one JSON object, or in the Prometheus text
 * exposition format for node_exporter's textfile collector.
 */
#include <config.h>

#include "ntlmtool.h"

#include "client.h"
#include "ntlmd_conf.h"
#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char stats_usage[] =
    "usage: ntlmtool stats [--socket PATH] [--json | --prometheus]\n"
    "\n"
    "Asks ntlmd for its statistics (the STATS request): requests by type, status\n"
    "and outcome, response types, MIC and channel-binding verdicts, latency\n"
    "histograms, the tables' occupancy, the store workers and each store's figures\n"
    "(the ldap store: cache hits and misses, each server's state). Only the callers\n"
    "that may VERIFY may ask it (root, allow_users, allow_groups).\n"
    "\n"
    "  --socket PATH   ntlmd's socket (default: the one ntlmd uses by default,\n"
    "                  which 'ntlmd -h' prints)\n"
    "  --json          one JSON object\n"
    "  --prometheus    the Prometheus text format (metrics named ntlmd_*), for\n"
    "                  node_exporter's textfile collector\n"
    "\n"
    "Exit status: 0 done, 1 ntlmd unreachable or refusing, 2 usage error.\n";

enum metric_type { COUNTER, GAUGE };

/* A u64 field of the reply. */
struct scalar {
	uint16_t tag;
	const char *key, *label, *help;
	enum metric_type type;
};

static const struct scalar scalars[] = {
    {NTLMD_TAG_UPTIME, "uptime_seconds", "uptime (s)", "Seconds since ntlmd started.", GAUGE},
    {NTLMD_TAG_REQUESTS, "requests", "requests answered", "Requests answered since start-up.", COUNTER},
    {NTLMD_TAG_REFUSED, "refused", "connections refused",
     "Connections closed without a reply (refused callers, malformed headers, timeouts).", COUNTER},
    {NTLMD_TAG_CONNECTIONS, "connections", "connections open", "Connections open now.", GAUGE},
    {NTLMD_TAG_CHALLENGES, "challenges", "challenges remembered", "Server challenges remembered now.", GAUGE},
    {NTLMD_TAG_CHALLENGE_CAPACITY, "challenge_capacity", "challenge capacity",
     "Challenges the table may hold (max_challenges).", GAUGE},
    {NTLMD_TAG_LOCKOUTS, "lockout_entries", "lockout entries", "Users and addresses with failure counters.",
     GAUGE},
    {NTLMD_TAG_STORE_WORKERS, "store_workers", "store workers", "Store worker threads (store_workers).",
     GAUGE},
    {NTLMD_TAG_STORE_BUSY, "store_busy", "store workers busy", "Store workers running a call now.", GAUGE},
    {NTLMD_TAG_STORE_QUEUED, "store_queued", "store calls queued", "Store calls waiting for a worker now.",
     GAUGE},
    {NTLMD_TAG_STORE_WAITING, "store_waiting", "requests waiting on a store",
     "Requests waiting for a store call now (queued or running).", GAUGE},
    {NTLMD_TAG_STORE_CALLS, "store_calls", "store calls", "Store calls sent to a worker.", COUNTER},
    {NTLMD_TAG_STORE_TIMEOUTS, "store_timeouts", "store timeouts",
     "Requests answered STATUS_NO_LOGON_SERVERS at store_timeout.", COUNTER},
    {NTLMD_TAG_LATE_ANSWERS, "late_answers", "late store answers",
     "Store answers that came after their request's deadline.", COUNTER},
    {NTLMD_TAG_WRITEBACKS, "writebacks", "lockout write-backs", "Lockout write-backs a worker ran.", COUNTER},
    {NTLMD_TAG_WRITEBACKS_DROPPED, "writebacks_dropped", "write-backs dropped",
     "Write-backs not run because too many were waiting.", COUNTER},
    {NTLMD_TAG_STORE_CANCELLED, "store_cancelled", "store calls cancelled",
     "Store calls taken back before a worker ran them: their client left or their deadline passed.", COUNTER},
};

/* A counts field: one counter with one label. */
struct family {
	uint16_t tag;
	const char *key, *label, *help, *label_name;
};

static const struct family families[] = {
    {NTLMD_TAG_STATS_REQUESTS, "requests_by_type", "requests by type", "Requests answered, by type.", "type"},
    {NTLMD_TAG_STATS_OUTCOMES, "replies_by_outcome", "replies by outcome",
     "Replies by the outcome of their status (success, failure, malformed, error).", "outcome"},
    {NTLMD_TAG_STATS_STATUSES, "replies_by_status", "replies by status", "Replies by NTSTATUS name.",
     "status"},
    {NTLMD_TAG_STATS_RESPONSE_TYPES, "response_types", "responses by type",
     "Verified responses by type (LM and NTLMv1 are weak).", "type"},
    {NTLMD_TAG_STATS_MIC, "mic_verdicts", "MIC verdicts",
     "NTLMSSP exchanges by MIC verdict (absent: no MIC sent; unchecked: sent, not checked).", "verdict"},
    {NTLMD_TAG_STATS_CHANNEL_BINDINGS, "channel_binding_verdicts", "channel-binding verdicts",
     "NTLMSSP exchanges by channel-binding verdict (absent: none sent; valid, invalid: checked; "
     "unchecked: sent, not checked).",
     "verdict"},
};

/* A histogram field, in seconds. */
struct histogram {
	uint16_t tag;
	const char *key, *label, *help;
};

static const struct histogram histograms[] = {
    {NTLMD_TAG_STATS_STORE_SECONDS, "store_call_seconds", "store call latency",
     "Time a store worker spent on one call (lookup, write, group search)."},
    {NTLMD_TAG_STATS_REQUEST_SECONDS, "request_seconds", "request latency",
     "Time from a request's start to its reply."},
};

/* ------------------------------------------------------------------ */
/* Reading the reply                                                   */

/* Seconds of us as text, without trailing zeros ("0.0005", "1"). */
static void format_seconds(uint64_t us, char *out, size_t n)
{
	size_t len;

	snprintf(out, n, "%llu.%06llu", (unsigned long long)(us / 1000000),
	         (unsigned long long)(us % 1000000));
	len = strlen(out);
	while (len > 0 && out[len - 1] == '0')
		out[--len] = '\0';
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
}

/* A number node of a u64 (doc_num takes long long). */
static struct doc *doc_u64(struct doc *parent, const char *key, const char *label, uint64_t v)
{
	struct doc *d = doc_num(parent, key, label, 0);

	free(d->value);
	d->value = xasprintf("%llu", (unsigned long long)v);
	return d;
}

/* Each record of a counts field through fn; a malformed one ends it. */
typedef void (*count_fn)(void *arg, const struct ntlmd_stats_count *c);
static enum ntlm_status each_count(const struct ntlmd_frame *f, uint16_t tag, count_fn fn, void *arg)
{
	struct ntlmd_stats_count c;
	struct ntlm_reader r;
	const uint8_t *p;
	size_t n;
	enum ntlm_status st;

	if (!ntlmd_frame_has(f, tag))
		return NTLM_OK;
	if ((st = ntlmd_frame_get_bytes(f, tag, &p, &n)) != NTLM_OK)
		return st;
	ntlm_reader_init(&r, p, n);
	while ((st = ntlmd_stats_next_count(&r, &c)) == NTLM_OK)
		fn(arg, &c);
	return st == NTLM_ERR_TRUNCATED && ntlm_reader_left(&r) == 0 ? NTLM_OK : st;
}

typedef void (*store_fn)(void *arg, const struct ntlmd_stats_store *s);
static enum ntlm_status each_store(const struct ntlmd_frame *f, store_fn fn, void *arg)
{
	struct ntlmd_stats_store *s = xmalloc(sizeof(*s));
	struct ntlm_reader r;
	const uint8_t *p;
	size_t n;
	enum ntlm_status st = NTLM_OK;

	if (!ntlmd_frame_has(f, NTLMD_TAG_STATS_STORES))
		goto out;
	if ((st = ntlmd_frame_get_bytes(f, NTLMD_TAG_STATS_STORES, &p, &n)) != NTLM_OK)
		goto out;
	ntlm_reader_init(&r, p, n);
	while ((st = ntlmd_stats_next_store(&r, s)) == NTLM_OK)
		fn(arg, s);
	if (st == NTLM_ERR_TRUNCATED && ntlm_reader_left(&r) == 0)
		st = NTLM_OK;
out:
	free(s);
	return st;
}

static enum ntlm_status read_histogram(const struct ntlmd_frame *f, uint16_t tag,
                                       struct ntlmd_stats_histogram *h)
{
	const uint8_t *p;
	size_t n;
	enum ntlm_status st = ntlmd_frame_get_bytes(f, tag, &p, &n);

	return st != NTLM_OK ? st : ntlmd_stats_read_histogram(p, n, h);
}

/* ------------------------------------------------------------------ */
/* Text and JSON                                                       */

static void doc_count(void *arg, const struct ntlmd_stats_count *c)
{
	doc_u64(arg, c->name, c->name, c->value);
}

/* A store record: an object in JSON, one line of text ("ldap
 * ldap://dc1 server_up: 0", its detail in parentheses). */
static void doc_store(void *arg, const struct ntlmd_stats_store *s)
{
	struct doc *o = doc_only(doc_object(arg, NULL, ""), DOC_JSON_ONLY);
	bool server = s->server[0] != '\0', detail = s->detail[0] != '\0';

	doc_only(doc_str(arg, NULL, NULL, "%s%s%s %s: %llu%s%s%s", s->store, server ? " " : "", s->server,
	                 s->name, (unsigned long long)s->value, detail ? " (" : "", s->detail,
	                 detail ? ")" : ""),
	         DOC_TEXT_ONLY);
	doc_str(o, "store", NULL, "%s", s->store);
	doc_str(o, "name", NULL, "%s", s->name);
	if (server)
		doc_str(o, "server", NULL, "%s", s->server);
	else
		doc_null(o, "server", NULL);
	if (detail)
		doc_str(o, "detail", NULL, "%s", s->detail);
	else
		doc_null(o, "detail", NULL);
	doc_u64(o, "value", NULL, s->value);
}

static void doc_histogram(struct doc *root, const struct histogram *hd, const struct ntlmd_stats_histogram *h)
{
	struct doc *o = doc_object(root, hd->key, hd->label), *b, *d;
	char le[32];

	doc_u64(o, "count", "count", h->count);
	d = doc_num(o, "sum", "sum (s)", 0);
	free(d->value);
	d->value = xasprintf("%llu.%06llu", (unsigned long long)(h->sum_us / 1000000),
	                     (unsigned long long)(h->sum_us % 1000000));
	b = doc_array(o, "buckets", "cumulative buckets");
	for (size_t i = 0; i < h->n; i++) {
		struct doc *e = doc_object(b, NULL, "");

		format_seconds(h->le_us[i], le, sizeof(le));
		doc_only(doc_str(e, "le", NULL, "%s", le), DOC_JSON_ONLY);
		doc_only(doc_u64(e, "count", NULL, h->cumulative[i]), DOC_JSON_ONLY);
		doc_only(doc_str(e, NULL, NULL, "<= %s s: %llu", le, (unsigned long long)h->cumulative[i]),
		         DOC_TEXT_ONLY);
	}
}

static enum ntlm_status build_doc(const struct ntlmd_frame *f, struct doc *root)
{
	struct ntlmd_stats_histogram *h = xmalloc(sizeof(*h));
	const char *version = ntlmd_frame_string(f, NTLMD_TAG_VERSION);
	enum ntlm_status st = NTLM_OK;
	uint64_t v;

	doc_str(root, "version", "ntlmd version", "%s", version != NULL ? version : "unknown");
	for (size_t i = 0; i < ARRAY_LEN(scalars); i++) {
		if (ntlmd_frame_get_u64(f, scalars[i].tag, &v) != NTLM_OK)
			continue;
		if (scalars[i].tag == NTLMD_TAG_UPTIME) {
			char up[32];

			format_duration(v > INT64_MAX ? INT64_MAX : (int64_t)v, up, sizeof(up));
			doc_only(doc_str(root, NULL, "uptime", "%s", up), DOC_TEXT_ONLY);
			doc_only(doc_u64(root, scalars[i].key, NULL, v), DOC_JSON_ONLY);
		} else {
			doc_u64(root, scalars[i].key, scalars[i].label, v);
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(families) && st == NTLM_OK; i++)
		st = each_count(f, families[i].tag, doc_count,
		                doc_object(root, families[i].key, families[i].label));
	for (size_t i = 0; i < ARRAY_LEN(histograms) && st == NTLM_OK; i++)
		if (ntlmd_frame_has(f, histograms[i].tag) &&
		    (st = read_histogram(f, histograms[i].tag, h)) == NTLM_OK)
			doc_histogram(root, &histograms[i], h);
	if (st == NTLM_OK)
		st = each_store(f, doc_store, doc_array(root, "stores", "stores"));
	free(h);
	return st;
}

/* ------------------------------------------------------------------ */
/* Prometheus text format (exposition format 0.0.4)                    */

/* A label value: backslash, double quote and line feed escaped. */
static void prom_label_value(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* A store figure's metric name, "ntlmd_store_" and the daemon's record
 * name with [a-zA-Z0-9_] kept and any other byte as '_'. */
#define STORE_METRIC_PREFIX "ntlmd_store_"
static void store_metric_name(const char *name, char out[sizeof(STORE_METRIC_PREFIX) + NTLMD_STATS_TEXT])
{
	size_t n = strlen(STORE_METRIC_PREFIX);

	memcpy(out, STORE_METRIC_PREFIX, n);
	for (; *name != '\0' && n < sizeof(STORE_METRIC_PREFIX) - 1 + NTLMD_STATS_TEXT; name++)
		out[n++] = (*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
		                   (*name >= '0' && *name <= '9') || *name == '_'
		               ? *name
		               : '_';
	out[n] = '\0';
}

static void prom_head(FILE *out, const char *name, const char *help, const char *type)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct prom_family {
	FILE *out;
	const struct family *fam;
};

static void prom_count(void *arg, const struct ntlmd_stats_count *c)
{
	struct prom_family *p = arg;

	fprintf(p->out, "ntlmd_%s_total{%s=", p->fam->key, p->fam->label_name);
	prom_label_value(p->out, c->name);
	fprintf(p->out, "} %llu\n", (unsigned long long)c->value);
}

static void prom_histogram(FILE *out, const struct histogram *hd, const struct ntlmd_stats_histogram *h)
{
	char name[64], le[32];

	snprintf(name, sizeof(name), "ntlmd_%s", hd->key);
	prom_head(out, name, hd->help, "histogram");
	for (size_t i = 0; i < h->n; i++) {
		format_seconds(h->le_us[i], le, sizeof(le));
		fprintf(out, "%s_bucket{le=\"%s\"} %llu\n", name, le, (unsigned long long)h->cumulative[i]);
	}
	fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	fprintf(out, "%s_sum %llu.%06llu\n", name, (unsigned long long)(h->sum_us / 1000000),
	        (unsigned long long)(h->sum_us % 1000000));
	fprintf(out, "%s_count %llu\n", name, (unsigned long long)h->count);
}

/* The store records, grouped by name (a metric's samples must be
 * together): one pass per distinct name, in order of first appearance. */
struct prom_stores {
	FILE *out;
	const char *name; /* the name printed in this pass */
	char seen[NTLMD_STATS_STORES][NTLMD_STATS_TEXT + 1];
	size_t n_seen;
	bool next_found;
	char next[NTLMD_STATS_TEXT + 1];
};

static void prom_store(void *arg, const struct ntlmd_stats_store *s)
{
	struct prom_stores *p = arg;
	size_t len = strlen(s->name);
	bool seen = false;

	if (s->name[0] == '\0')
		return; /* no metric without a name */
	if (strcmp(s->name, p->name) == 0) {
		char metric[sizeof(STORE_METRIC_PREFIX) + NTLMD_STATS_TEXT];

		store_metric_name(s->name, metric);
		fprintf(p->out, "%s{store=", metric);
		prom_label_value(p->out, s->store);
		if (s->server[0] != '\0') {
			fputs(",server=", p->out);
			prom_label_value(p->out, s->server);
		}
		if (s->detail[0] != '\0') {
			fputs(",detail=", p->out);
			prom_label_value(p->out, s->detail);
		}
		fprintf(p->out, "} %llu\n", (unsigned long long)s->value);
		return;
	}
	for (size_t i = 0; i < p->n_seen && !seen; i++)
		seen = strcmp(p->seen[i], s->name) == 0;
	if (!seen && !p->next_found) {
		p->next_found = true;
		memcpy(p->next, s->name, len + 1);
	}
}

static enum ntlm_status prom_stores(FILE *out, const struct ntlmd_frame *f)
{
	struct prom_stores *p = xmalloc(sizeof(*p));
	enum ntlm_status st;
	char metric[sizeof(STORE_METRIC_PREFIX) + NTLMD_STATS_TEXT];

	memset(p, 0, sizeof(*p));
	p->out = out;
	p->name = "";
	/* the first pass prints nothing and finds the first name */
	st = each_store(f, prom_store, p);
	while (st == NTLM_OK && p->next_found && p->n_seen < NTLMD_STATS_STORES) {
		size_t len = strlen(p->next);
		bool counter = len > 6 && strcmp(p->next + len - 6, "_total") == 0;

		memcpy(p->seen[p->n_seen], p->next, len + 1);
		p->name = p->seen[p->n_seen++];
		p->next_found = false;
		store_metric_name(p->name, metric);
		/* the name as in the metric's, never the daemon's bytes raw
		 * (a line feed there would start a sample of its own) */
		fprintf(out, "# HELP %s A store's %s (label store; server: one of its servers').\n", metric,
		        metric + strlen(STORE_METRIC_PREFIX));
		fprintf(out, "# TYPE %s %s\n", metric, counter ? "counter" : "gauge");
		st = each_store(f, prom_store, p);
	}
	free(p);
	return st;
}

static enum ntlm_status print_prometheus(FILE *out, const struct ntlmd_frame *f)
{
	struct ntlmd_stats_histogram *h = xmalloc(sizeof(*h));
	const char *version = ntlmd_frame_string(f, NTLMD_TAG_VERSION);
	enum ntlm_status st = NTLM_OK;
	char name[64];
	uint64_t v;

	prom_head(out, "ntlmd_info", "ntlmd's version (the value is 1).", "gauge");
	fputs("ntlmd_info{version=", out);
	prom_label_value(out, version != NULL ? version : "unknown");
	fputs("} 1\n", out);
	for (size_t i = 0; i < ARRAY_LEN(scalars); i++) {
		const struct scalar *s = &scalars[i];

		if (ntlmd_frame_get_u64(f, s->tag, &v) != NTLM_OK)
			continue;
		snprintf(name, sizeof(name), "ntlmd_%s%s", s->key, s->type == COUNTER ? "_total" : "");
		prom_head(out, name, s->help, s->type == COUNTER ? "counter" : "gauge");
		fprintf(out, "%s %llu\n", name, (unsigned long long)v);
	}
	for (size_t i = 0; i < ARRAY_LEN(families) && st == NTLM_OK; i++) {
		struct prom_family p = {out, &families[i]};

		if (!ntlmd_frame_has(f, families[i].tag))
			continue;
		snprintf(name, sizeof(name), "ntlmd_%s_total", families[i].key);
		prom_head(out, name, families[i].help, "counter");
		st = each_count(f, families[i].tag, prom_count, &p);
	}
	for (size_t i = 0; i < ARRAY_LEN(histograms) && st == NTLM_OK; i++)
		if (ntlmd_frame_has(f, histograms[i].tag) &&
		    (st = read_histogram(f, histograms[i].tag, h)) == NTLM_OK)
			prom_histogram(out, &histograms[i], h);
	if (st == NTLM_OK)
		st = prom_stores(out, f);
	free(h);
	return st;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */

/*
 * ntlmd refuses a caller by closing without a reply, as it does for a type
 * it does not know, so a PING (open to anyone) tells the cases apart: a
 * daemon that answers it refused STATS.
 */
static int report_unreachable(const char *socket_path, int err)
{
	struct ntlmd_reply ping;
	const char *path = socket_path != NULL ? socket_path : NTLMD_DEFAULT_SOCKET;

	if (ntlmd_call(socket_path, NTLMD_REQ_PING, NULL, 0, &ping) == NTLM_OK) {
		const char *version = ntlmd_frame_string(&ping.frame, NTLMD_TAG_VERSION);

		fprintf(
		    stderr,
		    "ntlmtool stats: STATUS_ACCESS_DENIED: ntlmd %s at %s answers PING but refused STATS: "
		    "only the callers that may VERIFY may ask it (root, allow_users, allow_groups of "
		    "ntlmd.conf(5)); an ntlmd older than STATS refuses it too\n",
		    version != NULL ? version : "", path);
		ntlmd_reply_clear(&ping);
		return TOOL_REJECTED;
	}
	fprintf(stderr, "ntlmtool stats: STATUS_NO_LOGON_SERVERS: cannot reach ntlmd at %s: %s\n", path,
	        err != 0 ? strerror(err) : "no reply");
	return TOOL_REJECTED;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {OPTION_ARG("socket", 's'), OPTION_JSON,
	                                     OPTION_FLAG("prometheus", 'P'), OPTION_HELP, OPTION_END};
	const char *socket_path = NULL;
	bool json = false, prometheus = false;
	const struct opt_store store[] = {
	    {'s', &socket_path, NULL}, {'j', NULL, &json}, {'P', NULL, &prometheus}, {0, NULL, NULL}};
	struct ntlmd_reply reply;
	struct doc *root;
	enum ntlm_status st;
	int rc = parse_options("stats", argc, argv, ":h", opts, store, stats_usage, NULL, NULL);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if (optind < argc)
		return tool_usage_error("stats", "unexpected argument '%s'", argv[optind]);
	if (json && prometheus)
		return tool_usage_error("stats", "--json and --prometheus exclude each other");
	errno = 0;
	st = ntlmd_call(socket_path, NTLMD_REQ_STATS, NULL, 0, &reply);
	if (st == NTLM_ERR_BACKEND_UNAVAILABLE)
		return report_unreachable(socket_path, errno);
	if (st != NTLM_OK) {
		fprintf(stderr, "ntlmtool stats: %s: ntlmd's reply is malformed: %s\n", ntlm_status_name(st),
		        ntlm_status_message(st));
		return TOOL_REJECTED;
	}
	if (reply.status != NTLM_OK) {
		fprintf(stderr, "ntlmtool stats: %s: ntlmd refused STATS: %s\n",
		        ntlm_status_name(reply.status), ntlm_status_message(reply.status));
		ntlmd_reply_clear(&reply);
		return TOOL_REJECTED;
	}
	if (prometheus) {
		st = print_prometheus(stdout, &reply.frame);
	} else {
		root = doc_new();
		st = build_doc(&reply.frame, root);
		if (st == NTLM_OK)
			doc_print(stdout, root, json);
		doc_free(root);
	}
	ntlmd_reply_clear(&reply);
	if (st != NTLM_OK) {
		fprintf(stderr, "ntlmtool stats: %s: a STATS record is malformed: %s\n", ntlm_status_name(st),
		        ntlm_status_message(st));
		return TOOL_REJECTED;
	}
	return TOOL_OK;
}
