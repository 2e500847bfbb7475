#!/usr/bin/env bash
# Builds the test control plane (and the project's tools) from Go modules, once per version set,
# into a cache outside the clone, and links it under bin/.
#
#   hack/control-plane.sh envtest   kube-apiserver, etcd                      -> bin/k8s
#   hack/control-plane.sh sim       + kube-controller-manager, kube-scheduler, kubectl, kwok
#   hack/control-plane.sh tools     controller-gen, helm, golangci-lint       -> bin/
#
# Idempotent: a binary already in the cache is not rebuilt. IMPLY_OPERATOR_CACHE moves the cache.
set -euo pipefail

KUBERNETES_VERSION=v1.37.2
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0
CONTROLLER_TOOLS_VERSION=v0.23.0
HELM_VERSION=v3.22.0
GOLANGCI_LINT_VERSION=v2.15.0

root=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${IMPLY_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imply-operator}
k8s_dir="$cache_root/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
tools_dir="$cache_root/tools-controller-gen-$CONTROLLER_TOOLS_VERSION-helm-$HELM_VERSION-golangci-lint-$GOLANGCI_LINT_VERSION"
mkdir -p "$k8s_dir" "$tools_dir" "$root/bin"

k8s_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=37 \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"

log() { echo "control-plane: $*" >&2; }

# missing DIR NAME... prints the names whose binary is not in DIR yet.
missing() {
  local dir=$1; shift
  for name in "$@"; do [ -x "$dir/$name" ] || echo "$name"; done
}

build_kubernetes() {
  local want; want=$(missing "$k8s_dir" "$@")
  [ -n "$want" ] || return 0
  log "building $(echo $want) $KUBERNETES_VERSION (cold: about 10 minutes on 2 cores)"
  local tmp; tmp=$(mktemp -d "$k8s_dir/.build.XXXXXX")
  local pkgs=()
  for name in $want; do pkgs+=("k8s.io/kubernetes/cmd/$name"); done
  (cd "$root/hack/tools/kubernetes" && CGO_ENABLED=0 go build -trimpath -ldflags "$k8s_ldflags" -o "$tmp/" "${pkgs[@]}")
  for name in $want; do mv -f "$tmp/$name" "$k8s_dir/$name"; done
  rmdir "$tmp"
}

build_etcd() {
  [ -n "$(missing "$k8s_dir" etcd)" ] || return 0
  log "building etcd $ETCD_VERSION"
  (cd "$root/hack/tools/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$k8s_dir/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv -f "$k8s_dir/etcd.tmp" "$k8s_dir/etcd"
}

# go_install DIR NAME PACKAGE@VERSION [LDFLAGS]
go_install() {
  local dir=$1 name=$2 pkg=$3 ldflags=${4:-"-s -w"}
  [ -n "$(missing "$dir" "$name")" ] || return 0
  log "building $pkg"
  local tmp; tmp=$(mktemp -d "$dir/.build.XXXXXX")
  CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags "$ldflags" "$pkg"
  mv -f "$tmp/$name" "$dir/$name"
  rmdir "$tmp"
}

# kwok_stages writes the stages kwok needs to run fake nodes and pods (without them it exits),
# joined from the kwok module's own stage files.
kwok_stages() {
  local out="$k8s_dir/kwok-stages.yaml"
  [ -s "$out" ] && return 0
  local dir; dir=$(cd / && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  local stage="$dir/kustomize/stage"
  {
    cat "$stage/node/fast/node-initialize.yaml"; echo "---"
    cat "$stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml"; echo "---"
    cat "$stage/pod/fast/pod-ready.yaml"; echo "---"
    cat "$stage/pod/fast/pod-complete.yaml"; echo "---"
    cat "$stage/pod/fast/pod-delete.yaml"
  } > "$out.tmp"
  mv -f "$out.tmp" "$out"
}

link() { ln -sfn "$1" "$2"; }

case "${1:-}" in
  envtest)
    build_etcd
    build_kubernetes kube-apiserver
    link "$k8s_dir" "$root/bin/k8s"
    ;;
  sim)
    build_etcd
    build_kubernetes kube-apiserver kube-controller-manager kube-scheduler kubectl
    go_install "$k8s_dir" kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
    kwok_stages
    link "$k8s_dir" "$root/bin/k8s"
    link "$k8s_dir/kubectl" "$root/bin/kubectl"
    ;;
  tools)
    go_install "$tools_dir" controller-gen "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION"
    go_install "$tools_dir" helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
      "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    go_install "$tools_dir" golangci-lint "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
    link "$tools_dir/controller-gen" "$root/bin/controller-gen"
    link "$tools_dir/helm" "$root/bin/helm"
    link "$tools_dir/golangci-lint" "$root/bin/golangci-lint"
    ;;
  *)
    echo "usage: $0 envtest|sim|tools" >&2
    exit 2
    ;;
esac
