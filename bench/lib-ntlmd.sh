# shellcheck shell=bash
# lib-ntlmd.sh: a private ntlmd with the files backend and one account, for
# the benchmarks that drive our ntlm_auth (bench_helper_vs_samba.sh,
# bench_challenges.sh). Sourced; the caller defines run() (libtool
# --mode=execute) and $top (the build's top directory).
#
# ntlmd_start DIR USER UID PASSWORD [FLAGS]
#   writes DIR/smbpasswd (the account, flags UX) and DIR/ntlmd.conf (files
#   backend, NetBIOS names BENCH, log_level warning), and starts ntlmd with
#   FLAGS (default -F) in the background, its socket at DIR/ntlmd/socket and
#   its output in DIR/ntlmd.log; sets NTLMD_PID.
# ntlmd_wait DIR
#   waits up to 5 s for the socket; returns 1, after printing the log, when
#   it does not come.

: "${top:?lib-ntlmd.sh needs \$top, the build directory}"
# shellcheck disable=SC2034 # NTLMD_PID is read by the scripts that source this file
NTLMD_PID=""

ntlmd_start() {
	local dir=$1 user=$2 uid=$3 password=$4 flags=${5:--F}

	printf '%s\n' "$password" | run "$top/ntlmtool/ntlmtool" passwd --file "$dir/smbpasswd" useradd "$user" \
		--uid "$uid" --flags UX --password - >/dev/null
	cat >"$dir/ntlmd.conf" <<CONF
socket $dir/ntlmd/socket
backends files
hash_file $dir/smbpasswd
netbios_name BENCH
netbios_domain BENCH
log_level warning
CONF
	"$top/ntlmd/ntlmd" "$flags" -f "$dir/ntlmd.conf" >"$dir/ntlmd.log" 2>&1 &
	# shellcheck disable=SC2034 # read by the scripts that source this file
	NTLMD_PID=$!
}

ntlmd_wait() {
	for _ in $(seq 50); do
		[ -S "$1/ntlmd/socket" ] && return 0
		sleep 0.1
	done
	echo "failed: ntlmd did not start"
	cat "$1/ntlmd.log"
	return 1
}
