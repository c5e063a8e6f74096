#!/usr/bin/env bash
# The seed's procedure A (HA setup) as an operator scripts it today: one host after another, scp the
# files, ssh `docker-compose up -d <service>`, `ps`, then health, registration and health with curl.
# The baseline of `npm run bench`; deliberately naive and sequential.
#
# Environment: WEB_HOSTS, MASTER_HOSTS, CORE_HOSTS (addresses, space-separated), WA_API_VERSION, DB_ENGINE (MYSQL),
# UPSTREAM_DIR (unmodified prod-multiconnect-compose.yml and db.env), DB_HOSTNAME, DB_PORT,
# DB_USERNAME, DB_PASSWORD_FILE, REG_CC, REG_PHONE, REG_CERT_FILE, SMS_CODE_COMMAND (prints the code
# received by SMS), plus what seed-common.sh needs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=seed-common.sh
source "$here/seed-common.sh"
: "${WEB_HOSTS:?}" "${MASTER_HOSTS:?}" "${CORE_HOSTS:?}" "${WA_API_VERSION:?}" "${UPSTREAM_DIR:?}"
: "${DB_HOSTNAME:?}" "${DB_PORT:?}" "${DB_USERNAME:?}" "${DB_PASSWORD_FILE:?}"
: "${REG_CC:?}" "${REG_PHONE:?}" "${REG_CERT_FILE:?}" "${SMS_CODE_COMMAND:?}"

# A2-A3: the upstream db.env, edited for this cluster's database.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed -e "s|^WA_DB_ENGINE=.*|WA_DB_ENGINE=${DB_ENGINE:-MYSQL}|" -e "s|^WA_DB_HOSTNAME=.*|WA_DB_HOSTNAME=$DB_HOSTNAME|" \
  -e "s|^WA_DB_PORT=.*|WA_DB_PORT=$DB_PORT|" -e "s|^WA_DB_USERNAME=.*|WA_DB_USERNAME=$DB_USERNAME|" \
  -e "s|^WA_DB_PASSWORD=.*|WA_DB_PASSWORD=$(cat "$DB_PASSWORD_FILE")|" \
  "$UPSTREAM_DIR/db.env" >"$work/db.env"

# A1, A5: host by host, Webapps, then Masters, then Coreapps.
start_role() { # start_role <service> <hosts...>
  local service="$1" host
  shift
  for host in "$@"; do
    on_host "$host" "mkdir -p $REMOTE_DIR"
    copy_to "$host" "$UPSTREAM_DIR/$COMPOSE_FILE" "$work/db.env"
    compose_on "$host" "$WA_API_VERSION" "$COMPOSE_FILE" up -d "$service"
    log "$host: $service started"
  done
}
# shellcheck disable=SC2086 # host lists are space-separated on purpose
start_role waweb $WEB_HOSTS
# shellcheck disable=SC2086
start_role master $MASTER_HOSTS
# shellcheck disable=SC2086
start_role wacore $CORE_HOSTS

# A6: every container running.
for host in $WEB_HOSTS $MASTER_HOSTS $CORE_HOSTS; do
  ps_out="$(compose_on "$host" "$WA_API_VERSION" "$COMPOSE_FILE" ps)"
  grep -q ' Up ' <<<"$ps_out" || {
    log "$host: no container is up: $ps_out"
    exit 1
  }
done
log "ps: every container is up"

# A7: health, before registration.
nodes=$(($(wc -w <<<"$MASTER_HOSTS") + $(wc -w <<<"$CORE_HOSTS")))
login
wait_health "unregistered" "$(unregistered_with "$nodes")"

# A8: registration, then the code received by SMS.
account="$(api POST /v1/account "$(jq -n --arg cc "$REG_CC" --arg phone "$REG_PHONE" \
  --arg cert "$(cat "$REG_CERT_FILE")" '{cc: $cc, phone_number: $phone, method: "sms", cert: $cert}')")"
case "$(status_of "$account")" in
201) log "already registered" ;;
202)
  code="$(bash -c "$SMS_CODE_COMMAND")"
  verify="$(api POST /v1/account/verify "$(jq -n --arg code "$code" '{code: $code}')")"
  [ "$(status_of "$verify")" = 201 ] || {
    log "verify answered $(status_of "$verify"): $(body_of "$verify")"
    exit 1
  }
  log "registered"
  ;;
*)
  log "POST /v1/account answered $(status_of "$account"): $(body_of "$account")"
  exit 1
  ;;
esac

# A9: exactly one Coreapp connected.
wait_health "one Coreapp connected" "$(one_connected_with "$nodes")"
