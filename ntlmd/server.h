/* placeholder: being written */
#ifndef PAM_NTLM_NTLMD_SERVER_H
#define PAM_NTLM_NTLMD_SERVER_H
#endif
