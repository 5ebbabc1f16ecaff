#!/bin/sh
# conffile.sh: the files "make install" puts into sysconfdir (ntlmd.conf,
# the logrotate rule) belong to the admin once installed.
#
#   conffile.sh install SHIPPED DEST INSTALL-COMMAND...
#       installs SHIPPED as DEST with INSTALL-COMMAND (e.g. "install -m 644")
#       only when DEST does not exist; an existing DEST is never touched.
#   conffile.sh uninstall SHIPPED DEST
#       removes DEST only while it is SHIPPED byte for byte (the file this
#       build installed); an edited DEST stays.
# Either says what it did or did not do, with the paths.
set -u

install_conffile() { # shipped dest command...
    shipped=$1
    dest=$2
    shift 2
    if [ -e "$dest" ] || [ -L "$dest" ]; then
        echo "  kept $dest, which exists (the shipped one: $shipped)"
        return 0
    fi
    mkdir -p "$(dirname "$dest")" || return 1
    echo "  $* $shipped $dest"
    "$@" "$shipped" "$dest"
}

uninstall_conffile() { # shipped dest
    if [ ! -e "$1" ]; then
        echo "conffile.sh: $1 is missing: run make first" >&2
        return 1
    fi
    [ -e "$2" ] || return 0
    if cmp -s "$1" "$2"; then
        echo "  rm -f $2"
        rm -f "$2"
    else
        echo "  kept $2: it differs from the shipped $1 (edited)"
    fi
}

case "${1:-}" in
install)
    [ $# -ge 4 ] || { echo "usage: conffile.sh install SHIPPED DEST INSTALL-COMMAND..." >&2; exit 2; }
    shift
    install_conffile "$@"
    ;;
uninstall)
    [ $# -eq 3 ] || { echo "usage: conffile.sh uninstall SHIPPED DEST" >&2; exit 2; }
    shift
    uninstall_conffile "$@"
    ;;
*)
    echo "usage: conffile.sh install|uninstall SHIPPED DEST [INSTALL-COMMAND...]" >&2
    exit 2
    ;;
esac
