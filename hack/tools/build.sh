#!/usr/bin/env bash
# Builds the release tools the chart and kustomize tests use: helm v3.22.0
# and kustomize v5.8.2, from source through the Go module proxy (release
# binaries cannot be downloaded from our machines). Each is built from its
# own module here (hack/tools/helm, hack/tools/kustomize), so that its
# dependencies are exactly the ones its release pins. Binaries go to bin/; a
# binary that already reports the wanted version is not built again. Prints
# the bin directory on stdout; progress goes to stderr.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
helm_version=v3.22.0
kustomize_version=v5.8.2
dir=$root/bin
mkdir -p "$dir"

# version_of module-dir module: the version that module-dir's go.mod requires.
version_of() {
	(cd "$root/hack/tools/$1" && go list -m -f '{{.Version}}' "$2")
}

build() { # module-dir output package ldflags module version
	local want
	want=$(version_of "$1" "$5")
	if [[ $want != "$6" ]]; then
		echo "hack/tools/$1/go.mod requires $5 $want, but build.sh builds $6: update both together" >&2
		exit 1
	fi
	echo "building $2 (first build takes a few minutes)…" >&2
	(cd "$root/hack/tools/$1" &&
		CGO_ENABLED=0 go build -trimpath -ldflags "$4" -o "$dir/$2.tmp" "$3")
	mv -f "$dir/$2.tmp" "$dir/$2"
}

# helm: the same version stamps as helm's own Makefile, including the
# Kubernetes version that `helm template` and `helm lint` assume by default
# (client-go v0.X.Y means Kubernetes 1.X).
if [[ ! -x $dir/helm || "$("$dir/helm" version --template '{{.Version}}' 2>/dev/null)" != "$helm_version" ]]; then
	client_go=$(version_of helm k8s.io/client-go)
	k8s_minor=$(cut -d. -f2 <<<"$client_go")
	ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
	for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
		ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
	done
	build helm helm helm.sh/helm/v3/cmd/helm "$ldflags" helm.sh/helm/v3 "$helm_version"
fi

# kustomize: `kustomize version` prints the provenance version.
if [[ ! -x $dir/kustomize || "$("$dir/kustomize" version 2>/dev/null)" != "$kustomize_version" ]]; then
	ldflags="-s -w -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/$kustomize_version -X sigs.k8s.io/kustomize/api/provenance.gitCommit=unknown"
	build kustomize kustomize sigs.k8s.io/kustomize/kustomize/v5 "$ldflags" sigs.k8s.io/kustomize/kustomize/v5 "$kustomize_version"
fi

echo "$dir"
