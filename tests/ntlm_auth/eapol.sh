# shellcheck shell=sh
# eapol.sh: PEAP-MSCHAPv2 through FreeRADIUS with eapol_test (wpa_supplicant's
# EAP peer as a RADIUS client, Debian's eapoltest), and what a success and a
# failure must show. Sourced by tests/ntlm_auth/test-freeradius.sh (the
# built ntlm_auth, a trimmed raddb) and scripts/test-packages.sh (the
# installed ntlm_auth, a copy of Debian's raddb). Needs PY (a python3).

# eapol_run CONF IDENTITY PASSWORD CA_CERT PORT SECRET: writes eapol_test's
# network block to CONF (PEAPv0, MS-CHAPv2 inside, the server's certificate
# checked against CA_CERT), runs eapol_test against 127.0.0.1:PORT and sets
# "out" (its output, also written to CONF.out) and "rc" (its exit status).
eapol_run() {
    # wpa_supplicant's quoted strings are literal (a backslash is a backslash)
    cat >"$1" <<EOC
network={
    key_mgmt=WPA-EAP
    eap=PEAP
    identity="$2"
    anonymous_identity="anonymous"
    password="$3"
    ca_cert="$4"
    phase1="peaplabel=0"
    phase2="auth=MSCHAPV2"
}
EOC
    out=$(timeout 30 "${EAPOL_TEST:-eapol_test}" -c "$1" -a 127.0.0.1 -p "$5" -s "$6" -t 10 2>&1)
    rc=$?
    printf '%s\n' "$out" >"$1.out"
}

# eapol_hexdump LABEL: the hex octets of the line "LABEL - hexdump(len=N): .."
# of eapol_test's output
eapol_hexdump() {
    printf '%s\n' "$out" | sed -n "s/^$1 - hexdump(len=[0-9]*): //p" | head -n 1 | tr -d ' '
}

# eapol_check_accept RADIUS_DEBUG: appends to "problems" what is wrong with
# a success, given FreeRADIUS's debug output (-X) of this exchange. A
# success needs eapol_test's exit status 0 and final "SUCCESS", and:
# - "EAP-MSCHAPV2: Authentication succeeded": the peer checked the server's
#   authenticator response (S=, RFC 2759 8.7), which FreeRADIUS makes from
#   ntlm_auth's NT_KEY;
# - "MPPE keys OK: 1  mismatch: 0": eapol_test compared the Access-Accept's
#   MS-MPPE-Recv-Key with the PMK it derived (the MSK's first 32 octets);
# - the MSK eapol_test printed ("EAP-PEAP: Derived key") is Recv-Key ||
#   Send-Key (RFC 5216 2.3: MSK(0,31) = MS-MPPE-Recv-Key, MSK(32,63) =
#   MS-MPPE-Send-Key), so the Send-Key is checked too;
# - the MS-CHAPv2 master key the peer derived from the password
#   ("MSCHAPV2: Master Key") equals the one from ntlm_auth's NT_KEY
#   (RFC 3079 3.4: SHA1(PasswordHashHash | NT-Response | Magic1)[0:16]):
#   the NT_KEY is MD4(NT hash), as RFC 2759's PasswordHashHash.
eapol_check_accept() {
    [ "$rc" -eq 0 ] || problems="$problems exit status $rc, not 0;"
    [ "$(printf '%s\n' "$out" | tail -n 1)" = SUCCESS ] || problems="$problems no final SUCCESS;"
    printf '%s\n' "$out" | grep -qx 'EAP-MSCHAPV2: Authentication succeeded' ||
        problems="$problems the peer did not accept the MS-CHAPv2 authenticator response;"
    printf '%s\n' "$out" | grep -qx 'MPPE keys OK: 1  mismatch: 0' ||
        problems="$problems not 'MPPE keys OK: 1  mismatch: 0' but '$(printf '%s\n' "$out" | grep '^MPPE keys')';"
    msk=$(eapol_hexdump 'EAP-PEAP: Derived key')
    recv=$(eapol_hexdump 'MS-MPPE-Recv-Key (crypt)')
    send=$(eapol_hexdump 'MS-MPPE-Send-Key (sign)')
    if [ "${#msk}" -ne 128 ] || [ "$recv$send" != "$msk" ]; then
        problems="$problems MSK $msk is not MS-MPPE-Recv-Key $recv || MS-MPPE-Send-Key $send;"
    fi
    ntkey=$(printf '%s\n' "$1" |
        sed -n "s/.*mschap: Program returned code (0) and output 'NT_KEY: \([0-9A-F]\{32\}\)'.*/\1/p")
    ntresp=$(eapol_hexdump 'MSCHAPV2: NT Response')
    master=$(eapol_hexdump 'MSCHAPV2: Master Key')
    mine=$("$PY" -c 'import hashlib, sys
magic1 = b"This is the MPPE Master Key"
print(hashlib.sha1(bytes.fromhex(sys.argv[1]) + bytes.fromhex(sys.argv[2]) + magic1).hexdigest()[:32])' \
        "$ntkey" "$ntresp" 2>&1)
    if [ -z "$ntkey" ] || [ -z "$master" ] || [ "$mine" != "$master" ]; then
        problems="$problems NT_KEY '$ntkey' gives the master key '$mine', the peer derived '$master';"
    fi
}

# eapol_check_reject: appends to "problems" what is wrong with a refusal:
# a non-zero exit status, the final "FAILURE", no Access-Accept, an
# Access-Reject, and PEAP's result TLV Failure (the eap module's mschapv2
# sends no MS-CHAPv2 failure packet, send_error = no: the peer hears of it
# from the TLV).
eapol_check_reject() {
    [ "$rc" -ne 0 ] || problems="$problems exit status 0;"
    [ "$(printf '%s\n' "$out" | tail -n 1)" = FAILURE ] || problems="$problems no final FAILURE;"
    printf '%s\n' "$out" | grep -q 'RADIUS message: code=2 (Access-Accept)' && problems="$problems an Access-Accept;"
    printf '%s\n' "$out" | grep -qx 'EAP-TLV: TLV Result - Failure' ||
        problems="$problems no PEAP result TLV Failure;"
    printf '%s\n' "$out" | grep -q '^RADIUS message: code=3 (Access-Reject)' ||
        problems="$problems no Access-Reject;"
}

# eapol_summary: the lines of eapol_test's output that tell why it failed
eapol_summary() {
    printf '%s\n' "$out" | grep -i 'fail\|mismatch\|error' | tail -3
}
