#!/bin/bash
# run-valgrind.sh: valgrind memcheck over the whole test suite's programs.
# Builds a plain configuration (no sanitizers) in build/valgrind, then runs
#  1. every check program in-process (CK_FORK=no) under valgrind: the unit
#     tests, ntlm_auth/test_helper_unit, unit/test_pam_options,
#     ldap/test_ldap_conf, ldap/test_ldap_entry, harden/test_abuse, and
#     every fuzz replay over its seed corpus;
#  2. the integration tests, with the project's programs started through
#     wrappers that run them under valgrind (one log per process,
#     valgrind-logs/PROGRAM.PID.log):
#       ntlmd (NTLMD)          in every test below;
#       ntlm_auth (NTLM_AUTH)  in tests/ntlm_auth/test-helper.sh,
#                              test-squid.sh (Squid starts it),
#                              test-freeradius.sh (FreeRADIUS starts it) and
#                              tests/ldap/test-ldap.sh;
#       pamtester (PAMTESTER), which loads pam_ntlm.so under pam_wrapper
#                              (LD_PRELOAD, which valgrind passes on), and
#       examples/pam-ntlm-server (PAM_NTLM_SERVER)
#                              in tests/pam/test-pam.sh and test-pam-ldap.sh;
#       ntlmtool (NTLMTOOL)    in tests/ntlmtool/test-ntlmtool.sh and
#                              tests/ntlmd/test-stats.sh;
#       ntlm-test-acceptor (TEST_ACCEPTOR)
#                              in the tests/interop tests;
#     the tests: tests/ntlmd/test-ntlmd.sh, test-demo.sh, test-stats.sh,
#     tests/ntlm_auth/test-helper.sh, test-squid.sh, test-freeradius.sh,
#     tests/pam/test-pam.sh, test-pam-ldap.sh, tests/ldap/test-ldap.sh, test-multihost.sh,
#     tests/ntlmtool/test-ntlmtool.sh, and tests/interop/test-*.sh.
#     Every program must have run under valgrind; every ntlm_auth,
#     pamtester and pam-ntlm-server process must have been watched to its
#     end (its log ends in a summary), and every pamtester and
#     pam-ntlm-server process must have loaded the built pam_ntlm.so.
# All with --leak-check=full --errors-for-leak-kinds=definite
# --error-exitcode=1 and tests/valgrind.supp (third-party noise only, each
# entry with its reason). Any memcheck error or definite leak fails the run.
# Not under valgrind: the Python drivers and clients, slapd, Squid,
# FreeRADIUS, and the fuzz-script and harden shell tests (the harden check
# programs run in part 1; test-ct.sh runs valgrind itself).
# Extra arguments go to configure.
# Usage: scripts/run-valgrind.sh [CONFIGURE-OPTION...]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build/valgrind
VG_FLAGS="--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 --track-origins=yes --num-callers=30"
VG_FLAGS="$VG_FLAGS --suppressions=$top/tests/valgrind.supp"

command -v valgrind >/dev/null 2>&1 || {
	echo "run-valgrind: valgrind is missing (scripts/install-deps.sh installs it)" >&2
	exit 1
}
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ]; then
	(cd "$top" && ./autogen.sh >/dev/null 2>&1) || {
		echo "run-valgrind: autogen.sh failed" >&2
		exit 1
	}
fi
mkdir -p "$build"
cd "$build" || exit 1
# shellcheck disable=SC2068
"$top/configure" --quiet $@ || exit 1
make -j"$(nproc)" --silent || exit 1
make -j"$(nproc)" --silent -C tests check TESTS= >/dev/null || exit 1 # the check programs only

logs=$build/valgrind-logs
rm -rf "$logs"
mkdir -p "$logs"
status=0
note() {
	printf '%s\n' "$*"
}

# Every memcheck log of the run: no error, no definite leak.
check_logs() {
	bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' "$logs"/*.log 2>/dev/null)
	if [ -n "$bad" ]; then
		for f in $bad; do
			note "==== $f"
			cat "$f"
		done
		return 1
	fi
}

# 1. The check programs, one valgrind run each (libtool runs the real binary).
# make check gives them top_builddir (test_config reads the generated etc/ntlmd.conf)
export top_builddir="$build"
# shellcheck disable=SC2016 # $(UNIT_TESTS) is make's, not the shell's
unit_tests=$(printf 'print:\n\t@echo $(UNIT_TESTS)\n' | make -s -C tests -f Makefile -f - print)
passed=0
failed=0
for t in $unit_tests ntlm_auth/test_helper_unit unit/test_pam_options ldap/test_ldap_conf ldap/test_ldap_entry \
	harden/test_abuse; do
	# shellcheck disable=SC2086
	if CK_FORK=no ./libtool --mode=execute valgrind $VG_FLAGS --log-file="$logs/$(echo "$t" | tr / _).log" \
		"tests/$t" >"$logs/$(echo "$t" | tr / _).out" 2>&1; then
		note "ok   $t"
		passed=$((passed + 1))
	else
		note "FAIL $t (output: $logs/$(echo "$t" | tr / _).out)"
		failed=$((failed + 1))
	fi
done
for prog in tests/fuzz/replay_*; do
	[ -x "$prog" ] || continue
	name=${prog#tests/fuzz/replay_}
	# shellcheck disable=SC2086
	if ./libtool --mode=execute valgrind $VG_FLAGS --log-file="$logs/replay_$name.log" \
		"$prog" "$top/tests/fuzz/corpus/$name" >"$logs/replay_$name.out" 2>&1; then
		note "ok   fuzz replay $name"
		passed=$((passed + 1))
	else
		note "FAIL fuzz replay $name (output: $logs/replay_$name.out)"
		failed=$((failed + 1))
	fi
done

# 2. The integration tests, the project's programs under valgrind through
#    wrappers. A wrapper keeps the program's own exit status meaningful:
#    valgrind's is 1 on an error. The programs built here are libtool
#    scripts: libtool runs valgrind on the real binary (it execs: same pid).
wrappers=$build/valgrind-wrappers
mkdir -p "$wrappers"
# wrapper NAME PROGRAM [VALGRIND-OPTION...]: $wrappers/NAME runs PROGRAM.
# libtool's execute mode drops every argument after one that holds a
# newline (the tests pass such names on purpose): the real binary and its
# library path are resolved here, once, and the wrapper runs valgrind on
# them itself, with the arguments as given (exec: the same pid).
wrapper() {
	name=$1
	prog=$2
	shift 2
	# shellcheck disable=SC2016 # expanded by the inner shell
	real=$("$build/libtool" --mode=execute /bin/sh -c 'printf %s "$1"' sh "$prog") || exit 1
	# shellcheck disable=SC2016
	libpath=$("$build/libtool" --mode=execute /bin/sh -c 'printf %s "${LD_LIBRARY_PATH:-}"' sh "$prog")
	{
		echo '#!/bin/sh'
		if [ -n "$libpath" ]; then
			echo "LD_LIBRARY_PATH='$libpath'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
			echo 'export LD_LIBRARY_PATH'
		fi
		echo "exec valgrind $VG_FLAGS $* --log-file=\"$logs/$name.%p.log\" \"$real\" \"\$@\""
	} >"$wrappers/$name"
	chmod 0755 "$wrappers/$name"
}
pamtester=$(command -v pamtester) || pamtester=/usr/bin/pamtester
wrapper ntlmd "$build/ntlmd/ntlmd"
wrapper ntlm_auth "$build/ntlm_auth/ntlm_auth"
wrapper ntlmtool "$build/ntlmtool/ntlmtool"
wrapper ntlm-test-acceptor "$build/tests/interop/ntlm-test-acceptor"
# -v lists every object loaded: the check below finds pam_ntlm.so there;
# --child-silent-after-fork: pam_exec's children write no log of their own
# before their exec; --keep-debuginfo: pam_end unloads the module before the leak check, whose
# stacks still name its functions and lines.
pam_vg="-v --child-silent-after-fork=yes --keep-debuginfo=yes"
wrapper pamtester "$pamtester" "$pam_vg"
wrapper pam-ntlm-server "$build/examples/pam-ntlm-server" "$pam_vg"
chmod 0755 "$build" "$wrappers"
chmod 1777 "$logs" # ntlmd drops to nobody in one case, Squid runs ntlm_auth as proxy

export NTLMD="$wrappers/ntlmd" NTLM_AUTH="$wrappers/ntlm_auth" PAMTESTER="$wrappers/pamtester" \
	PAM_NTLM_SERVER="$wrappers/pam-ntlm-server" PAM_NTLM_SO="$build/pam_ntlm/.libs/pam_ntlm.so" \
	NTLMTOOL="$wrappers/ntlmtool" TEST_ACCEPTOR="$wrappers/ntlm-test-acceptor" \
	NTLM_DEMO="$build/examples/ntlm-demo" TESTS_DIR="$top/tests" \
	INTEROP_DIR="$top/tests/interop" TESTS_LIB="$top/tests/lib" \
	PYTHONPATH="$top/tests/lib:$top/tests/interop"
# the installation's paths, which the shipped files name and make check
# gives the tests (tests/Makefile.am's TESTS_ENVIRONMENT)
makevar() {
	make -s --no-print-directory -C "$build/tests" --eval "print-var: ; @echo \$($1)" print-var
}
export TEST_TIMEOUT_SCALE=3 # the drivers' limits (tests/testlib.sh run_counted), for programs under valgrind
SHIPPED_DIR="$build/etc"
INSTALLED_NTLM_AUTH="$(makevar pkglibexecdir)/ntlm_auth"
INSTALLED_PAM_NTLM="$(makevar pamlibdir)/pam_ntlm.so"
INSTALLED_AUDIT_JSON="$(makevar localstatedir)/log/ntlmd/audit.json"
NTLMD_DEFAULT_SOCKET="$(makevar runstatedir)/ntlmd/socket"
PAM_SU="$build/tests/pam/pam-su"
export SHIPPED_DIR INSTALLED_NTLM_AUTH INSTALLED_PAM_NTLM INSTALLED_AUDIT_JSON NTLMD_DEFAULT_SOCKET PAM_SU
# A libtool script builds its real binary on first use: ntlm_auth's now, as
# root (Squid runs ntlm_auth as the proxy user).
"$build/ntlm_auth/ntlm_auth" --version >/dev/null </dev/null || exit 1
skipped=0
for t in ntlmd/test-ntlmd.sh ntlmd/test-demo.sh ntlmd/test-stats.sh ntlm_auth/test-helper.sh ntlm_auth/test-squid.sh \
	ntlm_auth/test-freeradius.sh pam/test-pam.sh pam/test-pam-ldap.sh ldap/test-ldap.sh ldap/test-multihost.sh \
	ntlmtool/test-ntlmtool.sh interop/test-python-ntlm-auth.sh interop/test-impacket.sh \
	interop/test-samba-client.sh interop/test-curl.sh; do
	out=$logs/$(echo "$t" | tr / _).out
	sh "$top/tests/$t" >"$out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		note "ok   $t under valgrind ($(tail -n 1 "$out"))"
		passed=$((passed + 1))
	elif [ "$rc" -eq 77 ]; then
		note "SKIP $t ($(grep '^SKIP' "$out"))"
		skipped=$((skipped + 1))
	else
		grep -E '^(FAIL|ERROR)' "$out"
		note "FAIL $t under valgrind (output: $out)"
		failed=$((failed + 1))
	fi
done

# valgrind writes each command line into its log: the test password that
# test-helper.sh gives ntlm_auth's --password (Samba's option) is blanked
# there, so that no password stays in a log (make secret-sweep).
sed -i -E '/Command: /s/(--password[= ])[^ ]*/\1(removed)/g' "$logs"/ntlm_auth.*.log 2>/dev/null

# logs_of PROGRAM PATTERN: PROGRAM's logs that match PATTERN.
logs_of() {
	grep -l -E "$2" "$logs/$1".*.log 2>/dev/null
}
for prog in ntlmd ntlm_auth pamtester pam-ntlm-server ntlmtool ntlm-test-acceptor; do
	n=$(logs_of "$prog" 'Command: ' | wc -l)
	ended=$(logs_of "$prog" 'ERROR SUMMARY' | wc -l)
	line="$prog under valgrind: $n processes, $ended with a final summary"
	if [ "$prog" = pamtester ] || [ "$prog" = pam-ntlm-server ]; then
		loaded=$(logs_of "$prog" 'ERROR SUMMARY' |
			xargs -r grep -l -F "Reading syms from $build/pam_ntlm/.libs/pam_ntlm.so" | wc -l)
		line="$line, $loaded of them with pam_ntlm.so loaded"
		if [ "$loaded" -ne "$ended" ]; then
			note "FAIL $prog: $((ended - loaded)) processes ran without the built pam_ntlm.so"
			failed=$((failed + 1))
		fi
	fi
	note "$line"
	if [ "$n" -eq 0 ] && [ "$skipped" -eq 0 ]; then
		note "FAIL $prog never ran under valgrind"
		failed=$((failed + 1))
	fi
	# the tests' fallback for an ntlmd that TERM does not stop in time is
	# KILL (no summary then); every other process must end on its own
	if [ "$prog" != ntlmd ] && [ "$ended" -ne "$n" ]; then
		note "FAIL $prog: $((n - ended)) processes not watched to their end:" \
			"$(grep -L 'ERROR SUMMARY' "$logs/$prog".*.log | tr '\n' ' ')"
		failed=$((failed + 1))
	fi
done
if ! check_logs; then
	note "run-valgrind: memcheck reported errors or definite leaks (logs: $logs)"
	status=1
fi
note "memcheck: $(grep -h -o 'ERROR SUMMARY: [0-9]*' "$logs"/*.log | awk '{n += $3} END {print n + 0}') errors," \
	"$(grep -h -o 'definitely lost: [0-9,]* bytes' "$logs"/*.log | tr -d , | awk '{n += $3} END {print n + 0}')" \
	"bytes definitely lost, in $(grep -l 'ERROR SUMMARY' "$logs"/*.log | wc -l) processes watched to their end"
[ "$failed" -eq 0 ] || status=1
note "$passed passed, $failed failed, $skipped skipped"
exit "$status"
