/* The installation's paths, compiled in here only: configure's sysconfdir
 * and runstatedir as make expands them (common/paths.am), so that
 * "configure --sysconfdir=DIR" and "make sysconfdir=DIR" both hold. */
#include "ntlmd_conf.h"

#if !defined(NTLMD_SYSCONFDIR) || !defined(NTLMD_RUNSTATEDIR)
#error "NTLMD_SYSCONFDIR and NTLMD_RUNSTATEDIR come from common/paths.am"
#endif

const char ntlmd_default_config[] = NTLMD_SYSCONFDIR "/ntlmd.conf";
const char ntlmd_default_socket[] = NTLMD_RUNSTATEDIR "/ntlmd/socket";
const char ntlmd_default_hash_file[] = NTLMD_SYSCONFDIR "/ntlmd/smbpasswd";
