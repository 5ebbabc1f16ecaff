#!/bin/sh
# check-layers.sh [SRCDIR]: the project's folders depend downwards only.
#
#   libntlm <- common <- backends <- ldap <- stores <- ntlmd, ntlmtool
#   libntlm <- common <- pam_ntlm, ntlm_auth
#
# Each folder may include the project headers of the folders listed for it
# below (its own among them); an #include "x.h" of a header that lives in
# any other folder is an upward (or sideways) include and fails the check,
# so that no cycle (backends/ <-> ldap/) can come back. System and
# generated headers (<...>, config.h) are not the project's and are skipped.
# Exit 0 when clean, 1 with one line per offending include.
set -u
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 2

allowed() {
	case $1 in
	libntlm) echo "libntlm" ;;
	common) echo "libntlm common" ;;
	backends) echo "libntlm common backends" ;;
	ldap) echo "libntlm common backends ldap" ;;
	stores) echo "libntlm common backends ldap stores" ;;
	ntlmd) echo "libntlm common backends stores ntlmd" ;;
	ntlmtool) echo "libntlm common backends stores ntlmtool" ;;
	pam_ntlm) echo "libntlm common pam_ntlm" ;;
	ntlm_auth) echo "libntlm common ntlm_auth" ;;
	esac
}
folders="libntlm common backends ldap stores ntlmd ntlmtool pam_ntlm ntlm_auth"

# the folder of a project header, by its name
owner() {
	for f in $folders; do
		if [ -f "$f/$1" ]; then
			echo "$f"
			return
		fi
	done
}

bad=0
checked=0
for f in $folders; do
	ok=$(allowed "$f")
	for src in "$f"/*.c "$f"/*.h; do
		[ -f "$src" ] || continue
		checked=$((checked + 1))
		# '#include "x.h"' lines with their numbers
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$src" |
			sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' >"${TMPDIR:-/tmp}/check-layers.$$"
		while read -r line header; do
			where=$(owner "$(basename "$header")")
			[ -n "$where" ] || continue
			case " $ok " in
			*" $where "*) ;;
			*)
				echo "$src:$line: includes $where/$(basename "$header"): $f/ may include only $ok"
				bad=$((bad + 1))
				;;
			esac
		done <"${TMPDIR:-/tmp}/check-layers.$$"
		rm -f "${TMPDIR:-/tmp}/check-layers.$$"
	done
done
if [ "$bad" -ne 0 ]; then
	echo "check-layers: $bad upward include(s) in $checked files"
	exit 1
fi
echo "check-layers: $checked files, every include points downwards"
exit 0
