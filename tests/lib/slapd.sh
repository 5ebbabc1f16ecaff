# shellcheck shell=sh
# slapd.sh: private slapd instances for the tests and the benchmarks,
# sourced after tests/testlib.sh (stop_pid) by tests/ldap/test-ldap.sh,
# tests/pam/test-pam-ldap.sh and bench/ldap-bench.sh (POSIX sh).
#
# Each instance NAME lives in $WORK/slapd-NAME: Debian's slapd with the
# Samba schema (package samba), an mdb database loaded with slapadd (the
# entries of ldap_driver.py, or an LDIF file of the caller's), a test CA and
# server certificate for StartTLS / ldaps://, and an ldapi:// socket whose
# SASL EXTERNAL identity for root is cn=ntlmd. Nothing outside $WORK is
# written. Any number of instances, each on a port of the caller's choice.
#
# The caller sets WORK (a private directory) and WAIT (seconds), and may set
# PY (default /usr/bin/python3), SUFFIX (default dc=example,dc=test),
# SLAPD_MAXSIZE (the mdb map size in bytes, default 32 MiB) and
# SLAPD_DB_EXTRA (more lines for the database section, such as "index uid
# eq"), all before slapd_load; defines skip_or_fail MESSAGE (testlib.sh);
# PORT_A is the port of instance "a", used by ldap_admin, ldap_value and
# set_nt_hash. The caller's cleanup stops the instances it started
# (stop_pid "$SLAPD_A" ...).
#
#   slapd_require                  the programs and the schema, or skip_or_fail
#   slapd_prepare                  the schema and the certificates in $WORK
#   slapd_load BINDPW NAME...      ldap_driver.py's entries into each instance
#   slapd_load_ldif FILE NAME...   the entries of FILE into each instance
#   start_slapd NAME PORT          starts it, waits until it answers; SLAPD_<NAME>
#   slapd_ldapi NAME               its ldapi:// URI

SLAPD=${SLAPD:-/usr/sbin/slapd}
SLAPADD=${SLAPADD:-/usr/sbin/slapadd}
SUFFIX=${SUFFIX:-dc=example,dc=test}
ADMIN=cn=admin,$SUFFIX
SAMBA_SCHEMA=""
LDAP_DRIVER=${LDAP_DRIVER:-$TESTS_LIB/ldap_driver.py}

# The programs and files the instances need; skip_or_fail names a missing one.
slapd_require() {
    [ -x "$SLAPD" ] || skip_or_fail "slapd"
    [ -x "$SLAPADD" ] || skip_or_fail "slapadd"
    for t in ldapsearch ldapmodify openssl; do
        command -v "$t" >/dev/null 2>&1 || skip_or_fail "$t"
    done
    for f in /usr/share/doc/samba/examples/LDAP/samba.schema /usr/share/doc/samba/examples/LDAP/samba.schema.gz; do
        [ -r "$f" ] && SAMBA_SCHEMA=$f && break
    done
    [ -n "$SAMBA_SCHEMA" ] || skip_or_fail "the Samba LDAP schema (package samba)"
}

# The schema, a test CA, a server certificate for 127.0.0.1 / localhost and
# another CA (ca.pem, server.pem, server.key, other-ca.pem) in $WORK.
slapd_prepare() {
    case $SAMBA_SCHEMA in
    *.gz) gzip -dc "$SAMBA_SCHEMA" >"$WORK/samba.schema" ;;
    *) cp "$SAMBA_SCHEMA" "$WORK/samba.schema" ;;
    esac
    (
        cd "$WORK" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=ntlmd test CA" &&
            openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 \
                -subj "/CN=another CA" &&
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" &&
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext &&
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
                -extfile san.ext
    ) >"$WORK/openssl.log" 2>&1 || {
        cat "$WORK/openssl.log" >&2
        exit 99
    }
}

# slapd.conf of instance $1
slapd_conf() {
    dir=$WORK/slapd-$1
    mkdir -p "$dir/db"
    cat >"$dir/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include $WORK/samba.schema
pidfile $dir/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
loglevel none
TLSCACertificateFile $WORK/ca.pem
TLSCertificateFile $WORK/server.pem
TLSCertificateKeyFile $WORK/server.key
authz-regexp "gidNumber=0\\\\+uidNumber=0,cn=peercred,cn=external,cn=auth" "cn=ntlmd,$SUFFIX"
database mdb
maxsize ${SLAPD_MAXSIZE:-33554432}
suffix "$SUFFIX"
rootdn "$ADMIN"
rootpw admin-secret
directory $dir/db
${SLAPD_DB_EXTRA:-}
access to attrs=sambaNTPassword,sambaLMPassword,sambaPwdLastSet,sambaPwdMustChange,sambaBadPasswordCount,sambaBadPasswordTime
    by dn.exact="cn=ntlmd,$SUFFIX" write
    by dn.exact="cn=reader,$SUFFIX" read
    by * none
access to attrs=sambaAcctFlags
    by dn.exact="cn=ntlmd,$SUFFIX" write
    by * read
access to attrs=userPassword
    by anonymous auth
    by * none
access to * by * read
EOF
}

# slapd_load BINDPW NAME...: the test entries of ldap_driver.py (cn=reader
# and cn=ntlmd with password BINDPW) loaded into each instance with slapadd.
slapd_load() {
    bindpw=$1
    shift
    "${PY:-/usr/bin/python3}" -B "$LDAP_DRIVER" ldif "$SUFFIX" "$bindpw" >"$WORK/data.ldif" || exit 99
    slapd_load_ldif "$WORK/data.ldif" "$@"
}

# slapd_load_ldif FILE NAME...: the entries of FILE loaded into each
# instance with slapadd.
slapd_load_ldif() {
    ldif=$1
    shift
    for i in "$@"; do
        slapd_conf "$i"
        "$SLAPADD" -q -f "$WORK/slapd-$i/slapd.conf" -l "$ldif" >"$WORK/slapadd-$i.log" 2>&1 || {
            cat "$WORK/slapadd-$i.log" >&2
            exit 99
        }
    done
}

# Starts instance $1 on port $2 (ldaps:// on $2 + 2, and its ldapi socket)
# and waits until it answers; sets SLAPD_<NAME> (SLAPD_A for "a") to its pid.
# Ready means this slapd answers on its own ldapi socket (a path in $WORK)
# and on the port: a port another test run took meanwhile (a restart frees
# it for a moment) makes this slapd exit on its bind, which is reported,
# instead of the test talking to the other run's slapd.
start_slapd() {
    dir=$WORK/slapd-$1
    "$SLAPD" -d 0 -f "$dir/slapd.conf" \
        -h "ldap://127.0.0.1:$2/ ldaps://127.0.0.1:$(($2 + 2))/ $(slapd_ldapi "$1")" \
        >>"$dir/log" 2>&1 &
    pid=$!
    eval "SLAPD_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')=\$pid"
    tries=$((WAIT * 10))
    while ! { ldapsearch -x -H "$(slapd_ldapi "$1")" -b "" -s base -o nettimeout=1 >/dev/null 2>&1 &&
        ldapsearch -x -H "ldap://127.0.0.1:$2" -b "" -s base -o nettimeout=1 >/dev/null 2>&1 &&
        kill -0 "$pid" 2>/dev/null; }; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "ERROR: slapd $1 did not start:" >&2
            cat "$dir/log" >&2
            exit 99
        fi
        sleep 0.1
    done
}

# slapd_freeze PID: SIGSTOP, then waits (up to 5 s) until every thread of
# PID is stopped: kill only asks, and a busy slapd may still answer a
# request sent right after it.
slapd_freeze() {
    kill -STOP "$1" || return 1
    tries=5000
    while [ "$tries" -gt 0 ]; do
        running=0
        for t in /proc/"$1"/task/*/stat; do
            st=$(sed 's/.*) //' "$t" 2>/dev/null | cut -d' ' -f1)
            case "$st" in t | T | "") ;; *) running=1 ;; esac
        done
        [ "$running" -eq 0 ] && return 0
        tries=$((tries - 1))
        sleep 0.001
    done
    return 1
}

# The ldapi:// URI of instance $1.
slapd_ldapi() {
    printf 'ldapi://%s' "$(printf '%s' "$WORK/slapd-$1/ldapi" | sed 's|/|%2F|g')"
}

ldap_admin() { # ldapmodify as the rootdn on instance a, LDIF on stdin
    ldapmodify -x -H "ldap://127.0.0.1:$PORT_A" -D "$ADMIN" -w admin-secret -o nettimeout=5 >/dev/null
}

ldap_value() { # USER ATTRIBUTE: the value on instance a
    ldapsearch -LLL -x -H "ldap://127.0.0.1:$PORT_A" -D "$ADMIN" -w admin-secret -o nettimeout=5 -o ldif-wrap=no \
        -b "ou=people,$SUFFIX" "(uid=$1)" "$2" | sed -n "s/^$2: //p"
}

ldap_value_becomes() { # USER ATTRIBUTE VALUE: within $WAIT s (a write made after a reply)
    tries=$((WAIT * 10))
    while [ "$(ldap_value "$1" "$2")" != "$3" ]; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

set_nt_hash() { # USER HEX
    printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: sambaNTPassword\nsambaNTPassword: %s\n' \
        "$1" "$SUFFIX" "$2" | ldap_admin
}
