#!/usr/bin/env bash
# The seed's upgrade (sections C, D, E) as an operator scripts it today: settings backup with curl;
# the MySQL dbupgrade job on the first Master with `docker wait`; then `up -d` with the new version
# host by host, Webapps, Masters, Coreapps; the 2.29.3 media chown; health with curl.
# The baseline of `npm run bench`; deliberately naive and sequential.
#
# Environment: WEB_HOSTS, MASTER_HOSTS, CORE_HOSTS (addresses, space-separated), WA_API_VERSION (the
# new version), UPSTREAM_DIR (unmodified dbupgrade-compose.yml), BACKUP_PASSWORD_FILE, MEDIA_DIR
# (default /usr/local/wamedia), plus what seed-common.sh needs. The cluster was set up in ~/biz.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=seed-common.sh
source "$here/seed-common.sh"
: "${WEB_HOSTS:?}" "${MASTER_HOSTS:?}" "${CORE_HOSTS:?}" "${WA_API_VERSION:?}" "${UPSTREAM_DIR:?}"
: "${BACKUP_PASSWORD_FILE:?}"
MEDIA_DIR="${MEDIA_DIR:-/usr/local/wamedia}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# C: back up the application settings first.
login
backup="$(api POST /v1/settings/backup "$(jq -n --arg p "$(cat "$BACKUP_PASSWORD_FILE")" '{password: $p}')")"
[ "$(status_of "$backup")" = 200 ] || {
  log "backup answered $(status_of "$backup"): $(body_of "$backup")"
  exit 1
}
body_of "$backup" >"$work/settings-backup.json"
log "settings backed up"

# D1-D3: the dbupgrade job of the new version on the first Master, and its exit code.
read -r db_host _ <<<"$MASTER_HOSTS"
copy_to "$db_host" "$UPSTREAM_DIR/dbupgrade-compose.yml"
exit_code="$(on_host "$db_host" "cd $REMOTE_DIR && export EXTERNAL_HOSTNAME=$db_host WA_API_VERSION=$WA_API_VERSION \
  && docker-compose -f dbupgrade-compose.yml up -d && timeout 1800 docker wait \$(docker-compose -f dbupgrade-compose.yml ps -q dbupgrade)")"
[ "$exit_code" = 0 ] || {
  log "the dbupgrade job exited $exit_code"
  exit 1
}
log "dbupgrade: exit 0"

# D4 and C: every app container on the new version, Webapps, then Masters, then Coreapps.
restart_role() { # restart_role <service> <hosts...>
  local service="$1" host
  shift
  for host in "$@"; do
    compose_on "$host" "$WA_API_VERSION" "$COMPOSE_FILE" up -d "$service"
    log "$host: $service on v$WA_API_VERSION"
  done
}
# shellcheck disable=SC2086 # host lists are space-separated on purpose
restart_role waweb $WEB_HOSTS
# shellcheck disable=SC2086
restart_role master $MASTER_HOSTS
# shellcheck disable=SC2086
restart_role wacore $CORE_HOSTS

login # waits for the new Webapp

# E: from 2.29.1/2.29.2 to 2.29.3 or later, give the media back to root, in every Webapp.
for host in $WEB_HOSTS; do
  on_host "$host" "docker exec \$(docker ps -q --filter label=com.docker.compose.service=waweb) \
    chown -R root $MEDIA_DIR/incoming $MEDIA_DIR/outgoing $MEDIA_DIR/shared"
  log "$host: media owned by root"
done

# Health: every node back, exactly one Coreapp connected.
nodes=$(($(wc -w <<<"$MASTER_HOSTS") + $(wc -w <<<"$CORE_HOSTS")))
wait_health "one Coreapp connected" "$(one_connected_with "$nodes")"
