#!/usr/bin/env bash
# Provides Flux's source-controller and kustomize-controller (and, with
# FLUX_HELM_CONTROLLER=1, helm-controller) as plain binaries, with their CRDs,
# for running against the control plane of hack/control-plane/build.sh. Our
# machines reach only the Go module proxy, so they are built from their Go
# modules.
#
# Which release: source-controller and kustomize-controller v1.9.6, the Flux
# v2.9 line (kustomize-controller and helm-controller require
# source-controller/api v1.9.0), and helm-controller v1.6.4, the one Flux
# v2.9.5 ships. v1.10.x cannot be built here: source-controller v1.10 imports
# github.com/fluxcd/pkg/spiffe and kustomize-controller v1.10
# github.com/fluxcd/pkg/apis/crypto, and the proxy serves no version of
# either. These build with the machine's Go (go.mod says go 1.26.0), after
# pinning the two dependency versions of source-controller that the proxy
# refuses to the nearest it serves (see pins below); the others need no pin.
#
# Steps per controller: copy the module into bin/gitops/src/<name>@<version>
# (a module zip has no ./api, which its go.mod replaces with ./api, so the
# api module of the same version is copied there), go get the pins, go build.
# Binaries go to bin/gitops/flux-1.9.6/<name>, CRDs to
# bin/gitops/flux-1.9.6/crds/; a binary already there is not rebuilt. Prints
# that directory on stdout; progress and per-step timings go to stderr. A cold
# build (empty module and build caches) takes about 23 minutes on 2 cores
# (source-controller 18, kustomize-controller 4, helm-controller 2.5 more);
# with warm caches about 30 seconds.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/bin/gitops/flux-1.9.6
src=$root/bin/gitops/src

declare -A versions=(
	[source-controller]=v1.9.6
	[kustomize-controller]=v1.9.6
	[helm-controller]=v1.6.4
)
# Dependency versions in the controllers' go.mod that the proxy refuses,
# pinned to the nearest version it serves.
declare -A pins=(
	# artifact v0.18.3 and helmtestserver v0.40.2 (test only) are refused.
	[source-controller]="github.com/fluxcd/pkg/artifact@v0.18.1 github.com/fluxcd/pkg/helmtestserver@v0.40.1"
)
controllers=(source-controller kustomize-controller)
[[ -n ${FLUX_HELM_CONTROLLER:-} ]] && controllers+=(helm-controller)

# Built: its binary is there and .versions names its version and pins.
stamp() { echo "$1=${versions[$1]}${pins[$1]:+ pins: ${pins[$1]}}"; }
built() {
	[[ -x $dir/$1 && -f $dir/.versions ]] && grep -qxF "$(stamp "$1")" "$dir/.versions" &&
		compgen -G "$dir/crds/*.yaml" >/dev/null
}

missing=()
for name in "${controllers[@]}"; do built "$name" || missing+=("$name"); done
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "flux: ${controllers[*]} in ${dir#"$root"/} (cached)" >&2
	echo "$dir"
	exit 0
fi

started=$(date +%s)
step_started=$started
step() { # message: logs it with the time since the previous step
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
touch "$dir/.versions"

for name in "${missing[@]}"; do
	version=${versions[$name]}
	work=$src/$name@$version
	if [[ ! -f $work/.resolved || "$(cat "$work/.resolved")" != "$(stamp "$name")" ]]; then
		rm -rf "$work" "$work.tmp"
		echo "flux: fetching $name $version and its api module…" >&2
		mod=$(module_dir "github.com/fluxcd/$name@$version")
		api=$(module_dir "github.com/fluxcd/$name/api@$version")
		[[ -n $mod && -n $api ]] || { echo "flux: cannot download $name $version" >&2; exit 1; }
		cp -r "$mod" "$work.tmp"
		rm -rf "$work.tmp/api"
		cp -r "$api" "$work.tmp/api"
		chmod -R u+w "$work.tmp"
		step "fetched $name $version"
		if [[ -n ${pins[$name]:-} ]]; then
			echo "flux: pinning $name dependencies: ${pins[$name]}" >&2
			# shellcheck disable=SC2086 # a list of module@version
			(cd "$work.tmp" && go get ${pins[$name]})
			step "resolved $name dependencies"
		fi
		stamp "$name" >"$work.tmp/.resolved"
		mv "$work.tmp" "$work"
	fi
	echo "flux: building $name $version (first build takes minutes)…" >&2
	rm -f "$dir/$name"
	(cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/$name" .)
	cp "$work"/config/crd/bases/*.yaml "$dir/crds/"
	grep -v "^$name=" "$dir/.versions" >"$dir/.versions.tmp" || true
	stamp "$name" >>"$dir/.versions.tmp"
	mv "$dir/.versions.tmp" "$dir/.versions"
	step "built $name $version"
done

echo "flux: built ${missing[*]} in $(($(date +%s) - started))s" >&2
echo "$dir"
