#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the pinned Go modules in
# tests/e2e/k8sbins into a cache outside the repository:
#
#   ${POTOO_E2E_CACHE:-$HOME/.cache/potoo-e2e}/<k8s version>-<sha256(go.sum)[:12]>/
#
# and does nothing when that directory already holds all three binaries (POTOO_E2E_REBUILD=1
# rebuilds anyway: do that after changing the build flags below, which are not in the key).
# Prints the directory on stdout (last line); progress and timings go to stderr.
#
# Needs: Go >= the go line of k8sbins/go.mod (1.26.0), the Go module proxy the
# first time (the module cache then persists), about 2 GiB of RAM per compile.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod="$here/k8sbins"

export GOTOOLCHAIN=local   # fail loudly instead of fetching another Go
export CGO_ENABLED=0       # kube-apiserver and etcd are pure Go; static binaries

log() { printf 'build.sh: %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go not found in PATH"; exit 2; }

k8s_version="$(cd "$mod" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
if [[ ! "$k8s_version" =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]]; then
  log "unexpected k8s.io/kubernetes version: $k8s_version"; exit 2
fi
major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
sum_hash="$(sha256sum "$mod/go.sum" | cut -c1-12)"

cache_root="${POTOO_E2E_CACHE:-$HOME/.cache/potoo-e2e}"
out="$cache_root/$k8s_version-$sum_hash"
bins=(kube-apiserver kubectl etcd)

have_all() {
  local b
  for b in "${bins[@]}"; do [[ -x "$out/$b" ]] || return 1; done
}

start=$(date +%s)
if [[ "${POTOO_E2E_REBUILD:-0}" != 1 ]] && have_all; then
  log "cached: $out ($(( $(date +%s) - start )) s)"
  printf '%s\n' "$out"
  exit 0
fi

mkdir -p "$cache_root"
tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Version stamping as in kubernetes' hack/lib/version.sh; without it /version
# reports v0.0.0-master+$Format:%H$.
ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $pkg.gitVersion=$k8s_version"
  ld+=" -X $pkg.gitMajor=$major"
  ld+=" -X $pkg.gitMinor=$minor"
  ld+=" -X $pkg.gitTreeState=clean"
  ld+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

log "building kube-apiserver, kubectl $k8s_version and etcd into $out (cold: many minutes on 2 cores)"
cd "$mod"
go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$ld" \
  -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
log "kube-apiserver done ($(( $(date +%s) - start )) s)"
go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$ld" \
  -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
log "kubectl done ($(( $(date +%s) - start )) s)"
go build -trimpath -ldflags="-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
log "etcd done ($(( $(date +%s) - start )) s)"

"$tmp/kube-apiserver" --version >&2
"$tmp/kubectl" version --client >&2
"$tmp/etcd" --version >&2

# Publish atomically: a concurrent or interrupted build never leaves a partial dir.
rm -rf "$out.old"
[[ -d "$out" ]] && mv "$out" "$out.old"
mv "$tmp" "$out"
rm -rf "$out.old"
trap - EXIT
log "built in $(( $(date +%s) - start )) s: $(cd "$out" && du -h "${bins[@]}" | tr '\n\t' ', ')"
printf '%s\n' "$out"
