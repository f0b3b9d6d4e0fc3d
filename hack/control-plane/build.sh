#!/usr/bin/env bash
# Provides the control plane that envtest and the demo run: kube-apiserver,
# kubectl and etcd. Where setup-envtest's published binaries can be
# downloaded (Kubernetes 1.37), they are used: a minute instead of several.
# Where they cannot (our machines reach only the Go module proxy), it builds
# kube-apiserver and kubectl v1.37.2 and etcd v3.7.3 from source through the
# proxy. CONTROL_PLANE_FROM_SOURCE=1 skips the download.
# Binaries go to bin/k8s/<version>-<os>-<arch>, the layout setup-envtest
# uses; when they are already there nothing is fetched. Prints that
# directory on stdout; which path it took, and how long, go to stderr.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kube_version=1.37.2
etcd_version=3.7.3
dir=$root/bin/k8s/$kube_version-$(go env GOOS)-$(go env GOARCH)
want="kube-apiserver=$kube_version kubectl=$kube_version etcd=$etcd_version"

setup_envtest=sigs.k8s.io/controller-runtime/tools/setup-envtest@v0.25.1

if [[ -f $dir/.versions && -x $dir/kube-apiserver && -x $dir/kubectl && -x $dir/etcd ]] &&
	{ [[ "$(cat "$dir/.versions")" == "$want" ]] || [[ "$(cat "$dir/.versions")" == downloaded:* ]]; }; then
	echo "control plane: $(cat "$dir/.versions") in ${dir#"$root"/} (cached)" >&2
	echo "$dir"
	exit 0
fi

mkdir -p "$dir"
rm -f "$dir/.versions"
started=$(date +%s)

# setup-envtest's published binaries, where they can be downloaded.
if [[ -z ${CONTROL_PLANE_FROM_SOURCE:-} ]]; then
	download=$root/bin/envtest-download
	log=$(mktemp)
	if path=$(timeout 600 go run "$setup_envtest" use "$kube_version" --bin-dir "$download" -p path 2>"$log") &&
		[[ -x $path/kube-apiserver && -x $path/etcd && -x $path/kubectl ]]; then
		cp "$path/kube-apiserver" "$path/etcd" "$path/kubectl" "$dir/"
		echo "downloaded:$(basename "$path")" >"$dir/.versions"
		echo "control plane: downloaded setup-envtest's published binaries ($(basename "$path")) in $(($(date +%s) - started))s" >&2
		rm -f "$log"
		echo "$dir"
		exit 0
	fi
	echo "control plane: setup-envtest's binaries cannot be downloaded here ($(grep -v "^exit status" "$log" | tail -n 1 | cut -c1-160)); building from source" >&2
	rm -f "$log"
fi
# Without these the binaries report v0.0.0 and clients may refuse them.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=v$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=37"
done

build() { # module-dir output package
	echo "building $2 (first build takes minutes)…" >&2
	(cd "$root/hack/control-plane/$1" &&
		CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dir/$2" "$3")
}
build kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube kubectl k8s.io/kubernetes/cmd/kubectl
build etcd etcd go.etcd.io/etcd/server/v3

echo "$want" >"$dir/.versions"
echo "control plane: built $want from source in $(($(date +%s) - started))s" >&2
echo "$dir"
