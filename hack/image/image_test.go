//go:build integration

package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const hostCABundle = "/etc/ssl/certs/ca-certificates.crt"

// buildManager builds the operator as `make image` does, so that a warm
// build cache from it makes this a link (a cold one compiles every
// dependency without cgo: minutes).
func buildManager(t *testing.T, out string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, output)
	}
	t.Logf("manager built in %s", time.Since(started).Round(100*time.Millisecond))
}

// file is one entry of the image's flattened file system.
type file struct {
	hdr  *tar.Header
	data []byte
}

func flatten(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(path.Clean(h.Name), "/")] = file{h, data}
	}
	return files
}

func TestImage(t *testing.T) {
	if _, err := os.Stat(hostCABundle); err != nil {
		t.Skipf("no CA bundle on this machine (Debian: apt-get install ca-certificates): %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "manager")
	buildManager(t, bin)

	const created = 1700000000
	args := func(out ...string) []string {
		return append([]string{"-binary", bin, "-tag", "registry.example/lpo:test",
			"-version", "v1.2.3", "-revision", "0123abcd", "-created", "1700000000"}, out...)
	}
	first, second := filepath.Join(dir, "first.tar"), filepath.Join(dir, "second.tar")
	ociDir := filepath.Join(dir, "oci")
	var report bytes.Buffer
	started := time.Now()
	if err := run(args("-out", first, "-oci", ociDir), &report); err != nil {
		t.Fatal(err)
	}
	t.Logf("image built in %s: %s", time.Since(started).Round(100*time.Millisecond), report.String())
	if err := run(args("-out", second), io.Discard); err != nil {
		t.Fatal(err)
	}

	img, err := tarball.ImageFromPath(first, nil)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report.String(), "image ID "+id.String()) || !strings.Contains(report.String(), "manifest "+digest.String()) {
		t.Errorf("the report %q does not give the tarball's image ID %s and manifest %s", report.String(), id, digest)
	}

	t.Run("reproducible", func(t *testing.T) {
		again, err := tarball.ImageFromPath(second, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := again.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if d != digest {
			t.Errorf("two builds of one binary: digests %s and %s", digest, d)
		}
		a, _ := os.ReadFile(first)
		b, _ := os.ReadFile(second)
		if !bytes.Equal(a, b) {
			t.Error("two builds of one binary: the tarballs differ")
		}
	})

	t.Run("tarball tag", func(t *testing.T) {
		m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(first) })
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 1 || !slices.Equal(m[0].RepoTags, []string{"registry.example/lpo:test"}) {
			t.Errorf("manifest.json: %+v, want one image tagged registry.example/lpo:test", m)
		}
	})

	t.Run("config", func(t *testing.T) {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		c := cf.Config
		if c.User != "65532:65532" {
			t.Errorf("User %q, want 65532:65532", c.User)
		}
		if !slices.Equal(c.Entrypoint, []string{"/manager"}) || len(c.Cmd) != 0 {
			t.Errorf("Entrypoint %q Cmd %q, want [/manager] and none", c.Entrypoint, c.Cmd)
		}
		if c.WorkingDir != "/" {
			t.Errorf("WorkingDir %q", c.WorkingDir)
		}
		if !slices.Contains(c.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
			t.Errorf("Env %q lacks SSL_CERT_FILE", c.Env)
		}
		if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
			t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
		}
		if !cf.Created.Equal(time.Unix(created, 0)) {
			t.Errorf("Created %s, want -created", cf.Created)
		}
		for k, want := range map[string]string{
			"org.opencontainers.image.source":   sourceURL,
			"org.opencontainers.image.version":  "v1.2.3",
			"org.opencontainers.image.revision": "0123abcd",
		} {
			if got := c.Labels[k]; got != want {
				t.Errorf("label %s = %q, want %q", k, got, want)
			}
		}
	})

	files := flatten(t, img)

	t.Run("file system", func(t *testing.T) {
		// Exactly these: anything else (a shell, a package manager) is
		// a mistake.
		want := []string{"etc", "etc/group", "etc/passwd", "etc/ssl", "etc/ssl/certs",
			"etc/ssl/certs/ca-certificates.crt", "home", "home/nonroot", "manager", "tmp"}
		var got []string
		for name, f := range files {
			got = append(got, name)
			if !f.hdr.ModTime.Equal(time.Unix(created, 0)) {
				t.Errorf("%s: mtime %s, want -created", name, f.hdr.ModTime)
			}
			switch path.Base(name) {
			case "sh", "bash", "dash", "ash", "zsh", "ksh", "busybox":
				t.Errorf("the image has a shell: %s", name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("files %q, want %q", got, want)
		}
		if h := files["tmp"].hdr; h == nil || h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
			t.Errorf("/tmp: %+v, want a directory 1777", h)
		}
		if h := files["home/nonroot"].hdr; h == nil || h.Uid != 65532 || h.Gid != 65532 || h.Mode != 0o700 {
			t.Errorf("/home/nonroot: %+v, want 0700 owned by 65532", h)
		}
		if !strings.Contains(string(files["etc/passwd"].data), "\nnonroot:x:65532:65532:nonroot:/home/nonroot:") {
			t.Errorf("/etc/passwd has no nonroot 65532:\n%s", files["etc/passwd"].data)
		}
		if !strings.Contains(string(files["etc/group"].data), "\nnonroot:x:65532:\n") {
			t.Errorf("/etc/group has no nonroot 65532:\n%s", files["etc/group"].data)
		}
		ca := files["etc/ssl/certs/ca-certificates.crt"].data
		host, _ := os.ReadFile(hostCABundle)
		if len(ca) == 0 || !bytes.Equal(ca, host) {
			t.Errorf("CA bundle: %d bytes, want the host's %d", len(ca), len(host))
		}
		if !x509.NewCertPool().AppendCertsFromPEM(ca) {
			t.Error("CA bundle holds no certificate")
		}
	})

	t.Run("manager", func(t *testing.T) {
		f := files["manager"]
		if f.hdr == nil || f.hdr.Typeflag != tar.TypeReg || f.hdr.Mode != 0o755 || f.hdr.Uid != 0 {
			t.Fatalf("/manager: %+v, want a root-owned 0755 file", f.hdr)
		}
		extracted := filepath.Join(t.TempDir(), "manager")
		if err := os.WriteFile(extracted, f.data, os.FileMode(f.hdr.Mode)); err != nil {
			t.Fatal(err)
		}
		e, err := elf.Open(extracted)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		for _, p := range e.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("/manager is dynamically linked (%s): the image has no libc", p.Type)
			}
		}
		if e.Section(".symtab") != nil || e.Section(".debug_info") != nil {
			t.Error("/manager keeps its symbol table or DWARF: want -ldflags=-s -w")
		}
		root, _ := filepath.Abs(filepath.Join("..", ".."))
		if bytes.Contains(f.data, []byte(root+"/")) {
			t.Errorf("/manager holds the build directory %s: want -trimpath", root)
		}
		if runtime.GOOS != "linux" {
			t.Skip("runs only on linux")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, extracted, "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("/manager --help: %v\n%s", err, out)
		}
		for _, flag := range []string{"-sync-period", "-leader-elect", "-metrics-bind-address"} {
			if !strings.Contains(string(out), flag) {
				t.Errorf("/manager --help does not list %s:\n%s", flag, out)
			}
		}
	})

	t.Run("OCI layout", func(t *testing.T) {
		idx, err := layout.ImageIndexFromPath(ociDir)
		if err != nil {
			t.Fatal(err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Manifests) != 1 {
			t.Fatalf("index of %d images, want 1", len(m.Manifests))
		}
		d := m.Manifests[0]
		if d.Platform == nil || d.Platform.OS != "linux" || d.Platform.Architecture != runtime.GOARCH {
			t.Errorf("platform %+v, want linux/%s", d.Platform, runtime.GOARCH)
		}
		// The same image as the tarball's, in OCI media types: the same
		// config (image ID) and layers under an OCI manifest.
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("layout image of media type %s, want %s", d.MediaType, types.OCIManifestSchema1)
		}
		ociImg, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(ociImg); err != nil {
			t.Errorf("layout image: %v", err)
		}
		manifest, err := ociImg.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if manifest.Config.MediaType != types.OCIConfigJSON || manifest.Config.Digest != id {
			t.Errorf("layout image config %s of media type %s, want image ID %s, %s", manifest.Config.Digest, manifest.Config.MediaType, id, types.OCIConfigJSON)
		}
		tarLayers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if len(manifest.Layers) != len(tarLayers) {
			t.Fatalf("layout image of %d layers, tarball image of %d", len(manifest.Layers), len(tarLayers))
		}
		for i, l := range manifest.Layers {
			want, err := tarLayers[i].Digest()
			if err != nil {
				t.Fatal(err)
			}
			if l.MediaType != types.OCILayer || l.Digest != want {
				t.Errorf("layout layer %d: %s of media type %s, want %s, %s", i, l.Digest, l.MediaType, want, types.OCILayer)
			}
		}
	})
}
