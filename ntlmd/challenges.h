/* placeholder: being written */
#ifndef PAM_NTLM_NTLMD_CHALLENGES_H
#define PAM_NTLM_NTLMD_CHALLENGES_H
#endif
