#!/usr/bin/env bash
# Starts a throwaway Dovecot IMAP server (Debian's `dovecot-imapd`, no Docker) for the
# helpdesk-mail IMAP tests and prints the environment to use it:
#
#   eval "$(scripts/start-dovecot.sh)"   # exports HELPDESK_IMAP_HOST, _PORT, _USER, _PASSWORD, HELPDESK_DOVECOT_DIR
#   cargo test -p helpdesk-mail --features imap --test imap_dovecot
#   scripts/stop-dovecot.sh
#
# Everything lives in one state folder, $HELPDESK_DOVECOT_DIR (default
# ${HELPDESK_CACHE:-~/.cache/helpdesk}/run/dovecot-<port>): a self-contained dovecot.conf
# (nothing from /etc/dovecot is read), the runtime sockets and pid file (base_dir), the log,
# a passwd-file of test users and their Maildirs. The server listens on 127.0.0.1 only,
# without TLS, with plaintext LOGIN allowed (it is loopback and the data is disposable), and
# every process runs as one unprivileged user (default_internal_user/default_login_user):
# the current user, or Debian's `dovecot` system user when we are root (Dovecot's login
# processes refuse to run as root), as scripts/start-postgres.sh does with `postgres`; when
# that user cannot reach the cache folder (a home folder closed to others, as /root is) the
# state goes to ${TMPDIR:-/tmp}/helpdesk-dovecot-<port> instead. The test users (`helpdesk`,
# `helpdesk2`, `helpdesk3`) share one random password, made on the first start and kept in
# the state folder; tests isolate themselves by mailbox (or by user). The same server also
# answers on 127.0.0.2 (loopback too), where it does not announce MOVE (RFC 6851), so a
# client's fallback to COPY + STORE \Deleted + EXPUNGE can be tested
# (HELPDESK_IMAP_HOST_NO_MOVE).
# A server already running on that folder is reused, so a second start is cheap.
# Only the `export` lines go to stdout; progress and errors go to stderr.
# Environment: HELPDESK_IMAP_PORT (this port instead of 14143 or, when taken, a free one),
# HELPDESK_DOVECOT_DIR (the state folder), HELPDESK_DOVECOT_WAIT_SECONDS (start-up wait, 30).
set -euo pipefail
cache="${HELPDESK_CACHE:-$HOME/.cache/helpdesk}"
say() { echo "start-dovecot: $*" >&2; }

if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
  say "dovecot not found; installing Debian's dovecot-imapd package"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y dovecot-imapd >&2
fi
dovecot_bin="$(command -v dovecot || echo /usr/sbin/dovecot)"
[ -x "$dovecot_bin" ] || { say "dovecot still missing after installing dovecot-imapd"; exit 1; }

# A stable port when free (so the environment stays the same between runs), else any.
free_port() {
  python3 - "$1" <<'PY'
import socket, sys
for candidate in (int(sys.argv[1]), 0):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", candidate))
        print(s.getsockname()[1])
        break
    except OSError:
        continue
    finally:
        s.close()
PY
}
# Answers with an IMAP greeting within the timeout (seconds).
answers() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, deadline = int(sys.argv[1]), time.time() + float(sys.argv[2])
while True:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            if s.recv(64).startswith(b"* OK"):
                sys.exit(0)
    except OSError:
        pass
    if time.time() >= deadline:
        sys.exit(1)
    time.sleep(0.2)
PY
}

# Who runs the server: the current user, or `dovecot` when we are root.
if [ "$(id -u)" -eq 0 ]; then
  id dovecot >/dev/null 2>&1 || useradd --system --user-group --home-dir /nonexistent \
    --shell /usr/sbin/nologin dovecot
  server_user=dovecot
  as_server() { runuser -u dovecot -- "$@"; }
else
  server_user="$(id -un)"
  as_server() { "$@"; }
fi
# The state folder of a port: HELPDESK_DOVECOT_DIR, else under the cache folder, or under the
# temp folder when the server user cannot reach the cache (see above).
state_of() {
  if [ -n "${HELPDESK_DOVECOT_DIR:-}" ]; then
    echo "$HELPDESK_DOVECOT_DIR"
  elif [ "$(id -u)" -eq 0 ] && ! runuser -u dovecot -- test -x "$cache" 2>/dev/null; then
    echo "${TMPDIR:-/tmp}/helpdesk-dovecot-$1"
  else
    echo "$cache/run/dovecot-$1"
  fi
}
# Our server of a state folder runs: its master pid file names a live dovecot process.
running() {
  local pid
  [ -f "$1/run/master.pid" ] || return 1
  pid="$(cat "$1/run/master.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dovecot "/proc/$pid/comm" 2>/dev/null
}
# The port a running server of a state folder listens on (from its config).
port_of() { sed -n 's/^ *port = \([0-9][0-9]*\)$/\1/p' "$1/dovecot.conf" 2>/dev/null | head -n 1; }

port="${HELPDESK_IMAP_PORT:-14143}"
state="$(state_of "$port")"
if running "$state" && [ "$(port_of "$state")" = "$port" ]; then
  say "Dovecot already running on 127.0.0.1:$port (state in $state)"
else
  if [ "$(free_port "$port")" != "$port" ]; then
    if [ -n "${HELPDESK_IMAP_PORT:-}" ]; then
      say "port $port is taken by another program (HELPDESK_IMAP_PORT)"
      exit 1
    fi
    port="$(free_port 0)"
    state="$(state_of "$port")"
  fi
  if running "$state"; then
    # A server of ours on another port (HELPDESK_DOVECOT_DIR fixed, port changed): restart it.
    as_server "$dovecot_bin" -c "$state/dovecot.conf" stop >&2 || true
  fi
  mkdir -p "$state/run" "$state/state" "$state/mail" "$state/home"
  chmod 700 "$state"
  [ "$(id -u)" -eq 0 ] && chown -R dovecot: "$state"
  as_server test -w "$state" || { say "user $server_user cannot write $state"; exit 1; }
  if [ ! -s "$state/password" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$state/password")
  fi
  password="$(cat "$state/password")"
  # Dovecot 2.3's post-login capabilities, less MOVE.
  no_move_capabilities="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY"
  no_move_capabilities+=" THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND"
  no_move_capabilities+=" URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED"
  no_move_capabilities+=" I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN"
  no_move_capabilities+=" CONTEXT=SEARCH LIST-STATUS BINARY LITERAL+"
  user="$server_user"
  group="$(id -gn "$server_user")"
  uid="$(id -u "$server_user")"
  gid="$(id -g "$server_user")"
  (
    umask 077
  {
    echo "helpdesk:{PLAIN}$password::::::"
    echo "helpdesk2:{PLAIN}$password::::::"
    echo "helpdesk3:{PLAIN}$password::::::"
  } >"$state/users"
  )
  as_server_writes() { if [ "$(id -u)" -eq 0 ]; then chown dovecot: "$@"; fi; }
  as_server_writes "$state/password" "$state/users"
  cat >"$state/dovecot.conf" <<EOF
# Written by scripts/start-dovecot.sh; rewritten on every start.
protocols = imap
listen = 127.0.0.1, 127.0.0.2
base_dir = $state/run
state_dir = $state/state
instance_name = helpdesk-dovecot-$port
log_path = $state/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password in a test fails at once instead of after Dovecot's 2 s brake.
auth_failure_delay = 0
# Every process as the current user: no root daemon, no system users needed.
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
first_valid_uid = $uid
first_valid_gid = $gid
mail_location = maildir:$state/mail/%n
mail_privileged_group =
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $state/users
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$state/home/%n
}
namespace inbox {
  inbox = yes
  separator = /
}
# No chroot: chroot needs root, and nothing here is worth the isolation.
service anvil {
  chroot =
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1, 127.0.0.2
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
# Without MOVE on the second loopback address (see above).
local 127.0.0.2 {
  protocol imap {
    imap_capability = $no_move_capabilities
  }
}
EOF
  rm -f "$state/run/master.pid"
  say "starting Dovecot on 127.0.0.1:$port (state in $state)"
  as_server_writes "$state/dovecot.conf"
  as_server "$dovecot_bin" -c "$state/dovecot.conf" >&2 || {
    say "dovecot did not start; its log ($state/dovecot.log):"
    tail -n 40 "$state/dovecot.log" >&2 || true
    exit 1
  }
fi

answers "$port" "${HELPDESK_DOVECOT_WAIT_SECONDS:-30}" || {
  say "no IMAP greeting on 127.0.0.1:$port; its log ($state/dovecot.log):"
  tail -n 40 "$state/dovecot.log" >&2 || true
  # Leave no half-started server behind (ours only: the master of this state folder).
  as_server "$dovecot_bin" -c "$state/dovecot.conf" stop >&2 2>/dev/null || true
  exit 1
}
say "Dovecot ready on 127.0.0.1:$port (users helpdesk, helpdesk2, helpdesk3)"
echo "export HELPDESK_IMAP_HOST='127.0.0.1'"
echo "export HELPDESK_IMAP_PORT='$port'"
echo "export HELPDESK_IMAP_HOST_NO_MOVE='127.0.0.2'"
echo "export HELPDESK_IMAP_USER='helpdesk'"
echo "export HELPDESK_IMAP_PASSWORD='$(cat "$state/password")'"
echo "export HELPDESK_DOVECOT_DIR='$state'"
