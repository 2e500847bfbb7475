#!/usr/bin/env bash
# A real Apache Druid coordinator (as overlord too) on loopback, for tests and local runs:
# Druid from Maven Central, fetched with Maven itself into a cache outside the clone, ZooKeeper
# from the same fetch (Druid's dependency tree carries org.apache.zookeeper:zookeeper), Derby as
# the metadata store. Only Java 17+ and curl need to be installed: without `mvn` on the PATH,
# Apache Maven itself is fetched from Maven Central into the cache (checksum pinned below).
#
#   hack/druid/druid.sh fetch          resolve Druid into the cache (once per version set)
#   hack/druid/druid.sh home           print the cache directory (lib/, extensions/)
#   hack/druid/druid.sh start RUNDIR   start ZooKeeper and the coordinator of RUNDIR, wait until up
#   hack/druid/druid.sh stop RUNDIR    stop both
#   hack/druid/druid.sh check          fail unless Java 17+ is installed (and curl, when mvn is not)
#
# RUNDIR holds the configuration in Druid's layout: conf/druid/_common/common.runtime.properties
# and conf/druid/coordinator/{runtime.properties,jvm.config} (jvm.config optional, one option a
# line). ZooKeeper listens on 127.0.0.1 at the port of druid.zk.service.host. The environment is
# passed to Druid as is, so passwords given through Druid's environment password provider never
# touch disk or the command line. DRUID_EXTRA_JAVA_OPTS adds JVM options (no secrets there: they
# show in ps). Logs: RUNDIR/log/{zookeeper,coordinator}.log.
#
# Versions. The Maven Central these machines reach serves druid-services' whole dependency tree
# at 33.0.0 and druid-basic-security only at 37.0.0 (druid-services 37.0.0 lacks druid-sql and
# druid-multi-stage-query, without which the coordinator does not start; see hack/druid/README.md),
# so the core is 33.0.0 and the extension 37.0.0. Change them together with the README.
#
# IMPLY_OPERATOR_CACHE moves the cache (default ~/.cache/imply-operator); MAVEN_REPO_LOCAL sets
# Maven's local repository (default Maven's own, ~/.m2/repository).
set -euo pipefail

DRUID_VERSION=33.0.0
BASIC_SECURITY_VERSION=37.0.0
# Extensions fetched into extensions/<name>/ as groupId:artifactId:version.
EXTENSIONS=("org.apache.druid.extensions:druid-basic-security:$BASIC_SECURITY_VERSION")

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${IMPLY_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imply-operator}
home="$cache_root/druid-$DRUID_VERSION-basic-security-$BASIC_SECURITY_VERSION"
# ZooKeeper runs from Druid's own lib/ (zookeeper and zookeeper-jute, with the slf4j/log4j jars
# Druid ships); no OS package.
START_TIMEOUT=${DRUID_START_TIMEOUT:-240}
# Apache Maven from Maven Central, used only when no `mvn` is on the PATH.
MAVEN_VERSION=3.9.16
MAVEN_SHA512=831a8591fe20c8243b1dbe7d71e3244f31d1665b0804b2e825e38cbbe5ce0cafb8338851f90780735568773e0a6cd07bbec107cda0b896b008b861075358b6f6
MAVEN_URL=https://repo.maven.apache.org/maven2/org/apache/maven/apache-maven/$MAVEN_VERSION/apache-maven-$MAVEN_VERSION-bin.tar.gz

log() { echo "druid: $*" >&2; }
die() { log "$*"; exit 1; }

check() {
  local missing=()
  command -v java >/dev/null || missing+=("java (Debian package openjdk-17-jdk-headless)")
  command -v mvn >/dev/null || command -v curl >/dev/null || missing+=("curl or mvn (to fetch Apache Maven)")
  if [ ${#missing[@]} -gt 0 ]; then
    die "missing: ${missing[*]}; .ci/run installs them"
  fi
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  [ "${major:-0}" -ge 17 ] || die "Druid $DRUID_VERSION needs Java 17 or newer, java is $major"
}

# maven prints the mvn to run: the one on the PATH, else Apache Maven $MAVEN_VERSION fetched from
# Maven Central into the cache and checked against MAVEN_SHA512.
maven() {
  if command -v mvn >/dev/null; then
    command -v mvn
    return 0
  fi
  local dir="$cache_root/apache-maven-$MAVEN_VERSION"
  if [ ! -x "$dir/bin/mvn" ]; then
    log "no mvn on the PATH: fetching Apache Maven $MAVEN_VERSION from Maven Central into $dir"
    mkdir -p "$cache_root"
    local tmp; tmp=$(mktemp -d "$cache_root/.maven.XXXXXX")
    curl -fsSL --retry 3 -o "$tmp/maven.tar.gz" "$MAVEN_URL" || { rm -rf "$tmp"; die "could not download $MAVEN_URL"; }
    if ! echo "$MAVEN_SHA512  $tmp/maven.tar.gz" | sha512sum -c --quiet - >/dev/null; then
      rm -rf "$tmp"
      die "$MAVEN_URL does not match its pinned SHA-512"
    fi
    tar -xzf "$tmp/maven.tar.gz" -C "$tmp"
    rm -rf "$dir"
    mv "$tmp/apache-maven-$MAVEN_VERSION" "$dir"
    rm -rf "$tmp"
  fi
  echo "$dir/bin/mvn"
}

mvn_copy() { # GROUP ARTIFACT VERSION OUTDIR
  local args=(-B -q -f "$here/pom.xml" -Ddruid.groupId="$1" -Ddruid.artifactId="$2" -Ddruid.version="$3"
    -Ddruid.outputDirectory="$4" dependency:copy-dependencies)
  [ -n "${MAVEN_REPO_LOCAL:-}" ] && args=(-Dmaven.repo.local="$MAVEN_REPO_LOCAL" "${args[@]}")
  "$MVN" "${args[@]}"
}

fetch() {
  [ -f "$home/.complete" ] && return 0
  check
  log "fetching Druid $DRUID_VERSION (+ druid-basic-security $BASIC_SECURITY_VERSION) with Maven into $home"
  MVN=$(maven)
  mkdir -p "$cache_root"
  local tmp; tmp=$(mktemp -d "$cache_root/.druid.XXXXXX")
  mvn_copy org.apache.druid druid-services "$DRUID_VERSION" "$tmp/lib"
  local ext g a v
  for ext in "${EXTENSIONS[@]}"; do
    IFS=: read -r g a v <<<"$ext"
    mvn_copy "$g" "$a" "$v" "$tmp/extensions/$a"
  done
  compgen -G "$tmp/lib/zookeeper-[0-9]*.jar" >/dev/null || die "Druid's dependency tree in $tmp/lib has no zookeeper jar"
  touch "$tmp/.complete"
  rm -rf "$home"
  mv "$tmp" "$home"
  log "Druid is in $home ($(du -sh "$home" | cut -f1))"
}

# prop FILE KEY prints the value of KEY in a Java properties file (last wins), unescaped.
prop() {
  sed -n "s/^$(printf '%s' "$2" | sed 's/\./\\./g')[[:space:]]*=[[:space:]]*//p" "$1" | tail -1 | sed 's/\\\(.\)/\1/g'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  local run=${1:?usage: druid.sh start RUNDIR}
  run=$(cd "$run" && pwd)
  local common="$run/conf/druid/_common/common.runtime.properties"
  local coord="$run/conf/druid/coordinator"
  [ -f "$common" ] || die "$common is missing"
  [ -f "$coord/runtime.properties" ] || die "$coord/runtime.properties is missing"
  check
  fetch
  mkdir -p "$run/log" "$run/zookeeper/data" "$run/var/tmp"

  # ZooKeeper on loopback, at the port Druid is told to use.
  local zk port
  zk=$(prop "$common" druid.zk.service.host)
  zk=${zk%%,*}
  port=${zk##*:}
  [[ "$port" =~ ^[0-9]+$ ]] || die "druid.zk.service.host ($zk) names no port"
  if ! alive "$run/zookeeper.pid"; then
    cat >"$run/zookeeper/zoo.cfg" <<EOF
tickTime=2000
dataDir=$run/zookeeper/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok
EOF
    java -Xms32m -Xmx96m -Dlog4j.configurationFile="$here/log4j2.xml" -cp "$home/lib/*" \
      org.apache.zookeeper.server.ZooKeeperServerMain \
      "$run/zookeeper/zoo.cfg" >"$run/log/zookeeper.log" 2>&1 </dev/null &
    echo $! >"$run/zookeeper.pid"
    local i
    for i in $(seq 1 60); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
      alive "$run/zookeeper.pid" || { tail -20 "$run/log/zookeeper.log" >&2; die "ZooKeeper exited"; }
      sleep 0.5
    done
    log "ZooKeeper on 127.0.0.1:$port"
  fi

  alive "$run/coordinator.pid" && die "a coordinator of $run is running already"
  local opts=()
  if [ -f "$coord/jvm.config" ]; then
    local line
    while IFS= read -r line; do
      [ -n "$line" ] && [ "${line:0:1}" != "#" ] && opts+=("$line")
    done <"$coord/jvm.config"
  fi
  # Druid's bin/run-java adds these on Java 17 (strong encapsulation, docs: operations/java).
  opts+=(
    --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
    -Dlog4j.configurationFile="$here/log4j2.xml"
    -Ddruid.extensions.directory="$home/extensions"
  )
  # shellcheck disable=SC2206 # word splitting of the extra options is intended
  [ -n "${DRUID_EXTRA_JAVA_OPTS:-}" ] && opts+=($DRUID_EXTRA_JAVA_OPTS)
  (cd "$run/var" && exec java "${opts[@]}" -cp "$run/conf/druid/_common:$coord:$home/lib/*" \
    org.apache.druid.cli.Main server coordinator >"$run/log/coordinator.log" 2>&1 </dev/null) &
  echo $! >"$run/coordinator.pid"

  local deadline=$((SECONDS + START_TIMEOUT))
  until grep -q 'Successfully started lifecycle \[module\]' "$run/log/coordinator.log" 2>/dev/null; do
    if ! alive "$run/coordinator.pid"; then
      tail -40 "$run/log/coordinator.log" >&2
      die "the coordinator exited during start (log: $run/log/coordinator.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -40 "$run/log/coordinator.log" >&2
      die "the coordinator did not start within ${START_TIMEOUT}s (log: $run/log/coordinator.log)"
    fi
    sleep 1
  done
  log "coordinator started (pid $(cat "$run/coordinator.pid"), log $run/log/coordinator.log)"
}

stop_pid() { # PIDFILE NAME
  alive "$1" || { rm -f "$1"; return 0; }
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$2 did not stop within 30s; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
  log "$2 stopped"
}

stop() {
  local run=${1:?usage: druid.sh stop RUNDIR}
  stop_pid "$run/coordinator.pid" coordinator
  stop_pid "$run/zookeeper.pid" ZooKeeper
}

case "${1:-}" in
  fetch) fetch ;;
  home) echo "$home" ;;
  maven) maven ;;
  check) check ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 fetch|home|check|maven|start RUNDIR|stop RUNDIR" >&2
    exit 2
    ;;
esac
