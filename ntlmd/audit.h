/* placeholder: being written */
#ifndef PAM_NTLM_NTLMD_AUDIT_H
#define PAM_NTLM_NTLMD_AUDIT_H
#endif
