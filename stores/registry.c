/*
 * registry.c: the table of the credential stores. A new store is one line
 * here: its struct ntlmd_backend carries its functions and its keys.
 */
#include <config.h>

#include "registry.h"
#include "ldapstore.h"

#include <stdio.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct ntlmd_backend *const registry[] = {
    &ntlmd_backend_files,
    &ntlmd_backend_ldap,
};

/* The stores' keys as ntlmd.conf's parser takes them (common/ below us
 * knows no store). */
static const struct ntlmd_config_store *const config_stores[] = {
    &ntlmd_backend_files.config,
    &ntlmd_backend_ldap.config,
};
_Static_assert(ARRAY_LEN(config_stores) == ARRAY_LEN(registry), "one config entry per store");
_Static_assert(ARRAY_LEN(registry) <= NTLMD_CONFIG_MAX_STORES, "too many stores for ntlmd.conf");

const struct ntlmd_backend *const *ntlmd_stores(size_t *ret_n)
{
	if (ret_n != NULL)
		*ret_n = ARRAY_LEN(registry);
	return registry;
}

const struct ntlmd_backend *ntlmd_backend_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < ARRAY_LEN(registry); i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

enum ntlm_status ntlmd_stores_config_load(const char *path, struct ntlmd_config *cfg,
                                          struct ntlmd_config_error *errors, size_t max_errors,
                                          size_t *ret_n_errors)
{
	return ntlmd_config_load_stores(path, config_stores, ARRAY_LEN(config_stores), cfg, errors,
	                                max_errors, ret_n_errors);
}

size_t ntlmd_backends_check_config(const struct ntlmd_config *cfg, struct ntlmd_config_error *errs,
                                   size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(registry); i++) {
		size_t room = n < max ? max - n : 0;
		if (registry[i]->check_config != NULL)
			n += registry[i]->check_config(cfg, errs != NULL && room > 0 ? errs + n : NULL, room);
	}
	return n;
}

static bool backend_listed(const struct ntlmd_config *cfg, const char *name)
{
	for (size_t i = 0; cfg->backends != NULL && cfg->backends[i] != NULL; i++)
		if (strcmp(cfg->backends[i], name) == 0)
			return true;
	return false;
}

/* The store that declares key (NULL: none). */
static const struct ntlmd_config_store *store_of_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(config_stores); i++)
		for (const struct ntlmd_config_store_key *k = config_stores[i]->keys;
		     k != NULL && k->name != NULL; k++)
			if (strcmp(k->name, key) == 0)
				return config_stores[i];
	return NULL;
}

size_t ntlmd_backends_unused_keys(const struct ntlmd_config *cfg, struct ntlmd_config_error *warns,
                                  size_t max)
{
	size_t n = 0;

	for (size_t i = 0; cfg->extra_keys != NULL && cfg->extra_keys[i] != NULL; i++) {
		const struct ntlmd_config_store *store = store_of_key(cfg->extra_keys[i]);

		if (store == NULL || backend_listed(cfg, store->name))
			continue;
		if (n < max) {
			warns[n].line = cfg->extra_lines[i];
			snprintf(
			    warns[n].reason, sizeof(warns[n].reason),
			    "%s is a key of the %s store, which backends does not list: the line is ignored",
			    cfg->extra_keys[i], store->name);
		}
		n++;
	}
	return n;
}

enum ntlm_status ntlmd_backends_open_err(const struct ntlmd_config *cfg, struct ntlmd_backend_chain **ret,
                                         struct ntlmd_config_error *err)
{
	return ntlmd_backends_open_known(registry, ARRAY_LEN(registry), cfg, ret, err);
}

enum ntlm_status ntlmd_backends_open(const struct ntlmd_config *cfg, struct ntlmd_backend_chain **ret)
{
	return ntlmd_backends_open_known(registry, ARRAY_LEN(registry), cfg, ret, NULL);
}
