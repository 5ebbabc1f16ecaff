#!/bin/sh
# pam-run.sh COMMAND...: runs COMMAND (pamtester, pam-su, the example
# server) as the pam tests run every PAM application: in a private mount
# namespace (unshare, root), with pam_wrapper. pam-lib.sh sets the
# environment it reads (pam_setup) and documents the mechanism
# ("Shipped service files"):
#
#   PAM_RUN_MODULES  a directory holding pam_ntlm.so (a link to the built
#                    module); laid over PAM_RUN_SYSMODS, the directory libpam
#                    loads a module named without a path from, so that
#                    "pam_ntlm.so" in a service file is the built module and
#                    every other name the system's module (read-only overlay)
#   PAM_RUN_SYSMODS  that directory (/lib/x86_64-linux-gnu/security on Debian)
#   PAM_RUN_ETC      when set, a directory whose upper/ is laid over /etc
#                    (writable overlay, work/ beside it): the test's own Unix
#                    users for pam_unix (passwd, shadow); /etc is not changed
#   PAM_RUN_PRELOAD  LD_PRELOAD of COMMAND: pam_wrapper (and the sanitizer
#                    runtimes when the module has them)
#   PAMD             the service directory pam_wrapper makes libpam read
#
# Every mount ends with the namespace, when COMMAND exits. Exit 125 when a
# mount fails (the caller's check then fails: nothing ran).
set -u
# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare --mount --propagation private -- sh -c '
set -u
mount -t overlay -o "ro,lowerdir=$PAM_RUN_MODULES:$PAM_RUN_SYSMODS" pam-ntlm-modules "$PAM_RUN_SYSMODS" || exit 125
if [ -n "${PAM_RUN_ETC:-}" ]; then
    mount -t overlay -o "lowerdir=/etc,upperdir=$PAM_RUN_ETC/upper,workdir=$PAM_RUN_ETC/work" pam-ntlm-etc /etc ||
        exit 125
fi
exec env LD_PRELOAD="$PAM_RUN_PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PAMD" PAM_WRAPPER_DEBUGLEVEL=2 "$@"
' pam-run "$@"
