# Shared by the seed-*.sh scripts: how the operator reaches the hosts (ssh/scp with the pinned known
# hosts) and the Webapp (curl), with bounded waits. Sourced, not run.
# shellcheck shell=bash

: "${SSH_KEY:?SSH_KEY: the private key to log in with}"
: "${KNOWN_HOSTS:?KNOWN_HOSTS: the pinned host keys}"
: "${API_URL:?API_URL: https://<webapp>:<port>}"
: "${API_CACERT:?API_CACERT: the CA that signed the Webapp certificate}"
: "${ADMIN_PASSWORD_FILE:?ADMIN_PASSWORD_FILE: the admin password to set and use}"
REMOTE_DIR="${REMOTE_DIR:-biz}"
COMPOSE_FILE="${COMPOSE_FILE:-prod-multiconnect-compose.yml}"
# The workflows poll health every 3 s; so does the operator, for a fair comparison.
HEALTH_POLL_SECONDS="${HEALTH_POLL_SECONDS:-3}"
HEALTH_TIMEOUT_SECONDS="${HEALTH_TIMEOUT_SECONDS:-300}"

SSH_OPTS=(-i "$SSH_KEY" -o "UserKnownHostsFile=$KNOWN_HOSTS" -o StrictHostKeyChecking=yes
  -o BatchMode=yes -o ConnectTimeout=5)

log() { printf '%s %s\n' "$(date -u +%H:%M:%S.%3N)" "$*" >&2; }

on_host() { # on_host <address> <command...>
  local host="$1"
  shift
  ssh "${SSH_OPTS[@]}" "root@$host" "$@"
}

copy_to() { # copy_to <address> <files...>: into ~/$REMOTE_DIR
  local host="$1"
  shift
  scp -q "${SSH_OPTS[@]}" "$@" "root@$host:$REMOTE_DIR/"
}

compose_on() { # compose_on <address> <version> <file> <args...>: both variables set, as the file needs
  local host="$1" version="$2" file="$3"
  shift 3
  on_host "$host" "cd $REMOTE_DIR && EXTERNAL_HOSTNAME=$host WA_API_VERSION=$version docker-compose -f $file $*"
}

TOKEN=""
api() { # api <method> <path> [json body]: prints the body, then the HTTP status on the last line
  local args=(-sS --max-time 20 --cacert "$API_CACERT" -X "$1" -H 'Content-Type: application/json'
    -w '\n%{http_code}' -H "Authorization: Bearer $TOKEN")
  if [ $# -ge 3 ]; then args+=(-d "$3"); fi
  curl "${args[@]}" "$API_URL$2"
}

status_of() { tail -n 1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }

login() { # waits (bounded) for the Webapp; the first login sets the admin password
  local password answer i
  password="$(cat "$ADMIN_PASSWORD_FILE")"
  for ((i = 0; i < 240; i++)); do
    answer="$(curl -sS --max-time 10 --cacert "$API_CACERT" -u "admin:$password" -X POST \
      -w '\n%{http_code}' "$API_URL/v1/users/login" 2>/dev/null || true)"
    if [ "$(status_of "$answer")" != 200 ]; then
      answer="$(curl -sS --max-time 10 --cacert "$API_CACERT" -u admin:secret -X POST \
        -H 'Content-Type: application/json' -d "$(jq -n --arg p "$password" '{new_password: $p}')" \
        -w '\n%{http_code}' "$API_URL/v1/users/login" 2>/dev/null || true)"
    fi
    if [ "$(status_of "$answer")" = 200 ]; then
      TOKEN="$(body_of "$answer" | jq -r '.users[0].token')"
      return 0
    fi
    sleep 0.5
  done
  log "the Webapp did not accept a login within 120 s"
  return 1
}

wait_health() { # wait_health <description> <jq predicate over [.health[]]>
  local what="$1" predicate="$2" answer start
  start=$SECONDS
  while ((SECONDS - start < HEALTH_TIMEOUT_SECONDS)); do
    answer="$(api GET /v1/health 2>/dev/null || true)"
    if [ "$(status_of "$answer")" = 200 ] &&
      body_of "$answer" | jq -e "[.health[]] | $predicate" >/dev/null 2>&1; then
      log "health: $what"
      return 0
    fi
    sleep "$HEALTH_POLL_SECONDS"
  done
  log "health did not reach \"$what\" within $HEALTH_TIMEOUT_SECONDS s; last: $(body_of "$answer")"
  return 1
}

# jq predicates over the list of node entries of GET /v1/health (seed A7 and A9).
unregistered_with() { # <node count>
  echo "length == $1 and ([.[] | select(.role == \"primary_master\" and .gateway_status == \"unregistered\")] | length == 1)"
}
one_connected_with() { # <node count>
  echo "length == $1 and ([.[] | select(.role == \"coreapp\" and .gateway_status == \"connected\")] | length == 1) and all(.[]; .gateway_status == \"connected\" or .gateway_status == \"disconnected\")"
}
