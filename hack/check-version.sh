#!/usr/bin/env bash
# Checks that the release version agrees everywhere a user meets it: VERSION, the chart's
# appVersion (the default image tag), the chart's image values and CHANGELOG.md.
#
#   hack/check-version.sh <version> <image repository>
set -euo pipefail
version=$1 repository=$2
root=$(cd "$(dirname "$0")/.." && pwd)
chart=$root/charts/imply-operator
fail() { echo "check-version: $*" >&2; exit 1; }

[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || fail "VERSION '$version' is not semantic (x.y.z)"
app=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$chart/Chart.yaml")
[ "$app" = "$version" ] || fail "charts/imply-operator/Chart.yaml appVersion is '$app', VERSION is '$version'"
# image.tag must stay empty so the tag is the appVersion; image.repository is the published one.
image=$(sed -n '/^image:/,/^[^ #]/p' "$chart/values.yaml")
tag=$(sed -n 's/^  tag: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' <<<"$image")
[ -z "$tag" ] || fail "values.yaml image.tag is '$tag': leave it empty so the image tag is appVersion ($version)"
repo=$(sed -n 's/^  repository: *\(.*\)$/\1/p' <<<"$image")
[ "$repo" = "$repository" ] || fail "values.yaml image.repository is '$repo', the project publishes '$repository'"
grep -q "^## \[$version\]" "$root/CHANGELOG.md" || fail "CHANGELOG.md has no '## [$version]' section"
section=$(awk -v v="## [$version]" 'index($0, v) == 1 { on = 1; next } /^## \[/ { on = 0 } on' "$root/CHANGELOG.md")
grep -q '^### Upgrade notes' <<<"$section" || fail "CHANGELOG.md [$version] has no '### Upgrade notes'"
grep -q '^### CRD changes' <<<"$section" || fail "CHANGELOG.md [$version] has no '### CRD changes'"
echo "check-version: $version (chart appVersion, image $repository:$version, CHANGELOG.md)"
