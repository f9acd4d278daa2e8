# A real FreeRADIUS for the end-to-end scenarios, with a configuration generated for each run.
# shellcheck shell=bash
# shellcheck disable=SC2034  # RADIUS_* are set here for the scenarios
#
# Sourced after lib.sh. A scenario declares its users (and pools), starts the server, points the daemon
# at it and then queries what the server recorded:
#
#   radius_user alice alice-password Class=gold Session-Timeout=600
#   radius_user bob bob-password Framed-IP-Address=10.98.0.7
#   radius_pool main 10.98.0.10 20
#   radius_start "$E2E_WORK/radius" "" "" "" "$RAD_NS"
#   ... the daemon, with RADIUS_SECRET ...; radius_acct_rows alice; radius_disconnect ...
#
# Functions: radius_user, radius_pool, radius_start, radius_stop, radius_request (+ radius_reply_code),
# radius_sql, radius_acct_rows, radius_open_sessions, radius_leases, radius_disconnect, radius_coa.
# The server's files, in the directory given to radius_start: radiusd.conf, users, radius.log (with -xx:
# every request and what each module did; RADIUS_DEBUG=0 leaves that out, for benchmarks), detail,
# radius.sqlite (radacct, radippool, ...).
#
# Nothing of /etc/freeradius is used at run time: the package's SQL schemas and queries are copied from
# it at start. What the configuration does:
#   - clients: 127.0.0.1 and every address or subnet of RADIUS_CLIENTS, secret RADIUS_SECRET, all with
#     require_message_authenticator = yes: an Access-Request without a Message-Authenticator is dropped
#     (Blast-RADIUS, CVE-2024-3596); every Access-Accept/Reject/Challenge carries one as its first
#     attribute, as 3.2.5 does (3.2.1 signs only EAP replies unless told to, so post-auth prepends it).
#     limit_proxy_state is written when the installed server knows it (3.2.5 and later; Debian 12's
#     3.2.1 does not).
#   - authentication: pap, chap, mschap (MS-MPPE-Send/Recv-Key sent; RADIUS_MPPE_REQUIRE_ENCRYPTION and
#     RADIUS_MPPE_REQUIRE_STRONG), eap (md5; RADIUS_EAP_EXTRA is pasted inside eap {} for tls later),
#     users from radius_user in a `files` users file.
#   - addresses: a user without Framed-IP-Address gets one from the SQL pool RADIUS_POOL_NAME (sqlippool on
#     SQLite, filled by radius_pool), keyed by NAS-IP-Address + RADIUS_POOL_KEY; accounting Start and
#     Interim-Update renew the lease, Stop frees it. A full pool rejects; no pool at all accepts
#     without an address.
#   - Simultaneous-Use := RADIUS_SIMULTANEOUS_USE (default 1; a user's own Simultaneous-Use=N wins;
#     empty = unchecked), counted in SQL: open radacct rows (no stop time, not older than the NAS's last
#     Accounting-On).
#   - accounting: every Accounting-Request goes to DIR/detail and to SQL (radacct, the package's schema)
#     in DIR/radius.sqlite.
# Every wait is bounded; the server is stopped by netns_cleanup (it is in NETNS_PIDS) or radius_stop.

RADIUS_SECRET=${RADIUS_SECRET:-pptpkit-radius}
export RADIUS_SECRET
RADIUS_CLIENTS=${RADIUS_CLIENTS:-10.0.0.0/8}
RADIUS_MPPE_REQUIRE_ENCRYPTION=${RADIUS_MPPE_REQUIRE_ENCRYPTION:-no}
RADIUS_MPPE_REQUIRE_STRONG=${RADIUS_MPPE_REQUIRE_STRONG:-no}
RADIUS_SIMULTANEOUS_USE=${RADIUS_SIMULTANEOUS_USE-1}
RADIUS_POOL_NAME=${RADIUS_POOL_NAME:-main}
# sqlippool's pool_key: what, with NAS-IP-Address, names one lease. NAS-Port is what a PPTP server can
# make unique per call (its Call ID); Calling-Station-Id is the client's address, shared behind a NAT.
RADIUS_POOL_KEY=${RADIUS_POOL_KEY:-'%{NAS-Port}'}
RADIUS_LEASE_SECONDS=${RADIUS_LEASE_SECONDS:-3600}
RADIUS_EAP_EXTRA=${RADIUS_EAP_EXTRA:-}
# 1: freeradius -xx, every request traced in radius.log (what a failing scenario needs); 0: only the
# log {} lines, so that tracing does not bound a benchmark's figures.
RADIUS_DEBUG=${RADIUS_DEBUG:-1}
# The Debian package's configuration, read once for the SQL schemas and queries.
RADIUS_PACKAGE_RADDB=${RADIUS_PACKAGE_RADDB:-/etc/freeradius/3.0}
RADIUS_USERS=()
RADIUS_PENDING_POOLS=()
RADIUS_DIR=
RADIUS_PID=
RADIUS_NETNS=

# Attributes that radius_user puts on the check line (the server's control list); the rest are replies.
RADIUS_CHECK_ATTRIBUTES=" Simultaneous-Use Pool-Name Auth-Type Expiration Login-Time NT-Password "

# radius_in_ns CMD...: CMD in the server's namespace (or here when it has none).
radius_in_ns() {
  if [ -n "$RADIUS_NETNS" ]; then
    ip netns exec "$RADIUS_NETNS" "$@"
  else
    "$@"
  fi
}

# radius_quote VALUE: VALUE as a users-file/unlang double-quoted string.
radius_quote() {
  local v=${1//\\/\\\\}
  printf '"%s"' "${v//\"/\\\"}"
}

# radius_user NAME PASSWORD [ATTR=VALUE ...]: a user for the users file, declared before radius_start.
# Check attributes (RADIUS_CHECK_ATTRIBUTES) are set with :=, the others are reply attributes, e.g.
# Framed-IP-Address, Class, Session-Timeout, Acct-Interim-Interval, Framed-Pool, Idle-Timeout.
radius_user() {
  local name=$1 password=$2 check reply=() arg attr value simul=$RADIUS_SIMULTANEOUS_USE
  shift 2
  check="Cleartext-Password := $(radius_quote "$password")"
  for arg in "$@"; do
    attr=${arg%%=*}
    attr=${attr%:}
    value=${arg#*=}
    [ "$attr" != "$arg" ] || { echo "radius_user $name: '$arg' is not ATTR=VALUE" >&2; return 1; }
    case $value in 0x*) ;; *) value=$(radius_quote "$value") ;; esac
    if [ "$attr" = Simultaneous-Use ]; then
      simul=${arg#*=}
    elif [[ $RADIUS_CHECK_ATTRIBUTES == *" $attr "* ]]; then
      check+=", $attr := $value"
    else
      reply+=("$attr := $value")
    fi
  done
  [ -z "$simul" ] || check+=", Simultaneous-Use := $simul"
  local entry i
  entry=$(radius_quote "$name")$'\t'$check
  for i in "${!reply[@]}"; do
    entry+=$'\n\t'"${reply[i]}"
    [ "$i" = $((${#reply[@]} - 1)) ] || entry+=,
  done
  RADIUS_USERS+=("$entry")
}

# radius_ip_to_int A.B.C.D / radius_int_to_ip N
radius_ip_to_int() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}
radius_int_to_ip() {
  echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"
}

# radius_sql SQL...: runs SQL on the server's database (sqlite3 in list mode, '|' between columns), waiting
# up to 5 s for the server's own writes.
radius_sql() {
  sqlite3 -batch -cmd '.timeout 5000' "$RADIUS_DIR/radius.sqlite" "$@"
}

# radius_pool NAME FIRST_IP COUNT: COUNT free addresses from FIRST_IP in the SQL pool NAME (the users'
# default pool is RADIUS_POOL_NAME). Before radius_start it is remembered; after, it is written at once.
radius_pool() {
  local name=$1 first count=$3 i sql=""
  first=$(radius_ip_to_int "$2")
  if [ -z "$RADIUS_PID" ]; then
    RADIUS_PENDING_POOLS+=("$*")
    return 0
  fi
  for ((i = 0; i < count; i++)); do
    sql+="INSERT INTO radippool (pool_name, framedipaddress, expiry_time)
      VALUES ('$name', '$(radius_int_to_ip $((first + i)))', datetime('now', '-1 second'));"
  done
  radius_sql "BEGIN; $sql COMMIT;"
}

# radius_write_config DIR ADDRESS AUTH_PORT ACCT_PORT: the raddb, the users file and the SQL database.
radius_write_config() {
  local dir=$1 address=$2 auth_port=$3 acct_port=$4 pkg=$RADIUS_PACKAGE_RADDB/mods-config/sql
  mkdir -p "$dir/mods-config/sql/main/sqlite" || return 1
  local schema
  for schema in "$pkg/main/sqlite/schema.sql" "$pkg/ippool/sqlite/schema.sql" "$pkg/main/sqlite/queries.conf"; do
    [ -r "$schema" ] || { echo "radius: $schema is missing (package freeradius-config)" >&2; return 1; }
  done
  rm -f "$dir/radius.sqlite"
  cat "$pkg/main/sqlite/schema.sql" "$pkg/ippool/sqlite/schema.sql" | sqlite3 -batch "$dir/radius.sqlite" || return 1

  # The package's accounting and Simultaneous-Use queries, with two changes: the Class column is
  # filled (the class {} block ships commented out), and simul_verify_query is dropped. In 3.2.1 it
  # selects username = '%{SQL-Group}' (never a user) and would have checkrad ask a NAS it cannot reach;
  # the count of open sessions alone decides.
  awk '
    /^simul_verify_query = / { skip = 1 }
    skip { if ($0 !~ /\\$/) skip = 0; next }
    /^\tcolumn_name =/ { print "\tcolumn_name = \", class\""; next }
    /^\tpacket_xlat =/ { print "\tpacket_xlat = \", '\''%{Class}'\''\""; next }
    /^\treply_xlat =/ { print "\treply_xlat = \", '\''%{reply:Class}'\''\""; next }
    { print }
  ' "$pkg/main/sqlite/queries.conf" >"$dir/mods-config/sql/main/sqlite/queries.conf" || return 1
  grep -q '^simul_count_query' "$dir/mods-config/sql/main/sqlite/queries.conf" &&
    ! grep -q '^simul_verify_query' "$dir/mods-config/sql/main/sqlite/queries.conf" || {
    echo "radius: the package's sqlite queries.conf has changed shape" >&2
    return 1
  }

  # Local dictionary additions would go here; the server reads /usr/share/freeradius/dictionary itself.
  echo '# pptpkit e2e: no local attributes' >"$dir/dictionary"

  local user
  : >"$dir/users"
  for user in "${RADIUS_USERS[@]}"; do
    printf '%s\n\n' "$user" >>"$dir/users"
  done
  # shellcheck disable=SC2016  # $INCLUDE is FreeRADIUS syntax
  printf '$INCLUDE %s\n' "$dir/users" >"$dir/authorize"

  local clients="" c n=0 limit_proxy_state=""
  # limit_proxy_state (3.2.5+, Blast-RADIUS): a client that sends Proxy-State must sign its requests.
  if grep -qs limit_proxy_state /usr/sbin/freeradius /usr/lib/freeradius/libfreeradius-server.so; then
    limit_proxy_state=$'\n\tlimit_proxy_state = yes'
  fi
  for c in 127.0.0.1 $RADIUS_CLIENTS; do
    n=$((n + 1))
    clients+="client c$n {
	ipaddr = $c
	secret = $(radius_quote "$RADIUS_SECRET")
	require_message_authenticator = yes$limit_proxy_state
	nas_type = other
}
"
  done

  cat >"$dir/radiusd.conf" <<EOF
# Generated by tests/e2e/lib_radius.sh for one end-to-end run.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
libdir = /usr/lib/freeradius
name = freeradius
raddbdir = $dir
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
logdir = $dir
radacctdir = $dir
run_dir = $dir
db_dir = $dir
certdir = $dir
cadir = $dir
pidfile = $dir/radiusd.pid
checkrad = /usr/sbin/checkrad
max_request_time = 10
cleanup_delay = 2
max_requests = 4096
hostname_lookups = no
correct_escapes = true

log {
	destination = files
	file = $dir/radius.log
	colourise = no
	stripped_names = no
	auth = yes
	auth_badpass = no
	auth_goodpass = no
	msg_denied = "You are already logged in - access denied"
}

security {
	allow_core_dumps = no
	max_attributes = 200
	# Tests count rejects; the default 1 s delay would only slow them.
	reject_delay = 0
	status_server = yes
}

# One worker: the SQL module has one SQLite connection, and a request that finds it taken fails at once
# (sqlippool: "Failed reserving SQL connection") instead of waiting; requests queue here instead.
thread pool {
	start_servers = 1
	max_servers = 1
	min_spare_servers = 0
	max_spare_servers = 1
	max_requests_per_server = 0
	auto_limit_acct = no
}

$clients
modules {
	# %{tolower:...}, which the package's accounting queries use to pick a query by Acct-Status-Type.
	expr {
	}
	pap {
		normalise = yes
	}
	chap {
	}
	mschap {
		use_mppe = yes
		require_encryption = $RADIUS_MPPE_REQUIRE_ENCRYPTION
		require_strong = $RADIUS_MPPE_REQUIRE_STRONG
		with_ntdomain_hack = yes
	}
	eap {
		default_eap_type = md5
		timer_expire = 60
		ignore_unknown_eap_types = no
		max_sessions = \${max_requests}
		md5 {
		}
$RADIUS_EAP_EXTRA
	}
	files {
		filename = $dir/authorize
	}
	detail {
		filename = $dir/detail
		escape_filenames = no
		permissions = 0600
		header = "%t"
		locking = yes
	}
	sql {
		dialect = "sqlite"
		driver = "rlm_sql_sqlite"
		sqlite {
			filename = "$dir/radius.sqlite"
			busy_timeout = 5000
		}
		radius_db = "radius"
		acct_table1 = "radacct"
		acct_table2 = "radacct"
		postauth_table = "radpostauth"
		authcheck_table = "radcheck"
		groupcheck_table = "radgroupcheck"
		authreply_table = "radreply"
		groupreply_table = "radgroupreply"
		usergroup_table = "radusergroup"
		read_groups = no
		delete_stale_sessions = yes
		# SQLite serialises writers: one connection, no lock contention inside the server.
		pool {
			start = 1
			min = 1
			max = 1
			spare = 0
			uses = 0
			retry_delay = 1
			lifetime = 0
			idle_timeout = 0
		}
		client_table = "nas"
		group_attribute = "SQL-Group"
		\$INCLUDE \${modconfdir}/sql/main/sqlite/queries.conf
	}
	# The package's ippool/sqlite/queries.conf cannot be used with 3.2.1: its allocate_find lacks the
	# AND before "expiry_time < datetime('now')" (a syntax error, so nothing is ever allocated). These are
	# its queries with that fixed, allocate_existing restricted to a lease that is still the same user's,
	# and pool_check selecting an address: the schema's "id int(11) PRIMARY KEY" is not SQLite's rowid
	# alias, so id is NULL, and a NULL there reads as "no such pool" (an Accept without an address)
	# where the pool is only full.
	sqlippool {
		sql_module_instance = "sql"
		dialect = "sqlite"
		pool_name = "Pool-Name"
		ippool_table = "radippool"
		lease_duration = $RADIUS_LEASE_SECONDS
		allocate_clear_timeout = 1
		attribute_name = Framed-IP-Address
		req_attribute_name = Framed-IP-Address
		pool_key = "$RADIUS_POOL_KEY"
		messages {
			exists = "Existing IP: %{reply:Framed-IP-Address} (port %{NAS-Port} user %{User-Name})"
			success = "Allocated IP: %{reply:Framed-IP-Address} from %{control:Pool-Name} (port %{NAS-Port} user %{User-Name})"
			clear = "Released IP %{request:Framed-IP-Address} (user %{User-Name})"
			failed = "IP Allocation FAILED from %{control:Pool-Name} (port %{NAS-Port} user %{User-Name})"
			nopool = "No Pool-Name defined (port %{NAS-Port} user %{User-Name})"
		}
		allocate_begin = "BEGIN EXCLUSIVE"
		allocate_commit = "COMMIT"
		allocate_existing = "SELECT framedipaddress FROM \${ippool_table} \\
			WHERE pool_name = '%{control:\${pool_name}}' AND nasipaddress = '%{NAS-IP-Address}' \\
			AND pool_key = '\${pool_key}' AND username = '%{User-Name}' \\
			ORDER BY expiry_time DESC LIMIT 1"
		allocate_find = "SELECT framedipaddress FROM \${ippool_table} \\
			WHERE pool_name = '%{control:\${pool_name}}' AND expiry_time < datetime('now') \\
			ORDER BY expiry_time LIMIT 1"
		pool_check = "SELECT framedipaddress FROM \${ippool_table} WHERE pool_name = '%{control:\${pool_name}}' LIMIT 1"
		allocate_update = "UPDATE \${ippool_table} SET \\
			nasipaddress = '%{NAS-IP-Address}', pool_key = '\${pool_key}', \\
			callingstationid = '%{Calling-Station-Id}', username = '%{User-Name}', \\
			expiry_time = datetime(strftime('%%s', 'now') + \${lease_duration}, 'unixepoch') \\
			WHERE framedipaddress = '%I'"
		start_update = "UPDATE \${ippool_table} SET \\
			expiry_time = datetime(strftime('%%s', 'now') + \${lease_duration}, 'unixepoch') \\
			WHERE nasipaddress = '%{NAS-IP-Address}' AND pool_key = '\${pool_key}' \\
			AND username = '%{User-Name}' AND framedipaddress = '%{\${attribute_name}}'"
		alive_update = "\${start_update}"
		stop_clear = "UPDATE \${ippool_table} SET expiry_time = datetime('now', '-1 second') \\
			WHERE nasipaddress = '%{NAS-IP-Address}' AND pool_key = '\${pool_key}' \\
			AND username = '%{User-Name}' AND framedipaddress = '%{\${attribute_name}}'"
		on_clear = "UPDATE \${ippool_table} SET expiry_time = datetime('now', '-1 second') \\
			WHERE nasipaddress = '%{NAS-IP-Address}'"
		off_clear = "\${on_clear}"
	}
}

policy {
	# As the package's acct_unique policy, without its Class rehash.
	pptpkit_acct_unique {
		update request {
			&Acct-Unique-Session-Id := "%{md5:%{User-Name},%{Acct-Session-ID},%{%{NAS-IPv6-Address}:-%{NAS-IP-Address}},%{NAS-Identifier},%{NAS-Port-ID},%{NAS-Port}}"
		}
	}
	# Blast-RADIUS: sign every Access-Accept/Reject/Challenge (3.2.1 signs only EAP replies), with the
	# signature first (^= prepends), as 3.2.5 does. The eap module's own (zero) one is removed first: a
	# reply with two would be signed in the first and carry a wrong second.
	pptpkit_sign_reply {
		update reply {
			&Message-Authenticator !* ANY
			&Message-Authenticator ^= 0x00
		}
	}
}

server default {
	listen {
		type = auth
		ipaddr = $address
		port = $auth_port
	}
	listen {
		type = acct
		ipaddr = $address
		port = $acct_port
	}

	authorize {
		chap
		mschap
		eap {
			ok = return
		}
		files
		if (!&reply:Framed-IP-Address && !&control:Pool-Name) {
			update control {
				&Pool-Name := "$RADIUS_POOL_NAME"
			}
		}
		pap
	}

	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type CHAP {
			chap
		}
		Auth-Type MS-CHAP {
			mschap
		}
		eap
	}

	preacct {
		pptpkit_acct_unique
	}

	accounting {
		detail
		sql
		sqlippool
		# Accounting-Responses signed too: the NAS requires a Message-Authenticator on every reply.
		pptpkit_sign_reply
	}

	# Simultaneous-Use: open sessions counted in radacct.
	session {
		sql
	}

	post-auth {
		# notfound = the pool exists and is full: no address, no session.
		sqlippool {
			notfound = reject
		}
		pptpkit_sign_reply
		Post-Auth-Type REJECT {
			pptpkit_sign_reply
		}
		Post-Auth-Type Challenge {
			pptpkit_sign_reply
		}
	}
}
EOF
}

# radius_status: one Status-Server to the auth port; succeeds on Access-Accept.
radius_status() {
  printf 'Message-Authenticator = 0x00\n' |
    radius_in_ns radclient -q -r 1 -t 1 "$RADIUS_ADDR:$RADIUS_AUTH_PORT" status "$RADIUS_SECRET" >/dev/null 2>&1
}

# radius_start DIR [ADDRESS] [AUTH_PORT] [ACCT_PORT] [NETNS]: writes the raddb into DIR, starts
# freeradius in the foreground as a background job (in NETNS when given; log DIR/radius.log), and waits
# up to 10 s until it answers a Status-Server. ADDRESS is the address it listens on (default: all);
# ports default to 1812/1813. Sets RADIUS_DIR, RADIUS_PID, RADIUS_NETNS and RADIUS_ADDR (where to send
# requests: ADDRESS, or 127.0.0.1).
radius_start() {
  local dir=$1 address=${2:-*}
  RADIUS_AUTH_PORT=${3:-1812}
  RADIUS_ACCT_PORT=${4:-1813}
  RADIUS_NETNS=${5:-}
  if [ "$address" = '*' ]; then RADIUS_ADDR=127.0.0.1; else RADIUS_ADDR=$address; fi
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
  RADIUS_DIR=$dir
  radius_write_config "$dir" "$address" "$RADIUS_AUTH_PORT" "$RADIUS_ACCT_PORT" || return 1
  command -v freeradius >/dev/null || { echo "radius: freeradius is not installed" >&2; return 1; }
  # -C checks the configuration without starting: its errors are clearer than a server that exits.
  freeradius -C -d "$dir" -l "$dir/radius-check.log" >/dev/null 2>&1 || {
    echo "radius: configuration rejected:" >&2
    tail -n 20 "$dir/radius-check.log" >&2
    return 1
  }
  [ -z "${E2E_LOGS+x}" ] || E2E_LOGS+=("$dir/radius.log")
  # -f: foreground, so that the pid is the server's; -xx: each request and what every module did.
  local trace=(-xx)
  [ "$RADIUS_DEBUG" != 0 ] || trace=()
  if [ -n "$RADIUS_NETNS" ]; then
    netns_spawn "$dir/radius.out" "$RADIUS_NETNS" freeradius -f "${trace[@]}" -d "$dir" -l "$dir/radius.log"
  else
    freeradius -f "${trace[@]}" -d "$dir" -l "$dir/radius.log" >"$dir/radius.out" 2>&1 &
    NETNS_LAST_PID=$!
    NETNS_PIDS+=("$NETNS_LAST_PID")
  fi
  RADIUS_PID=$NETNS_LAST_PID
  if ! wait_until 10 eval "! alive $RADIUS_PID || radius_status"; then
    echo "radius: no answer to Status-Server within 10 s" >&2
    return 1
  fi
  alive "$RADIUS_PID" || {
    echo "radius: freeradius exited:" >&2
    tail -n 20 "$dir/radius.log" "$dir/radius.out" >&2
    return 1
  }
  local pool
  for pool in "${RADIUS_PENDING_POOLS[@]}"; do
    # shellcheck disable=SC2086  # "NAME FIRST COUNT", split on purpose
    radius_pool $pool || return 1
  done
  RADIUS_PENDING_POOLS=()
}

# radius_stop: SIGTERM, then SIGKILL after 5 s; the server's files stay for the log.
radius_stop() {
  [ -n "$RADIUS_PID" ] || return 0
  netns_stop "$RADIUS_PID"
  RADIUS_PID=
}

# radius_request auth|acct|status [NS [ADDRESS]]: one request (ATTR = VALUE lines on stdin) with
# radclient from NS (default: the server's namespace) to ADDRESS (default RADIUS_ADDR); prints radclient's
# -x output (what it sent, the reply code and attributes), or its error. Access-Requests need
# "Message-Authenticator = 0x00" in the input: radclient then computes it.
radius_request() {
  local kind=$1 ns=${2:-$RADIUS_NETNS} address=${3:-$RADIUS_ADDR} port=$RADIUS_AUTH_PORT
  [ "$kind" != acct ] || port=$RADIUS_ACCT_PORT
  if [ -n "$ns" ]; then
    ip netns exec "$ns" timeout 10 radclient -x -r 1 -t 2 "$address:$port" "$kind" "$RADIUS_SECRET" 2>&1
  else
    timeout 10 radclient -x -r 1 -t 2 "$address:$port" "$kind" "$RADIUS_SECRET" 2>&1
  fi
}

# radius_reply_code: the reply code in radius_request's output on stdin (Access-Accept...), or "none".
radius_reply_code() {
  local code
  code=$(sed -nE 's/^Received ([A-Za-z-]+) Id .*/\1/p' | head -n1)
  echo "${code:-none}"
}

# radius_acct_rows USER: USER's radacct rows, oldest first, one a line:
#   acctsessionid|nasipaddress|nasportid|start|update|stop|sessiontime|in_octets|out_octets|framedip|
#   terminatecause|class
radius_acct_rows() {
  radius_sql "SELECT acctsessionid, nasipaddress, nasportid, acctstarttime, acctupdatetime, acctstoptime,
      acctsessiontime, acctinputoctets, acctoutputoctets, framedipaddress, acctterminatecause, class
    FROM radacct WHERE username = '$1' ORDER BY radacctid"
}

# radius_open_sessions USER: how many of USER's sessions have no Stop (what Simultaneous-Use counts).
radius_open_sessions() {
  radius_sql "SELECT COUNT(*) FROM radacct WHERE username = '$1' AND acctstoptime IS NULL"
}

# radius_leases [POOL]: the addresses currently leased (expiry in the future), "address|user", sorted.
radius_leases() {
  radius_sql "SELECT framedipaddress, username FROM radippool
    WHERE pool_name = '${1:-$RADIUS_POOL_NAME}' AND expiry_time > datetime('now') ORDER BY framedipaddress"
}

# radius_dynauth disconnect|coa NAS_ADDR NAS_PORT SECRET [ATTR=VALUE ...]: an RFC 5176 request to a NAS
# (from the server's namespace), signed (Message-Authenticator = 0x00 makes radclient compute it). Prints
# the reply code (Disconnect-ACK, Disconnect-NAK, CoA-ACK, CoA-NAK) or "timeout" when nothing answered
# within 2 tries of 1 s; returns 0 on an ACK.
radius_dynauth() {
  local kind=$1 nas=$2 port=$3 secret=$4 arg out code
  shift 4
  out=$({
    printf 'Message-Authenticator = 0x00\n'
    for arg in "$@"; do
      printf '%s = %s\n' "${arg%%=*}" "$(radius_quote "${arg#*=}")"
    done
  } | radius_in_ns timeout 10 radclient -x -r 2 -t 1 "$nas:$port" "$kind" "$secret" 2>&1)
  code=$(radius_reply_code <<<"$out")
  [ "$code" != none ] || code=timeout
  echo "$code"
  case $code in *-ACK) return 0 ;; *) return 1 ;; esac
}

# radius_disconnect NAS_ADDR NAS_PORT SECRET [ATTR=VALUE ...]: Disconnect-Request (e.g. User-Name=alice
# Acct-Session-Id=...).
radius_disconnect() {
  radius_dynauth disconnect "$@"
}

# radius_coa NAS_ADDR NAS_PORT SECRET [ATTR=VALUE ...]: CoA-Request (e.g. Session-Timeout=60).
radius_coa() {
  radius_dynauth coa "$@"
}
