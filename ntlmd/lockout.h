/* placeholder: being written */
#ifndef PAM_NTLM_NTLMD_LOCKOUT_H
#define PAM_NTLM_NTLMD_LOCKOUT_H
#endif
