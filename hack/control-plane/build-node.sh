#!/usr/bin/env bash
# Builds what `make e2e` needs beyond the envtest control plane (build.sh):
# kubelet, kube-controller-manager, kube-scheduler and kube-proxy from the same
# Kubernetes source (module hack/control-plane/kube, same ldflags), and the
# node's runtime: containerd v2 and ctr (Kubernetes 1.36+ needs containerd
# 2.x), runc, crictl, and the CNI plugins bridge, host-local, loopback and portmap.
# All from the Go module proxy with CGO_ENABLED=0 (runc: cgo, gcc and
# libseccomp), into
# bin/k8s/<version>-<os>-<arch> (the CNI plugins into its cni/ folder).
# Skips what is already there. Prints that directory on stdout; progress and
# timings go to stderr.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kube_version=1.37.2
containerd_version=v2.4.2
runc_version=v1.5.3
cni_version=v1.10.0
crictl_version=v1.37.0
dir=$root/bin/k8s/$kube_version-$(go env GOOS)-$(go env GOARCH)
mkdir -p "$dir/cni"

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=v$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=37"
done

step() { # name command...: runs command unless $dir/name exists, timing it
	local out=$1 started
	shift
	if [[ -x $dir/$out ]]; then return; fi
	started=$(date +%s)
	echo "building $out…" >&2
	"$@"
	echo "built $out in $(($(date +%s) - started))s" >&2
}

kube() { # binary
	(cd "$root/hack/control-plane/kube" &&
		CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dir/$1" "k8s.io/kubernetes/cmd/$1")
}
step kubelet kube kubelet
step kube-controller-manager kube kube-controller-manager
step kube-scheduler kube kube-scheduler
step kube-proxy kube kube-proxy

# `go install module@version` builds each at the module's own go.mod, so no
# module of ours pins their dependencies; GOBIN puts them in place.
install() { # gobin package@version [tags]
	GOBIN=$1 CGO_ENABLED=${cgo:-0} go install -trimpath -ldflags "-s -w" ${3:+-tags "$3"} "$2"
}
# No cgo: leave out btrfs and devmapper snapshotters (overlayfs and native
# remain).
ctd_tags="no_btrfs no_devmapper no_zfs no_aufs"
step containerd install "$dir" "github.com/containerd/containerd/v2/cmd/containerd@$containerd_version" "$ctd_tags"
step containerd-shim-runc-v2 install "$dir" "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$containerd_version" "$ctd_tags"
step ctr install "$dir" "github.com/containerd/containerd/v2/cmd/ctr@$containerd_version" "$ctd_tags"
# runc's nsenter is C, so runc needs cgo (gcc), and seccomp (containerd
# gives every pod sandbox a seccomp profile) needs libseccomp: Debian's
# libseccomp-dev, installed here when missing (CI runs as root).
if [[ ! -x $dir/runc ]] && ! dpkg -s libseccomp-dev >/dev/null 2>&1; then
	echo "installing libseccomp-dev (runc's seccomp)…" >&2
	apt-get install -y libseccomp-dev >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y libseccomp-dev >/dev/null; }
fi
cgo=1 step runc install "$dir" "github.com/opencontainers/runc@$runc_version" seccomp
# crictl: to list and remove the node's pods and containers on cleanup.
step crictl install "$dir" "sigs.k8s.io/cri-tools/cmd/crictl@$crictl_version" ""
for p in main/bridge main/loopback ipam/host-local meta/portmap; do
	step "cni/${p#*/}" install "$dir/cni" "github.com/containernetworking/plugins/plugins/$p@$cni_version" ""
done
echo "$dir"
