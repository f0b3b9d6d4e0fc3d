#!/usr/bin/env bash
# Provides Flux's source-controller and kustomize-controller as plain binaries,
# with their CRDs, for running against the control plane of
# hack/control-plane/build.sh. Our machines reach only the Go module proxy, so
# both are built from their Go modules.
#
# Which release: v1.9.6 of both (the Flux v2.9 line; kustomize-controller
# v1.9.6 requires source-controller/api v1.9.0). v1.10.x cannot be built
# here: source-controller v1.10 imports github.com/fluxcd/pkg/spiffe and
# kustomize-controller v1.10 github.com/fluxcd/pkg/apis/crypto, and the proxy
# serves no version of either. v1.9.6 builds with the machine's Go (go.mod
# says go 1.26.0), GOTOOLCHAIN=local, after pinning the two dependency
# versions of source-controller that the proxy refuses to the nearest it
# serves (see pins below); kustomize-controller v1.9.6 needs no pin.
#
# Steps per controller: copy the module into bin/gitops/src/<name>@<version>
# (a module zip has no ./api, which go.mod replaces with ./api, so the api
# module of the same version is copied there), go get the pins, go build.
# Binaries go to bin/gitops/flux-<version>/{source-controller,
# kustomize-controller}, CRDs to bin/gitops/flux-<version>/crds/. When they are
# already there nothing is fetched. Prints that directory on stdout; progress
# and per-step timings go to stderr. A cold build (empty module and build
# caches) takes about 20 minutes on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
version=1.9.6
controllers=(source-controller kustomize-controller)
dir=$root/bin/gitops/flux-$version
src=$root/bin/gitops/src
want="source-controller=v$version kustomize-controller=v$version"

# Dependency versions in the controllers' go.mod that the proxy refuses,
# pinned to the nearest version it serves.
declare -A pins=(
	# artifact v0.18.3 and helmtestserver v0.40.2 (test only) are refused.
	[source-controller]="github.com/fluxcd/pkg/artifact@v0.18.1 github.com/fluxcd/pkg/helmtestserver@v0.40.1"
	[kustomize-controller]=""
)

if [[ -f $dir/.versions && "$(cat "$dir/.versions")" == "$want" &&
	-x $dir/source-controller && -x $dir/kustomize-controller ]] &&
	compgen -G "$dir/crds/*.yaml" >/dev/null; then
	echo "flux: $want in ${dir#"$root"/} (cached)" >&2
	echo "$dir"
	exit 0
fi

started=$(date +%s)
step_started=$started
step() { # message: logs the time since the previous step
	local now
	now=$(date +%s)
	echo "flux: $1 ($((now - step_started))s)" >&2
	step_started=$now
}

# module@version -> its directory in the module cache (downloads it if needed)
module_dir() {
	go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

# The copies live inside this repository: keep its go.mod, any go.work and
# its git metadata out of their builds.
export GOWORK=off GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"

mkdir -p "$dir/crds" "$src"
rm -f "$dir/.versions"

for name in "${controllers[@]}"; do
	work=$src/$name@v$version
	if [[ ! -f $work/.pinned ]]; then
		rm -rf "$work"
		echo "flux: fetching $name v$version and its api module…" >&2
		mod=$(module_dir "github.com/fluxcd/$name@v$version")
		api=$(module_dir "github.com/fluxcd/$name/api@v$version")
		[[ -n $mod && -n $api ]] || { echo "flux: cannot download $name v$version" >&2; exit 1; }
		cp -r "$mod" "$work.tmp"
		rm -rf "$work.tmp/api"
		cp -r "$api" "$work.tmp/api"
		chmod -R u+w "$work.tmp"
		mv "$work.tmp" "$work"
		step "fetched $name v$version"
		if [[ -n ${pins[$name]} ]]; then
			echo "flux: pinning $name dependencies: ${pins[$name]}" >&2
			# shellcheck disable=SC2086 # a list of module@version
			(cd "$work" && go get ${pins[$name]})
		fi
		touch "$work/.pinned"
		step "resolved $name dependencies"
	fi
	echo "flux: building $name v$version (first build takes minutes)…" >&2
	(cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/$name" .)
	step "built $name"
	cp "$work"/config/crd/bases/*.yaml "$dir/crds/"
done

echo "$want" >"$dir/.versions"
echo "flux: built $want in $(($(date +%s) - started))s" >&2
echo "$dir"
