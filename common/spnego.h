/* placeholder: being written */
#ifndef PAM_NTLM_COMMON_SPNEGO_H
#define PAM_NTLM_COMMON_SPNEGO_H
#endif
