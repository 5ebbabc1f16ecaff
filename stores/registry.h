/*
 * registry.h: the one table of ntlmd's credential stores (files, ldap):
 * each with its name, its functions (struct ntlmd_backend) and the keys of
 * ntlmd.conf it declares. It sits above backends/ and ldap/, which never
 * include it: ntlmd and ntlmtool ask it which stores exist, which keys the
 * configuration file may use, and open the chain through it.
 */
#ifndef PAM_NTLM_REGISTRY_H
#define PAM_NTLM_REGISTRY_H

#include "backend.h"

/* The registered stores, and their count. */
const struct ntlmd_backend *const *ntlmd_stores(size_t *ret_n);
/* The store called name, or NULL. */
const struct ntlmd_backend *ntlmd_backend_find(const char *name);
/* ntlmd_config_load_stores with every registered store's keys: what ntlmd
 * and ntlmtool read ntlmd.conf with. */
enum ntlm_status ntlmd_stores_config_load(const char *path, struct ntlmd_config *cfg,
                                          struct ntlmd_config_error *errors, size_t max_errors,
                                          size_t *ret_n_errors);
/*
 * Checks the settings of every store that has keys of its own in
 * cfg->extra_* (ldap: uri, base, bindpw_file, ...; password files refused
 * when open to group or others). Problems go to errs (up to max, with line
 * numbers); the count of all of them is returned. ntlmd -t and the reload
 * call it.
 */
size_t ntlmd_backends_check_config(const struct ntlmd_config *cfg, struct ntlmd_config_error *errs,
                                   size_t max);
/*
 * The lines of cfg's file that set a key of a store `backends` does not
 * list: they are read (and their values checked by type) but serve
 * nothing, so ntlmd -t and the start warn of each (up to max in warns,
 * with line numbers); the count of all of them is returned.
 */
size_t ntlmd_backends_unused_keys(const struct ntlmd_config *cfg, struct ntlmd_config_error *warns,
                                  size_t max);
/* ntlmd_backends_open_known over the registered stores. */
enum ntlm_status ntlmd_backends_open_err(const struct ntlmd_config *cfg, struct ntlmd_backend_chain **ret,
                                         struct ntlmd_config_error *err);
enum ntlm_status ntlmd_backends_open(const struct ntlmd_config *cfg, struct ntlmd_backend_chain **ret);

#endif /* PAM_NTLM_REGISTRY_H */
