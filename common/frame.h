/* placeholder: being written */
#ifndef PAM_NTLM_COMMON_FRAME_H
#define PAM_NTLM_COMMON_FRAME_H
#endif
