/* placeholder: being written */
#ifndef PAM_NTLM_NTLMTOOL_NTLMTOOL_H
#define PAM_NTLM_NTLMTOOL_NTLMTOOL_H
#endif
