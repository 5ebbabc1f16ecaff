/*
 * hash.c: "ntlmtool hash": the NT hash (MS-NLMP 3.3.1 NTOWFv1) and, with
 * --lm, the LM hash (LMOWFv1) of a password. The password comes from the
 * command line, from stdin ("-"), or from the terminal without echo; never
 * from the environment.
 */
#include <config.h>

#include "ntlmtool.h"

static const char hash_usage[] =
    "usage: ntlmtool hash [--lm] [--json] [PASSWORD|-]\n"
    "\n"
    "Prints the NT hash (NTOWFv1, MD4 of the UTF-16LE password) and with --lm the\n"
    "LM hash (LMOWFv1; none for passwords over 14 bytes). Without PASSWORD it is\n"
    "read from the terminal without echo, or from standard input when that is not\n"
    "a terminal; '-' reads one line from standard input. A PASSWORD argument is\n"
    "visible to other users in the process list.\n"
    "\n"
    "  --lm     also print the LM hash\n"
    "  --json   machine-readable output\n";

int cmd_hash(int argc, char **argv)
{
	static const struct option opts[] = {OPTION_FLAG("lm", 'l'), OPTION_JSON, OPTION_HELP, OPTION_END};
	bool lm = false, json = false;
	const struct opt_store store[] = {{'l', NULL, &lm}, {'j', NULL, &json}, {0, NULL, NULL}};
	struct ntlm_hash nt = {{0}}, lmh = {{0}};
	struct doc *root;
	char *pw = NULL;
	enum ntlm_status st;
	int rc = parse_options("hash", argc, argv, ":h", opts, store, hash_usage, NULL, NULL);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if (argc - optind > 1)
		return tool_usage_error("hash", "one password at a time");
	rc = read_password("hash", optind < argc ? argv[optind] : NULL, "Password: ", false, &pw);
	if (rc != TOOL_OK)
		return rc;
	st = ntlm_ntowfv1(pw, &nt);
	if (st != NTLM_OK) {
		free_password(pw);
		return tool_status_error("hash", "cannot hash the password", st);
	}
	root = doc_new();
	doc_hex(root, "nt_hash", "NT hash", nt.bytes, sizeof(nt.bytes));
	if (lm && ntlm_lmowfv1(pw, &lmh) == NTLM_OK)
		doc_hex(root, "lm_hash", "LM hash", lmh.bytes, sizeof(lmh.bytes));
	else if (lm)
		doc_only(doc_str(root, "lm_hash", "LM hash", "none (the password is longer than 14 bytes)"),
		         DOC_TEXT_ONLY);
	if (lm && root->last->show == DOC_TEXT_ONLY)
		doc_only(doc_null(root, "lm_hash", NULL), DOC_JSON_ONLY);
	free_password(pw);
	doc_print(stdout, root, json);
	doc_free(root);
	ntlm_wipe(&nt, sizeof(nt));
	ntlm_wipe(&lmh, sizeof(lmh));
	return TOOL_OK;
}
