package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/uuid"
	"sigs.k8s.io/yaml"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

func TestCheckVersion(t *testing.T) {
	for _, v := range []string{"v0.2.0", "v1.0.0", "v10.20.30", "v0.0.0-test", "v0.2.0-rc.1", "v1.0.0-alpha-2.x.7", "v1.0.0-0.3.7"} {
		if err := checkVersion(v); err != nil {
			t.Errorf("checkVersion(%q): %v", v, err)
		}
	}
	for _, v := range []string{"", "0.2.0", "v0.2", "v1", "v01.2.3", "v1.02.3", "v1.2.3+build", "v1.2.3-", "v1.2.3-01", "v1.2.3-a..b", "V1.2.3", "v1.2.3 ", "latest"} {
		if err := checkVersion(v); err == nil {
			t.Errorf("checkVersion(%q) accepted it", v)
		}
	}
	if err := checkVersion(""); err == nil || !strings.Contains(err.Error(), "make release VERSION=") {
		t.Errorf("no version: %v, want how to give one", err)
	}
}

func TestCheckRepository(t *testing.T) {
	for _, image := range []string{"lambda-permission-operator", "registry.example:5000/team/lambda-permission-operator", "example.com/a/b/c"} {
		if err := checkRepository(image); err != nil {
			t.Errorf("checkRepository(%q): %v", image, err)
		}
	}
	for _, image := range []string{"", "lambda-permission-operator:v1", "example.com/lpo@sha256:" + strings.Repeat("0", 64), "Upper/Case", "a b"} {
		if err := checkRepository(image); err == nil {
			t.Errorf("checkRepository(%q) accepted it", image)
		}
	}
}

func TestArtifactNames(t *testing.T) {
	for got, want := range map[string]string{
		imageArchive("v0.2.0-rc.1"):                         "lambda-permission-operator-image-v0.2.0-rc.1.oci.tar",
		chartArchive("v0.2.0-rc.1"):                         "lambda-permission-operator-0.2.0-rc.1.tgz",
		pluginBinary("v0.2.0", platform{"darwin", "arm64"}): "kubectl-lperm-v0.2.0-darwin-arm64",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

// TestSetImageValues sets the image in the chart's own values.yaml: the
// three values change, comments and every other value stay.
func TestSetImageValues(t *testing.T) {
	path := filepath.Join(repo.Root(), chartDir, "values.yaml")
	values, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	out, err := setImageValues(values, "registry.example:5000/team/lambda-permission-operator", "v0.2.0", digest)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Image struct{ Repository, Tag, Digest, PullPolicy string }
	}
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.Image.Repository != "registry.example:5000/team/lambda-permission-operator" || got.Image.Tag != "v0.2.0" ||
		got.Image.Digest != digest || got.Image.PullPolicy != "IfNotPresent" {
		t.Errorf("image values %+v", got.Image)
	}
	changed := 0
	before, after := strings.Split(string(values), "\n"), strings.Split(string(out), "\n")
	if len(before) != len(after) {
		t.Fatalf("%d lines, then %d", len(before), len(after))
	}
	for i := range before {
		if before[i] != after[i] {
			changed++
		}
	}
	if changed != 3 {
		t.Errorf("%d lines changed, want 3", changed)
	}

	for name, text := range map[string]string{
		"no image":         "region: \"\"\n",
		"no digest":        "image:\n  repository: x\n  tag: \"\"\n",
		"digest elsewhere": "image:\n  repository: x\n  tag: \"\"\nother:\n  digest: \"\"\n",
	} {
		if _, err := setImageValues([]byte(text), "r", "v1.0.0", digest); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestImageArchive writes an index as make release does and reads it back
// as release-check does: one index in index.json, tagged, with the digest it
// had; the same index gives the same bytes.
func TestImageArchive(t *testing.T) {
	var idx v1.ImageIndex = empty.Index
	for _, p := range imagePlatforms {
		img, err := random.Image(256, 2)
		if err != nil {
			t.Fatal(err)
		}
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: p.os, Architecture: p.arch},
		}})
	}
	want, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var archives [2]string
	for i := range archives {
		layoutDir := filepath.Join(dir, "layout"+string(rune('0'+i)))
		digest, err := writeNestedLayout(layoutDir, idx, "registry.example/lpo", "v0.2.0")
		if err != nil {
			t.Fatal(err)
		}
		if digest != want {
			t.Errorf("digest %s, want the index's %s", digest, want)
		}
		archives[i] = filepath.Join(dir, "image"+string(rune('0'+i))+".oci.tar")
		if err := tarDir(layoutDir, archives[i], time.Unix(1700000000, 0)); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(archives[0])
	b, _ := os.ReadFile(archives[1])
	if !bytes.Equal(a, b) {
		t.Error("one index written twice: the tarballs differ")
	}

	got, annotations := openArchive(t, archives[0])
	if d, _ := got.Digest(); d != want {
		t.Errorf("read back index %s, want %s", d, want)
	}
	if annotations[refNameAnnotation] != "v0.2.0" || annotations[imageNameAnnotation] != "registry.example/lpo:v0.2.0" {
		t.Errorf("annotations %v", annotations)
	}
	m, err := got.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 {
		t.Errorf("read back %d images, want 2", len(m.Manifests))
	}
}

func TestSBOMRelease(t *testing.T) {
	const old = "v0.0.0-20260101000000-0123456789ab"
	ref := func(v string) string { return "pkg:golang/" + modulePath + "@" + v + "?type=module" }
	bom := cdx.NewBOM()
	// As cyclonedx-gomod writes it: a random serial number, the time it ran.
	bom.SerialNumber = uuid.New().URN()
	bom.Metadata = &cdx.Metadata{Timestamp: time.Now().Format(time.RFC3339), Component: &cdx.Component{
		BOMRef: ref(old), Type: cdx.ComponentTypeApplication, Name: modulePath, Version: old,
		PackageURL: "pkg:golang/" + modulePath + "@" + old + "?goarch=amd64&goos=linux&type=module",
	}}
	dep := "pkg:golang/sigs.k8s.io/yaml@v1.6.0?type=module"
	bom.Components = &[]cdx.Component{{BOMRef: dep, Type: cdx.ComponentTypeLibrary, Name: "sigs.k8s.io/yaml", Version: "v1.6.0"}}
	bom.Dependencies = &[]cdx.Dependency{{Ref: ref(old), Dependencies: &[]string{dep}}, {Ref: dep}}
	var raw bytes.Buffer
	if err := cdx.NewBOMEncoder(&raw, cdx.BOMFileFormatJSON).Encode(bom); err != nil {
		t.Fatal(err)
	}

	const commit = "0123456789abcdef0123456789abcdef01234567"
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	out, err := setSBOMRelease(raw.Bytes(), "v0.2.0", commit, created)
	if err != nil {
		t.Fatal(err)
	}
	var got cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(out), cdx.BOMFileFormatJSON).Decode(&got); err != nil {
		t.Fatal(err)
	}
	app := got.Metadata.Component
	if app.Version != "v0.2.0" || app.BOMRef != ref("v0.2.0") ||
		app.PackageURL != "pkg:golang/"+modulePath+"@v0.2.0?goarch=amd64&goos=linux&type=module" {
		t.Errorf("main component %+v", app)
	}
	if d := (*got.Dependencies)[0]; d.Ref != ref("v0.2.0") || (*d.Dependencies)[0] != dep {
		t.Errorf("dependencies %+v", *got.Dependencies)
	}
	if bytes.Contains(out, []byte(old)) {
		t.Errorf("the old version is left:\n%s", out)
	}
	// The release's serial number is a function of version and commit, and
	// its time the release's time stamp.
	if got.SerialNumber == bom.SerialNumber || got.SerialNumber != sbomSerial("v0.2.0", commit) {
		t.Errorf("serialNumber %s (was %s), want %s", got.SerialNumber, bom.SerialNumber, sbomSerial("v0.2.0", commit))
	}
	if u, err := uuid.Parse(got.SerialNumber); err != nil || u.Version() != 5 || !strings.HasPrefix(got.SerialNumber, "urn:uuid:") {
		t.Errorf("serialNumber %s: not a version 5 urn:uuid (%v)", got.SerialNumber, err)
	}
	if got.Metadata.Timestamp != "2026-11-30T12:00:00Z" {
		t.Errorf("metadata.timestamp %q, want 2026-11-30T12:00:00Z", got.Metadata.Timestamp)
	}
	for _, other := range []struct{ version, commit string }{{"v0.2.1", commit}, {"v0.2.0", strings.Repeat("f", 40)}} {
		if sbomSerial(other.version, other.commit) == got.SerialNumber {
			t.Errorf("version %s, commit %s: the same serial number", other.version, other.commit)
		}
	}

	same, err := setSBOMRelease(out, "v0.2.0", commit, created)
	if err != nil || !bytes.Equal(bytes.TrimSpace(same), bytes.TrimSpace(out)) {
		t.Errorf("at its version already: %v, changed", err)
	}
	again, err := setSBOMRelease(raw.Bytes(), "v0.2.0", commit, created)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("a second build of the same release: %v, different bytes", err)
	}
	if _, err := setSBOMRelease(raw.Bytes(), "v0.2.0", "", created); err == nil {
		t.Error("no commit: accepted")
	}
	other := strings.ReplaceAll(raw.String(), modulePath, "example.com/other")
	if _, err := setSBOMRelease([]byte(other), "v0.2.0", commit, created); err == nil {
		t.Error("an SBOM of another module: accepted")
	}
}

// helmArchive writes a chart archive as helm 3 packages one: gzip with
// helm's comment and an Extra field, ustar entries stamped with now.
func helmArchive(t *testing.T, path string, now time.Time, files [][2]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Header.Extra, zw.Header.Comment = []byte("+helm-extra"), "Helm"
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), ModTime: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStampChartArchive(t *testing.T) {
	files := [][2]string{
		{"chart/Chart.yaml", "name: chart\nversion: 0.2.0\n"},
		{"chart/values.yaml", "image:\n  tag: v0.2.0\n"},
		{"chart/templates/deployment.yaml", "kind: Deployment\n"},
	}
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.tgz"), filepath.Join(dir, "second.tgz")
	helmArchive(t, first, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), files)
	helmArchive(t, second, time.Date(2026, 12, 2, 17, 30, 5, 0, time.UTC), files)
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if bytes.Equal(a, b) {
		t.Fatal("two packagings at different times: already the same bytes; the test shows nothing")
	}

	for _, path := range []string{first, second} {
		if err := stampChartArchive(path, created); err != nil {
			t.Fatal(err)
		}
	}
	a, _ = os.ReadFile(first)
	b, _ = os.ReadFile(second)
	if !bytes.Equal(a, b) {
		t.Error("two packagings at different times: different bytes after stamping")
	}

	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Comment != "Helm" || string(zr.Extra) != "+helm-extra" {
		t.Errorf("gzip header: comment %q, extra %q; want helm's", zr.Comment, zr.Extra)
	}
	tr := tar.NewReader(zr)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if i != len(files) {
				t.Errorf("%d entries, want %d", i, len(files))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(files) || h.Name != files[i][0] || string(data) != files[i][1] || h.Mode != 0o644 {
			t.Errorf("entry %d: %s mode %o %q, want %v mode 644", i, h.Name, h.Mode, data, files[min(i, len(files)-1)])
		}
		if !h.ModTime.Equal(created) {
			t.Errorf("entry %s at %s, want %s", h.Name, h.ModTime, created)
		}
	}

	if err := os.WriteFile(first, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := stampChartArchive(first, created); err == nil {
		t.Error("not a gzip tarball: accepted")
	}
}

func TestSums(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"install.yaml": "kind: List\n", "kubectl-lperm-v0.2.0-linux-amd64": "\x7fELF"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeSums(dir); err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(filepath.Join(dir, sumsFile))
	// sha256sum's format, in name order.
	lines := strings.Split(strings.TrimSpace(string(text)), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "  install.yaml") || !strings.HasSuffix(lines[1], "  kubectl-lperm-v0.2.0-linux-amd64") {
		t.Errorf("SHA256SUMS:\n%s", text)
	}
	if err := verifySums(dir); err != nil {
		t.Error(err)
	}

	if err := os.WriteFile(filepath.Join(dir, "install.yaml"), []byte("kind: Changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := verifySums(dir); err == nil || !strings.Contains(err.Error(), "install.yaml") {
		t.Errorf("a changed file: %v", err)
	}
	if err := writeSums(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "extra"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := verifySums(dir); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("a file not listed: %v", err)
	}
}

func TestEmptyDist(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, dist := range []string{".", "..", "/", "./"} {
		if err := emptyDist(dist); err == nil {
			t.Errorf("emptyDist(%q) accepted it", dist)
		}
	}
	if err := os.MkdirAll("dist/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := emptyDist("dist"); err == nil {
		t.Error("a dist holding a directory: emptied")
	}
	if err := os.Remove("dist/sub"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("dist/old.tgz", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := emptyDist("dist"); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir("dist"); err != nil || len(entries) > 0 {
		t.Errorf("dist after emptyDist: %v, %v", entries, err)
	}
	if err := emptyDist("new/dist"); err != nil {
		t.Errorf("a dist not there yet: %v", err)
	}
}
