#!/usr/bin/env bash
# `make druid-start` / `make druid-stop`: a standalone coordinator (as overlord too) on loopback
# from hack/druid/local/conf (plaintext 127.0.0.1:8081, basic security, Derby, ZooKeeper on
# 127.0.0.1:2182), for trying the operator's Druid client or the conformance suite by hand.
#
#   hack/druid/local.sh start RUNDIR   copy the configuration, generate the admin and
#                                      internal-client passwords once (RUNDIR/credentials, 0600),
#                                      start ZooKeeper and the coordinator
#   hack/druid/local.sh stop RUNDIR
#
# The passwords reach Druid through its environment password provider; they are never printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
run=${2:?usage: local.sh start|stop RUNDIR}

case "$cmd" in
  start)
    mkdir -p "$run"
    cp -r "$here/local/conf" "$run/"
    if [ ! -s "$run/credentials" ]; then
      umask 077
      {
        echo "DRUID_ADMIN_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=:')"
        echo "DRUID_INTERNAL_CLIENT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=:')"
      } >"$run/credentials"
    fi
    set -a
    # shellcheck disable=SC1091
    . "$run/credentials"
    set +a
    "$here/druid.sh" start "$run"
    echo "coordinator: http://127.0.0.1:8081 (user admin; passwords in $run/credentials)"
    ;;
  stop)
    "$here/druid.sh" stop "$run"
    ;;
  *)
    echo "usage: $0 start|stop RUNDIR" >&2
    exit 2
    ;;
esac
