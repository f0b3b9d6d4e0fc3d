#!/usr/bin/env bash
# mkimage.sh OUT.tar NAME:TAG BINARY [ARG...]: packages one static binary as
# an OCI image archive (image layout in a tar, what `ctr images import`
# reads) whose entrypoint is /BINARY's name with ARGs. No registry, no
# daemon, no Go dependency: a layer tar, a config, a manifest and an index,
# each named by its sha256.
set -euo pipefail
out=$1 ref=$2 bin=$3
shift 3
name=$(basename "$bin")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
install -m 0755 "$bin" "$work/rootfs/$name"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" "$name"
blob() { # file media-type: stores file as a blob, prints its descriptor
	local d s
	d=$(sha256sum "$1" | cut -d' ' -f1)
	s=$(stat -c %s "$1")
	cp "$1" "$work/oci/blobs/sha256/$d"
	printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$2" "$d" "$s"
}
diffid=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
layer=$(blob "$work/layer.tar" application/vnd.oci.image.layer.v1.tar)
entry=$(printf '"/%s"' "$name")
for a in "$@"; do entry+=$(printf ',"%s"' "$a"); done
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":[%s],"Env":["PATH=/"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
	"$entry" "$diffid" >"$work/config.json"
config=$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
	"$config" "$layer" >"$work/manifest.json"
manifest=$(blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)
printf '{"schemaVersion":2,"manifests":[%s]}' \
	"${manifest%\}},\"annotations\":{\"io.containerd.image.name\":\"$ref\",\"org.opencontainers.image.ref.name\":\"${ref##*:}\"}}" >"$work/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
tar --owner=0 --group=0 --numeric-owner -C "$work/oci" -cf "$out" oci-layout index.json blobs
