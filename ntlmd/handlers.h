/* placeholder: being written */
#ifndef PAM_NTLM_NTLMD_HANDLERS_H
#define PAM_NTLM_NTLMD_HANDLERS_H
#endif
