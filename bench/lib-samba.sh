# shellcheck shell=bash
# lib-samba.sh: sourced by the benchmarks that compare with Samba. Starts a
# private standalone winbindd (tdbsam, one local user) that nothing else on
# the machine sees, and stops it.
#
# winbindd runs in its own mount and PID namespace (unshare), where a
# private directory is bind-mounted on /run/samba (libwbclient's fixed
# socket path) and private copies of /etc/passwd and /etc/group carry the
# benchmark's account: nothing on the machine is changed. winbindd is PID 1
# of that namespace, so stopping it ends every process there (its domain
# child, samba-dcerpcd and its rpcd workers). Commands that must reach this
# winbindd (Samba's ntlm_auth, a squid whose helpers are ntlm_auth) run in
# the namespace: samba_exec CMD...
#
#   samba_check                    prints "skipped: ..." and returns 1 when a tool is missing
#   samba_start DIR USER UID PASSWORD NETBIOS-NAME WORKGROUP [PRIV-MEMBER...]
#                                  PRIV-MEMBERs (e.g. proxy) join winbindd_priv in the
#                                  namespace's /etc/group: unprivileged helpers need the
#                                  privileged pipe for NTLMSSP
#   samba_exec CMD...              runs CMD in winbindd's mount namespace
#   samba_stop                     ends the namespace
# After samba_start: SAMBA_CONF (smb.conf), SAMBA_WINBINDD_PID, SAMBA_NS_PID.
# The user's domain in NTLMSSP is NETBIOS-NAME (the local SAM of a
# standalone server), not WORKGROUP.

SAMBA_WINBINDD_PID=""
SAMBA_NS_PID=""
SAMBA_CONF=""

samba_check() {
	for tool in winbindd pdbedit unshare nsenter; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "skipped: $tool is missing"
			return 1
		fi
	done
	if [ ! -x /usr/bin/ntlm_auth ] || [ "$(id -u)" -ne 0 ]; then
		echo "skipped: needs root and Samba's /usr/bin/ntlm_auth"
		return 1
	fi
	return 0
}

# Adds the members to winbindd_priv in a group file (creating the group).
samba_add_priv_members() { # group-file member...
	local file=$1 line members
	shift
	[ $# -gt 0 ] || return 0
	members=$(
		IFS=,
		echo "$*"
	)
	line=$(grep '^winbindd_priv:' "$file")
	if [ -z "$line" ]; then
		echo "winbindd_priv:x:4999:$members" >>"$file"
	else
		case "$line" in
		*:) sed -i "s/^winbindd_priv:.*\$/$line$members/" "$file" ;;
		*) sed -i "s/^winbindd_priv:.*\$/$line,$members/" "$file" ;;
		esac
	fi
}

samba_start() { # dir user uid password netbios-name workgroup [priv-member...]
	local S=$1 user=$2 uid=$3 password=$4 nbname=$5 workgroup=$6
	shift 6
	mkdir -p "$S/private" "$S/lock" "$S/state" "$S/cache" "$S/run" "$S/log" "$S/pid"
	chmod 0755 "$S"
	cp /etc/passwd "$S/passwd"
	cp /etc/group "$S/group"
	echo "$user:x:$uid:$uid:bench:/nonexistent:/usr/sbin/nologin" >>"$S/passwd"
	echo "$user:x:$uid:" >>"$S/group"
	samba_add_priv_members "$S/group" "$@"
	SAMBA_CONF=$S/smb.conf
	cat >"$SAMBA_CONF" <<CONF
[global]
netbios name = $nbname
workgroup = $workgroup
server role = standalone server
passdb backend = tdbsam:$S/private/passdb.tdb
private dir = $S/private
lock directory = $S/lock
state directory = $S/state
cache directory = $S/cache
pid directory = $S/pid
ncalrpc dir = $S/run/ncalrpc
log file = $S/log/log.%m
ntlm auth = yes
disable netbios = yes
interfaces = lo
bind interfaces only = yes
CONF
	# the password reaches pdbedit on its stdin, from a file only root reads
	(
		umask 077
		printf '%s\n%s\n' "$password" "$password" >"$S/private/pw"
	)
	cat >"$S/init.sh" <<INIT
mkdir -p /run/samba
mount --bind "$S/run" /run/samba
mount --bind "$S/passwd" /etc/passwd
mount --bind "$S/group" /etc/group
pdbedit -s "$SAMBA_CONF" -a -t -u $user <"$S/private/pw" >"$S/log/pdbedit.log" 2>&1
rm -f "$S/private/pw"
exec winbindd -F --no-process-group -s "$SAMBA_CONF" >"$S/log/winbindd.out" 2>&1
INIT
	unshare --mount --pid --fork --kill-child --propagation private sh "$S/init.sh" &
	SAMBA_NS_PID=$!
	# winbindd is the child of unshare (PID 1 of the new namespace)
	for _ in $(seq 100); do
		SAMBA_WINBINDD_PID=$(pgrep -P "$SAMBA_NS_PID" winbindd | head -1)
		[ -n "$SAMBA_WINBINDD_PID" ] && [ -S "$S/run/winbindd/pipe" ] && break
		sleep 0.1
	done
	if [ -z "$SAMBA_WINBINDD_PID" ] || [ ! -S "$S/run/winbindd/pipe" ]; then
		echo "failed: winbindd did not start"
		cat "$S/log/winbindd.out" "$S/log/pdbedit.log"
		return 1
	fi
	# what Debian's postinst does for the system directory: the group
	# winbindd_priv may use the privileged pipe
	if [ $# -gt 0 ]; then
		for _ in $(seq 50); do
			[ -d "$S/state/winbindd_privileged" ] && break
			sleep 0.1
		done
		chgrp winbindd_priv "$S/state/winbindd_privileged" 2>/dev/null ||
			chgrp 4999 "$S/state/winbindd_privileged"
	fi
	return 0
}

samba_exec() {
	nsenter -t "$SAMBA_WINBINDD_PID" -m -- "$@"
}

samba_stop() {
	# winbindd is PID 1 of its namespace: its end ends every process there
	[ -n "$SAMBA_WINBINDD_PID" ] && kill "$SAMBA_WINBINDD_PID" 2>/dev/null
	[ -n "$SAMBA_NS_PID" ] && kill "$SAMBA_NS_PID" 2>/dev/null && wait "$SAMBA_NS_PID" 2>/dev/null
	SAMBA_WINBINDD_PID=""
	SAMBA_NS_PID=""
}
