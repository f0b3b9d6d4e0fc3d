#!/usr/bin/env bash
# Builds the control plane that envtest and the demo run: kube-apiserver and
# kubectl v1.37.2 and etcd v3.7.3, from source through the Go module proxy
# (the usual envtest download cannot be reached from our machines).
# Binaries go to bin/k8s/<version>-<os>-<arch>, the layout setup-envtest
# uses; a build whose versions are already there is skipped. Prints that
# directory on stdout; progress goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kube_version=1.37.2
etcd_version=3.7.3
dir=$root/bin/k8s/$kube_version-$(go env GOOS)-$(go env GOARCH)
want="kube-apiserver=$kube_version kubectl=$kube_version etcd=$etcd_version"

if [[ -f $dir/.versions && "$(cat "$dir/.versions")" == "$want" ]] &&
	[[ -x $dir/kube-apiserver && -x $dir/kubectl && -x $dir/etcd ]]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$dir"
rm -f "$dir/.versions"
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
echo "$dir"
