/*
 * main.c: ntlmtool's entry point, its messages, and the output document
 * every subcommand prints as text or as JSON.
 */
#include <config.h>

#include "ntlmtool.h"

#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: ntlmtool COMMAND [OPTION]... [ARG]...\n"
    "\n"
    "Decode, verify and diagnose NTLM exchanges; manage NT hashes.\n"
    "\n"
    "commands:\n"
    "  decode [--json] [--at TIME] [INPUT|-]\n"
    "                    print every field of an NTLMSSP message or Negotiate token\n"
    "  verify [--negotiate B64] --challenge B64 --authenticate B64\n"
    "         (--nt-hash HEX | --password PW | --hashes SMBPASSWD_FILE)\n"
    "         [--channel-bindings HEX] [--at TIME] [-o KEY=VALUE]... [--config FILE] [--json]\n"
    "                    verify a captured exchange offline\n"
    "  diagnose          the options of verify; explains the outcome and the setting to change\n"
    "  hash [--lm] [--json] [PASSWORD|-]\n"
    "                    print the NT hash (and LM hash) of a password\n"
    "  passwd --file SMBPASSWD (useradd|del|disable|enable|unlock) USER\n"
    "  passwd --file SMBPASSWD list [--show-hashes] [--json]\n"
    "                    edit an smbpasswd-format file safely\n"
    "  client --user USER (--password PW | --nt-hash HEX) [--challenge B64] ...\n"
    "                    produce NEGOTIATE, then AUTHENTICATE for a CHALLENGE\n"
    "  stats [--socket PATH] [--json | --prometheus]\n"
    "                    ntlmd's statistics: requests, statuses, latency, stores\n"
    "\n"
    "'ntlmtool COMMAND --help' describes each command. Exit status: 0 success\n"
    "(authenticated), 1 rejected, 2 usage or input error. See ntlmtool(1).\n";

/* ------------------------------------------------------------------ */
/* Messages and allocation                                             */
/* ------------------------------------------------------------------ */

static void vmessage(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "ntlmtool%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int tool_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
	return TOOL_USAGE;
}

int tool_status_error(const char *cmd, const char *what, enum ntlm_status st)
{
	return tool_error(cmd, "%s: %s (%s)", what, ntlm_status_message(st), ntlm_status_name(st));
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'ntlmtool%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return TOOL_USAGE;
}

static void out_of_memory(void)
{
	fputs("ntlmtool: out of memory\n", stderr);
	exit(TOOL_USAGE);
}

void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		out_of_memory();
	return p;
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		out_of_memory();
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ------------------------------------------------------------------ */
/* The document                                                        */
/* ------------------------------------------------------------------ */

static struct doc *doc_add(struct doc *parent, enum doc_type type, const char *key, const char *label)
{
	struct doc *d = xmalloc(sizeof(*d));

	d->type = type;
	d->offset = -1;
	d->key = key ? xstrdup(key) : NULL;
	d->label = label ? xstrdup(label) : NULL;
	if (parent != NULL) {
		if (parent->last != NULL)
			parent->last->next = d;
		else
			parent->first = d;
		parent->last = d;
	}
	return d;
}

struct doc *doc_new(void)
{
	return doc_add(NULL, DOC_OBJECT, NULL, NULL);
}

struct doc *doc_object(struct doc *parent, const char *key, const char *label)
{
	return doc_add(parent, DOC_OBJECT, key, label);
}

struct doc *doc_array(struct doc *parent, const char *key, const char *label)
{
	return doc_add(parent, DOC_ARRAY, key, label);
}

struct doc *doc_str(struct doc *parent, const char *key, const char *label, const char *fmt, ...)
{
	struct doc *d = doc_add(parent, DOC_STRING, key, label);
	va_list ap;

	va_start(ap, fmt);
	d->value = xvasprintf(fmt, ap);
	va_end(ap);
	return d;
}

struct doc *doc_num(struct doc *parent, const char *key, const char *label, long long v)
{
	struct doc *d = doc_add(parent, DOC_NUMBER, key, label);

	d->value = xasprintf("%lld", v);
	return d;
}

struct doc *doc_bool(struct doc *parent, const char *key, const char *label, bool v)
{
	struct doc *d = doc_add(parent, DOC_BOOL, key, label);

	d->value = xstrdup(v ? "true" : "false");
	return d;
}

struct doc *doc_null(struct doc *parent, const char *key, const char *label)
{
	return doc_add(parent, DOC_NULL, key, label);
}

struct doc *doc_hex(struct doc *parent, const char *key, const char *label, const uint8_t *p, size_t n)
{
	struct doc *d = doc_add(parent, DOC_STRING, key, label);

	d->value = xmalloc(2 * n + 1);
	hex_format(p, n, d->value);
	return d;
}

struct doc *doc_at(struct doc *node, long offset)
{
	node->offset = offset;
	return node;
}

void doc_summary(struct doc *node, const char *fmt, ...)
{
	va_list ap;

	free(node->value);
	va_start(ap, fmt);
	node->value = xvasprintf(fmt, ap);
	va_end(ap);
}

struct doc *doc_only(struct doc *node, enum doc_show show)
{
	node->show = show;
	return node;
}

void doc_free(struct doc *d)
{
	while (d != NULL) {
		struct doc *next = d->next;

		doc_free(d->first);
		free(d->key);
		free(d->label);
		if (d->value != NULL) /* values may be hashes or session keys */
			ntlm_wipe(d->value, strlen(d->value));
		free(d->value);
		free(d);
		d = next;
	}
}

/* True when any node below d carries an offset: the text form then has an
 * offset column. */
static bool has_offsets(const struct doc *d)
{
	for (; d != NULL; d = d->next)
		if ((d->offset >= 0 && d->show != DOC_JSON_ONLY) || has_offsets(d->first))
			return true;
	return false;
}

#define TEXT_LABEL_WIDTH 34
#define TEXT_LINE_WIDTH  110
#define TEXT_WRAP_MIN    80

/* Prints value from column col; prose longer than TEXT_WRAP_MIN is wrapped
 * at spaces before TEXT_LINE_WIDTH, continuation lines starting at col. */
/* n bytes of a value as text for a terminal: a control byte (C0, DEL)
 * as \xNN, so that what a message, a file or a daemon's reply carries
 * cannot move the cursor or start an escape sequence. */
static void put_text(FILE *f, const char *value, size_t n)
{
	for (const unsigned char *p = (const unsigned char *)value; n > 0; p++, n--) {
		if (*p < 0x20u || *p == 0x7fu)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void print_wrapped(FILE *f, const char *value, int col)
{
	int room = strlen(value) > TEXT_WRAP_MIN ? TEXT_LINE_WIDTH - col : 0;

	while (room >= 30 && (int)strlen(value) > room) {
		int cut = room;

		while (cut > 0 && value[cut] != ' ')
			cut--;
		if (cut == 0)
			break;
		put_text(f, value, (size_t)cut);
		fprintf(f, "\n%*s", col, "");
		value += cut + 1;
	}
	put_text(f, value, strlen(value));
	fputc('\n', f);
}

/* Display width of UTF-8 text, counted in characters (continuation bytes
 * do not count), so that columns stay aligned for non-ASCII names. */
static int display_width(const char *s)
{
	int n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p & 0xC0u) != 0x80u)
			n++;
	return n;
}

/* Text form: "label  value" lines indented by depth; a container whose
 * label is "" is transparent (its children take its place); array elements
 * without a label print their value alone. */
static void print_text(FILE *f, const struct doc *d, int depth, bool column)
{
	for (; d != NULL; d = d->next) {
		const char *label = d->label ? d->label : d->key;
		const char *value =
		    d->type == DOC_BOOL ? (strcmp(d->value, "true") == 0 ? "yes" : "no") : d->value;
		bool container = d->type == DOC_OBJECT || d->type == DOC_ARRAY;
		int width = TEXT_LABEL_WIDTH - 2 * depth;

		if (d->show == DOC_JSON_ONLY || d->type == DOC_NULL)
			continue;
		if (container && label != NULL && label[0] == '\0') {
			print_text(f, d->first, depth, column);
			continue;
		}
		if (column) {
			if (d->offset >= 0)
				fprintf(f, "0x%04lx  ", (unsigned long)d->offset);
			else
				fputs("        ", f);
		}
		fprintf(f, "%*s", 2 * depth, "");
		if (value != NULL && value[0] == '\0' && d->type == DOC_STRING)
			value = "(empty)";
		if (label == NULL) {
			print_wrapped(f, value ? value : "", (column ? 8 : 0) + 2 * depth);
		} else if (value != NULL) {
			int pad = (width < 1 ? 1 : width) - display_width(label);
			int w = display_width(label) + (pad > 0 ? pad : 0) + 1;

			put_text(f, label, strlen(label));
			fprintf(f, "%*s ", pad > 0 ? pad : 0, "");

			print_wrapped(f, value, (column ? 8 : 0) + 2 * depth + w);
		} else {
			put_text(f, label, strlen(label));
			fputc('\n', f);
		}
		if (container)
			print_text(f, d->first, depth + 1, column);
	}
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20u || *p == 0x7Fu)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void print_json(FILE *f, const struct doc *d, int depth);

/* The members of an object or the elements of an array. */
static void print_json_children(FILE *f, const struct doc *d, int depth)
{
	bool object = d->type == DOC_OBJECT, first = true;

	fputc(object ? '{' : '[', f);
	if (object && d->offset >= 0) {
		fprintf(f, "\n%*s\"offset\": %ld", 2 * (depth + 1), "", d->offset);
		first = false;
	}
	for (const struct doc *c = d->first; c != NULL; c = c->next) {
		if (c->show == DOC_TEXT_ONLY)
			continue;
		fprintf(f, "%s\n%*s", first ? "" : ",", 2 * (depth + 1), "");
		first = false;
		if (object) {
			json_string(f, c->key ? c->key : (c->label ? c->label : ""));
			fputs(": ", f);
		}
		print_json(f, c, depth + 1);
	}
	if (!first)
		fprintf(f, "\n%*s", 2 * depth, "");
	fputc(object ? '}' : ']', f);
}

static void print_json(FILE *f, const struct doc *d, int depth)
{
	switch (d->type) {
	case DOC_OBJECT:
	case DOC_ARRAY:
		print_json_children(f, d, depth);
		break;
	case DOC_STRING:
		json_string(f, d->value);
		break;
	case DOC_NUMBER:
	case DOC_BOOL:
		fputs(d->value, f);
		break;
	case DOC_NULL:
		fputs("null", f);
		break;
	}
}

void doc_print(FILE *f, const struct doc *root, bool json)
{
	if (json) {
		print_json(f, root, 0);
		fputc('\n', f);
	} else {
		print_text(f, root->first, 0, has_offsets(root->first));
	}
	fflush(f);
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
    {"decode", cmd_decode}, {"verify", cmd_verify}, {"diagnose", cmd_diagnose}, {"hash", cmd_hash},
    {"passwd", cmd_passwd}, {"client", cmd_client}, {"stats", cmd_stats},
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return tool_usage_error(
		    NULL, "a command is required (decode, verify, diagnose, hash, passwd, client)");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return TOOL_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ntlmtool (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return TOOL_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	return tool_usage_error(NULL, "unknown command '%s'", argv[1]);
}
