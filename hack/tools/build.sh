#!/usr/bin/env bash
# Builds the release tools the tests use: helm v3.22.0 and kustomize v5.8.2
# (the chart and kustomize tests), and Prometheus and promtool v3.16.0 (the
# alerts and dashboard tests, hack/monitoring), from source through the Go
# module proxy (release binaries cannot be downloaded from our machines).
# Each is built from its own module here (hack/tools/helm,
# hack/tools/kustomize, hack/tools/prometheus), so that its dependencies are
# exactly the ones its release pins. Prometheus's Go module numbers release
# 3.X.Y as v0.3XX.Y. It also copies the Prometheus Operator's CRDs for
# ServiceMonitor and PrometheusRule from that project's Go module into
# bin/prometheus-operator-crds, for the chart's tests. Binaries go to bin/; a
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

# prometheus and promtool, stamped with their version as Prometheus's own
# build does (promtool --version, prometheus --version).
prometheus_version=3.16.0
prometheus_module=v0.316.0
for cmd in prometheus promtool; do
	if [[ ! -x $dir/$cmd || "$("$dir/$cmd" --version 2>/dev/null | head -n 1)" != "$cmd, version $prometheus_version "* ]]; then
		ldflags="-s -w -X github.com/prometheus/common/version.Version=$prometheus_version -X github.com/prometheus/common/version.Branch=release"
		build prometheus "$cmd" "github.com/prometheus/prometheus/cmd/$cmd" "$ldflags" github.com/prometheus/prometheus "$prometheus_module"
	fi
done

# The Prometheus Operator's ServiceMonitor and PrometheusRule CRDs, as that
# project ships them in its Go module (example/prometheus-operator-crd).
operator_version=v0.85.0
crds=$dir/prometheus-operator-crds
if [[ "$(cat "$crds/.version" 2>/dev/null)" != "$operator_version" ]]; then
	src=$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$operator_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	rm -rf "$crds" && mkdir -p "$crds"
	for kind in servicemonitors prometheusrules; do
		cp "$src/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$crds/"
	done
	echo "$operator_version" >"$crds/.version"
fi

echo "$dir"
