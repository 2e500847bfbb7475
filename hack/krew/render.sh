#!/usr/bin/env bash
# `make plugin-krew`: build kubectl-imply for every platform of hack/krew/imply.yaml into
# OUTDIR/kubectl-imply_<os>_<arch>.tar.gz and write OUTDIR/imply.yaml with VERSION and the
# archives' SHA-256 filled in.
#
#   hack/krew/render.sh VERSION OUTDIR [os/arch ...]   (default: every platform of the manifest)
#
# Platforms left out keep their placeholder, and the manifest is then only good for a local
# `kubectl krew install --manifest --archive` of a platform that was built.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=${1:?usage: render.sh VERSION OUTDIR [os/arch ...]}
out=${2:?usage: render.sh VERSION OUTDIR [os/arch ...]}
shift 2
platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
mkdir -p "$out"
manifest=$(sed "s/@VERSION@/$version/g" "$here/imply.yaml")
for p in "${platforms[@]}"; do
  os=${p%/*}; arch=${p#*/}
  exe=kubectl-imply; [ "$os" = windows ] && exe=kubectl-imply.exe
  stage=$(mktemp -d)
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "-s -w" -o "$stage/$exe" "$here/../../cmd/kubectl-imply"
  tar -C "$stage" -czf "$out/kubectl-imply_${os}_${arch}.tar.gz" "$exe"
  rm -rf "$stage"
  sum=$(sha256sum "$out/kubectl-imply_${os}_${arch}.tar.gz" | cut -d' ' -f1)
  manifest=${manifest//@SHA256_${os}_${arch}@/$sum}
  echo "kubectl-imply_${os}_${arch}.tar.gz $sum"
done
printf '%s\n' "$manifest" >"$out/imply.yaml"
echo "wrote $out/imply.yaml"
