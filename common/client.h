/* placeholder: being written */
#ifndef PAM_NTLM_COMMON_CLIENT_H
#define PAM_NTLM_COMMON_CLIENT_H
#endif
