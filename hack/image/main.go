// Command image builds the operator's container image without a Docker
// engine or a base image from a registry: the manager binary on a minimal
// root file system made here (what distroless static:nonroot provides and the
// manager uses: /etc/passwd and /etc/group with nonroot 65532, the CA bundle,
// /tmp, /home/nonroot), no shell, uid/gid 65532, entrypoint /manager.
//
//	go run ./hack/image -binary bin/manager-linux-amd64 -out bin/image/lambda-permission-operator.tar
//
// -out writes a docker-save tarball (manifest.json, config, gzip layers) that
// docker load, ctr images import and crane push accept; -oci writes an OCI
// image layout directory whose index holds one image per -binary (one per
// architecture, with OCI media types), for crane push --index. The output is reproducible: every
// time stamp is -created (default SOURCE_DATE_EPOCH, else 1970), so the same
// binary and flags give the same digest.
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// nonroot is distroless's non-root user and group, which the chart's
	// securityContext runs as.
	nonroot      = 65532
	entrypoint   = "/manager"
	caBundlePath = "etc/ssl/certs/ca-certificates.crt"
	sourceURL    = "https://github.com/lambda-permission-operator/lambda-permission-operator"
)

// The same users and groups as distroless static (without its unused ones):
// a uid with a name keeps tools that look it up (and Go's os/user) working.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group = "root:x:0:\n" +
		"nobody:x:65534:\n" +
		"nonroot:x:65532:\n"
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

type options struct {
	binaries []string
	caCerts  string
	tag      string
	version  string
	revision string
	source   string
	created  time.Time
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var o options
	var binaries stringList
	var out, ociDir, created string
	fs.Var(&binaries, "binary", "static linux manager binary; repeat for more architectures (read from the ELF header)")
	fs.StringVar(&out, "out", "", "docker-save tarball to write (the image of the first -binary)")
	fs.StringVar(&ociDir, "oci", "", "OCI image layout directory to write, its index holding the image of every -binary (replaced)")
	fs.StringVar(&o.caCerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to put at /"+caBundlePath)
	fs.StringVar(&o.tag, "tag", "lambda-permission-operator:dev", "image name the tarball is tagged with")
	fs.StringVar(&o.version, "version", "dev", "org.opencontainers.image.version label")
	fs.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision label (the commit)")
	fs.StringVar(&o.source, "source", sourceURL, "org.opencontainers.image.source label")
	fs.StringVar(&created, "created", os.Getenv("SOURCE_DATE_EPOCH"), "Unix seconds of every time stamp (default SOURCE_DATE_EPOCH, else 0)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if len(binaries) == 0 || (out == "" && ociDir == "") {
		return errors.New("-binary and at least one of -out and -oci are required")
	}
	o.binaries = binaries
	if created != "" {
		sec, err := strconv.ParseInt(created, 10, 64)
		if err != nil {
			return fmt.Errorf("-created (or SOURCE_DATE_EPOCH) %q: not Unix seconds", created)
		}
		o.created = time.Unix(sec, 0).UTC()
	} else {
		o.created = time.Unix(0, 0).UTC()
	}
	ref, err := name.NewTag(o.tag)
	if err != nil {
		return fmt.Errorf("-tag: %w", err)
	}

	var images []v1.Image
	var platforms []v1.Platform
	for _, bin := range o.binaries {
		img, platform, err := build(o, bin)
		if err != nil {
			return err
		}
		images = append(images, img)
		platforms = append(platforms, platform)
	}

	if out != "" {
		if err := writeTarball(out, ref, images[0]); err != nil {
			return err
		}
		if err := report(stdout, out, images[0], platforms[0]); err != nil {
			return err
		}
	}
	if ociDir != "" {
		idx := v1.ImageIndex(empty.Index)
		for i, img := range images {
			img, err := asOCI(img)
			if err != nil {
				return err
			}
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
				Add:        img,
				Descriptor: v1.Descriptor{Platform: &platforms[i]},
			})
		}
		if err := writeLayout(ociDir, idx); err != nil {
			return err
		}
		d, err := idx.Digest()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: an OCI layout, index %s of %d image(s)\n", ociDir, d, len(images))
	}
	return nil
}

// build makes the image of one manager binary: a base layer (the root file
// system) and the manager's own layer, so that a new manager reuses the base.
func build(o options, binary string) (v1.Image, v1.Platform, error) {
	arch, err := staticLinuxArch(binary)
	if err != nil {
		return nil, v1.Platform{}, err
	}
	platform := v1.Platform{OS: "linux", Architecture: arch}
	manager, err := os.ReadFile(binary)
	if err != nil {
		return nil, platform, err
	}
	ca, err := os.ReadFile(o.caCerts)
	if err != nil {
		return nil, platform, fmt.Errorf("CA bundle: %w (Debian: apt-get install ca-certificates)", err)
	}
	if len(bytes.TrimSpace(ca)) == 0 {
		return nil, platform, fmt.Errorf("CA bundle %s is empty", o.caCerts)
	}

	base, err := layer(o.created, []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: caBundlePath, mode: 0o644, data: ca},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, owner: nonroot},
		// Sticky and world-writable, as in distroless. The manager
		// writes no files; under the chart's read-only root file
		// system a writer would need an emptyDir mounted here.
		{name: "tmp/", mode: 0o1777},
	})
	if err != nil {
		return nil, platform, err
	}
	app, err := layer(o.created, []entry{{name: strings.TrimPrefix(entrypoint, "/"), mode: 0o755, data: manager}})
	if err != nil {
		return nil, platform, err
	}

	created := v1.Time{Time: o.created}
	img, err := mutate.Append(empty.Image,
		mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "hack/image: passwd, group, CA certificates, /tmp, /home/nonroot", Comment: "root file system"}},
		mutate.Addendum{Layer: app, History: v1.History{Created: created, CreatedBy: "hack/image: COPY manager " + entrypoint}},
	)
	if err != nil {
		return nil, platform, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, platform, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = platform.OS, platform.Architecture
	cf.Created = created
	cf.Author = ""
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
		Entrypoint: []string{entrypoint},
		WorkingDir: "/",
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"SSL_CERT_FILE=/" + caBundlePath,
		},
		Labels: map[string]string{
			"org.opencontainers.image.title":    "lambda-permission-operator",
			"org.opencontainers.image.source":   o.source,
			"org.opencontainers.image.version":  o.version,
			"org.opencontainers.image.revision": o.revision,
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	return img, platform, err
}

// asOCI returns img with OCI media types (manifest, config, layers) for the
// OCI layout's index, whose entries are to be OCI image manifests: the same
// config (the same image ID) and the same layer blobs. build makes Docker's
// types, which a docker-save tarball's readers (crane push, docker load)
// assume.
func asOCI(img v1.Image) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	oci := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		adds[i] = mutate.Addendum{Layer: l, MediaType: types.OCILayer}
	}
	if oci, err = mutate.Append(oci, adds...); err != nil {
		return nil, err
	}
	// The config as built, history included (Append added empty entries).
	return mutate.ConfigFile(oci, cf)
}

type entry struct {
	name  string // ends with / for a directory
	mode  int64
	owner int
	data  []byte
}

// layer makes a gzip layer of entries in the given order, every time stamp
// at created, owners numeric only: the bytes depend on nothing else.
func layer(created time.Time, entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.owner,
			Gid:     e.owner,
			ModTime: created,
			Format:  tar.FormatPAX,
		}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithCompressedCaching)
}

// staticLinuxArch returns the GOARCH of a linux ELF binary, refusing one that
// needs a dynamic loader: the image has no libc.
func staticLinuxArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return "", fmt.Errorf("%s is dynamically linked: build it with CGO_ENABLED=0", path)
		}
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_PPC64:
		return "ppc64le", nil
	case elf.EM_S390:
		return "s390x", nil
	}
	return "", fmt.Errorf("%s: unsupported machine %s", path, f.Machine)
}

// writeTarball writes through a temporary file, so that a failed build
// leaves no partial tarball to load.
func writeTarball(path string, ref name.Tag, img v1.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// writeLayout replaces dir with a fresh layout (stale blobs would stay in an
// appended one), refusing to remove a directory that is not a layout.
func writeLayout(dir string, idx v1.ImageIndex) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("-oci %s: exists and is not an OCI layout; not replacing it", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	_, err := layout.Write(dir, idx)
	return err
}

func report(w io.Writer, path string, img v1.Image, p v1.Platform) error {
	d, err := img.Digest()
	if err != nil {
		return err
	}
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	// A docker-save tarball carries no manifest: crane push pushes this
	// one, ctr import writes its own. The image ID (the config's digest)
	// is the same everywhere.
	fmt.Fprintf(w, "wrote %s (%.1f MB): %s/%s, image ID %s, manifest %s\n",
		path, float64(st.Size())/1e6, p.OS, p.Architecture, id, d)
	return nil
}
