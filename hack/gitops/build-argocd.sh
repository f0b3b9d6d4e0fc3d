#!/usr/bin/env bash
# Builds Argo CD's one binary, argocd, from its Go module v3.6.2 through the
# Go module proxy (the only registry our machines reach), with symlinks
# argocd-application-controller and argocd-repo-server beside it (the binary
# picks its component from argv[0], or from ARGOCD_BINARY_NAME), and Argo
# CD's CRDs in crds/. The UI is not built: the module ships an empty
# ui/dist/app placeholder, which is all the embed needs.
#
# Recipe: the module is copied from the module cache to bin/gitops/src and
# built there as the main module, so that its replace directives apply. Its
# go.mod replaces github.com/argoproj/argo-cd/gitops-engine/v3 with
# ./gitops-engine, a nested module that the module's zip leaves out; that
# one replace is dropped, so the required gitops-engine/v3 v3.6.2 comes from
# the proxy. argo-cd's go.mod says go 1.27.0, so the build runs with
# GOTOOLCHAIN=go1.27.3, which the go command fetches through the proxy.
#
# Output: bin/gitops/argocd-v3.6.2/{argocd,argocd-application-controller,
# argocd-repo-server,git-verify-wrapper.sh,gpg-wrapper.sh,crds/*.yaml}; the
# repo-server needs that directory on PATH (and git installed). When it is
# already there nothing is fetched. Prints that directory on stdout;
# progress and timings go to stderr. A cold build took 16 minutes on 2 shared
# cores (16 CPU-minutes); the binary is ~155 MB.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
version=3.6.2
module=github.com/argoproj/argo-cd/v3
dir=$root/bin/gitops/argocd-v$version
src=$root/bin/gitops/src/argo-cd@v$version
want="argocd=$version"
export GOTOOLCHAIN=go1.27.3 CGO_ENABLED=0

if [[ -f $dir/.versions && "$(cat "$dir/.versions")" == "$want" && -x $dir/argocd && -x $dir/git-verify-wrapper.sh &&
	-L $dir/argocd-application-controller && -L $dir/argocd-repo-server &&
	-f $dir/crds/application-crd.yaml ]]; then
	echo "argocd: $want in ${dir#"$root"/} (cached)" >&2
	echo "$dir"
	exit 0
fi

started=$(date +%s)
mkdir -p "$dir"
rm -f "$dir/.versions"

# The module's source, writable, with the local gitops-engine replace dropped.
if [[ ! -f $src/.prepared ]]; then
	echo "argocd: downloading $module@v$version…" >&2
	moddir=$(cd / && go mod download -json "$module@v$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	[[ -n $moddir && -f $moddir/go.mod ]] || { echo "argocd: go mod download gave no module directory" >&2; exit 1; }
	rm -rf "$src"
	mkdir -p "$(dirname "$src")"
	cp -r "$moddir" "$src"
	chmod -R u+w "$src"
	if [[ ! -d $src/gitops-engine ]]; then
		# go.sum holds only the go.mod hash of the proxy's gitops-engine; this
		# adds the zip's, checked against the checksum database.
		(cd "$src" && go mod edit -dropreplace github.com/argoproj/argo-cd/gitops-engine/v3 &&
			go mod download github.com/argoproj/argo-cd/gitops-engine/v3)
	fi
	# ui/embed.go embeds dist/app and dist/app/assets/images/resources.
	mkdir -p "$src/ui/dist/app/assets/images/resources"
	[[ -n "$(ls -A "$src/ui/dist/app/assets/images/resources")" ]] ||
		touch "$src/ui/dist/app/assets/images/resources/.gitkeep"
	[[ -e $src/ui/dist/app/gitkeep ]] || touch "$src/ui/dist/app/gitkeep"
	touch "$src/.prepared"
fi

cd "$src"
echo "argocd: downloading its dependencies…" >&2
go mod download
kubectl_version=$(go list -m k8s.io/client-go | awk '{print $NF}')
build_date=$(cd / && go list -m -json "$module@v$version" | sed -n 's/^[[:space:]]*"Time": "\(.*\)",\{0,1\}$/\1/p')
pkg=$module/common
ldflags="-s -w -X $pkg.version=$version -X $pkg.gitTag=v$version -X $pkg.gitCommit=module-v$version"
ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.kubectlVersion=$kubectl_version -X $pkg.buildDate=${build_date:-unknown}"

echo "argocd: building ./cmd with $(go version | awk '{print $3}') (a cold build takes ~16 minutes)…" >&2
build_started=$(date +%s)
go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$dir/argocd" ./cmd
echo "argocd: go build took $(($(date +%s) - build_started))s" >&2

ln -sfn argocd "$dir/argocd-application-controller"
ln -sfn argocd "$dir/argocd-repo-server"
# The repo-server runs git-verify-wrapper.sh (and, with GPG on,
# gpg-wrapper.sh) from PATH for every manifest it generates; Argo CD's image
# puts them in /usr/local/bin. Run it with this directory on PATH.
install -m 0755 "$src/hack/git-verify-wrapper.sh" "$src/hack/gpg-wrapper.sh" "$dir/"
rm -rf "$dir/crds"
mkdir -p "$dir/crds"
cp "$src"/manifests/crds/*-crd.yaml "$dir/crds/"

"$dir/argocd-application-controller" --help >/dev/null
"$dir/argocd-repo-server" --help >/dev/null

echo "$want" >"$dir/.versions"
echo "argocd: built $want ($(du -h "$dir/argocd" | cut -f1)) in $(($(date +%s) - started))s" >&2
echo "$dir"
