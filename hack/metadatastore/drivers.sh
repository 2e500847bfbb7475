#!/usr/bin/env bash
# The JDBC drivers Druid's metadata-store extensions use, from Maven Central with Maven itself,
# cached outside the clone, for test/metadatastore.
#
#   hack/metadatastore/drivers.sh fetch   copy the driver jars into the cache (once per version set)
#   hack/metadatastore/drivers.sh dir     print the cache directory (one jar per driver)
#   hack/metadatastore/drivers.sh check   install the database servers when missing (as root, with apt-get), then fail
#                                         unless java, javac and the database servers are installed
#
# Versions: pgjdbc 42.7.4 and MySQL Connector/J 8.2.0 (the Connector/J version Druid's MySQL
# extension documents, docs/development/extensions-core/mysql.md). Both are served by the
# Maven Central these machines reach (checked 2026-12-04); Druid's own
# postgresql-metadata-storage and mysql-metadata-storage are not (33.0.0 and 37.0.0 tried), so
# the tests connect with the drivers the way those extensions do instead of running them.
#
# IMPLY_OPERATOR_CACHE moves the cache (default ~/.cache/imply-operator); MAVEN_REPO_LOCAL sets
# Maven's local repository.
set -euo pipefail

PGJDBC=org.postgresql:postgresql:42.7.4
CONNECTORJ=com.mysql:mysql-connector-j:8.2.0
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

cache_root=${IMPLY_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imply-operator}
dir="$cache_root/jdbc-pgjdbc-${PGJDBC##*:}-connectorj-${CONNECTORJ##*:}"

die() { echo "metadatastore: $*" >&2; exit 1; }

# servers installs Debian's PostgreSQL 15 and MariaDB when they are missing and this runs as root
# with apt-get (a fresh machine of this project's kind), so make test needs nothing installed by
# hand; elsewhere check names what to install. Their services are not used: the tests start the
# servers themselves on loopback.
servers() {
  local pkgs=()
  [ -x "$PG_BIN/postgres" ] || pkgs+=(postgresql-15)
  { [ -x /usr/sbin/mariadbd ] && command -v mariadb-install-db >/dev/null && command -v mariadb >/dev/null; } || pkgs+=(mariadb-server mariadb-client)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "metadatastore: installing ${pkgs[*]} from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
}

check() {
  local missing=()
  command -v java >/dev/null || missing+=("java (openjdk-17-jdk-headless)")
  command -v javac >/dev/null || missing+=("javac (openjdk-17-jdk-headless)")
  [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/initdb" ] || missing+=("$PG_BIN/postgres (postgresql-15)")
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=("mariadbd (mariadb-server)")
  command -v mariadb-install-db >/dev/null || missing+=("mariadb-install-db (mariadb-server)")
  command -v mariadb >/dev/null || missing+=("mariadb (mariadb-client)")
  [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}; .ci/run installs them"
}

fetch() {
  [ -f "$dir/.complete" ] && return 0
  # The Maven hack/druid/druid.sh uses: the installed mvn, else Apache Maven from Maven Central.
  local mvn; mvn=$("$(dirname "$0")/../druid/druid.sh" maven) || die "no Maven to fetch the drivers with"
  mkdir -p "$cache_root"
  local tmp; tmp=$(mktemp -d "$cache_root/.jdbc.XXXXXX")
  local a args
  for a in "$PGJDBC" "$CONNECTORJ"; do
    args=(-B -q -Dstyle.color=never dependency:copy -Dartifact="$a" -DoutputDirectory="$tmp")
    [ -n "${MAVEN_REPO_LOCAL:-}" ] && args=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL" "${args[@]}")
    (cd "$tmp" && "$mvn" "${args[@]}") || die "mvn could not fetch $a"
  done
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
}

case "${1:-}" in
  fetch) fetch ;;
  dir) echo "$dir" ;;
  check) servers; check ;;
  *) die "usage: $0 fetch|dir|check" ;;
esac
