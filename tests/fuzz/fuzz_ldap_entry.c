/* libFuzzer target: ntlmd_ldap_entry_parse (ldap/ldap_entry.c), the
 * mapping of an ldap entry's values to an account. The input is an entry
 * as lines "name:value" (the value to the end of the line, NULs included);
 * consecutive lines of one name are the values of a multi-valued
 * attribute. The attribute names are the store's defaults (ntlmd.conf(5)
 * "map"). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ldap_entry.h"

#define MAX_LINES 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The names are NUL-terminated copies in names[]; the values point into
 * data. */
static size_t split_entry(const uint8_t *data, size_t size, char names[MAX_LINES][64],
                          struct ntlmd_ldap_value values[MAX_LINES],
                          struct ntlmd_ldap_attribute attrs[MAX_LINES])
{
	size_t n_attrs = 0, n_values = 0, pos = 0;

	while (pos < size && n_values < MAX_LINES) {
		const uint8_t *line = data + pos, *nl = memchr(line, '\n', size - pos), *colon;
		size_t len = nl != NULL ? (size_t)(nl - line) : size - pos;

		pos += len + 1;
		colon = memchr(line, ':', len);
		if (colon == NULL || colon == line || (size_t)(colon - line) >= 64)
			continue;
		values[n_values] =
		    (struct ntlmd_ldap_value){(const char *)colon + 1, len - (size_t)(colon - line) - 1};
		if (n_attrs > 0 && strlen(names[n_attrs - 1]) == (size_t)(colon - line) &&
		    memcmp(names[n_attrs - 1], line, (size_t)(colon - line)) == 0) {
			attrs[n_attrs - 1].count++;
		} else {
			memcpy(names[n_attrs], line, (size_t)(colon - line));
			names[n_attrs][colon - line] = '\0';
			attrs[n_attrs] = (struct ntlmd_ldap_attribute){names[n_attrs], &values[n_values], 1};
			n_attrs++;
		}
		n_values++;
	}
	return n_attrs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char names[MAX_LINES][64];
	struct ntlmd_ldap_value values[MAX_LINES];
	struct ntlmd_ldap_attribute attrs[MAX_LINES];
	struct ntlmd_ldap_entry entry = {attrs, 0};
	struct ntlmd_ldap_entry_fault fault;
	struct ntlmd_account a;
	int64_t t;

	if (size > 65536)
		return 0;
	entry.count = split_entry(data, size, names, values, attrs);
	if (ntlmd_ldap_entry_parse(&entry, ntlmd_ldap_default_attrs, &a, &fault) == NTLM_OK)
		ntlmd_account_clear(&a);
	(void)ntlmd_ldap_entry_bad_count(&entry, ntlmd_ldap_default_attrs, &t);
	return 0;
}
