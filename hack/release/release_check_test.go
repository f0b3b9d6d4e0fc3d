//go:build integration

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// releaseUnderTest is what make release-check names: the directory make
// release wrote, its version and image repository; then the commit and the
// time stamp its images carry, which the chart and the SBOM must carry too.
type releaseUnderTest struct {
	dist, version, image string
	revision             string
	created              time.Time
}

func (r releaseUnderTest) file(name string) string { return filepath.Join(r.dist, name) }

// TestRelease verifies a release as make release built it. Only make
// release-check runs it (RELEASE_DIST, RELEASE_VERSION, RELEASE_IMAGE): it
// needs a release, helm, kubectl and a kube-apiserver from bin/.
func TestRelease(t *testing.T) {
	r := releaseUnderTest{dist: os.Getenv("RELEASE_DIST"), version: os.Getenv("RELEASE_VERSION"), image: os.Getenv("RELEASE_IMAGE")}
	if r.dist == "" {
		t.Skip("checks a release make release built: make release-check VERSION=... runs it (RELEASE_DIST)")
	}
	if err := checkVersion(r.version); err != nil {
		t.Fatalf("RELEASE_VERSION: %v", err)
	}
	if r.image == "" {
		r.image = defaultReleaseImage
	}
	t.Logf("release %s in %s, image %s", r.version, r.dist, r.image)

	t.Run("SHA256SUMS", func(t *testing.T) {
		if err := verifySums(r.dist); err != nil {
			t.Error(err)
		}
	})
	var digest v1.Hash
	var managers map[platform]*buildinfo.BuildInfo
	t.Run("image", func(t *testing.T) { digest, managers, r.revision, r.created = checkImageArchive(t, r) })
	if digest == (v1.Hash{}) {
		t.FailNow() // everything else names the image's digest
	}
	t.Run("chart", func(t *testing.T) { checkChart(t, r, digest) })
	t.Run("install.yaml", func(t *testing.T) { checkInstallYAML(t, r, digest) })
	t.Run("kubectl-lperm", func(t *testing.T) { checkPlugins(t, r) })
	t.Run("SBOM", func(t *testing.T) { checkSBOM(t, r, managers[sbomPlatform]) })
	t.Run("helm install", func(t *testing.T) { helmInstall(t, r, digest) })
	t.Run("kubectl apply", func(t *testing.T) { kubectlApply(t, r, digest) })
}

// --- image ---

// checkImageArchive checks the image tarball: an OCI layout holding one
// index, tagged VERSION, of exactly linux/amd64 and linux/arm64, every blob
// as its digest says; each image labelled with VERSION and holding a static
// manager for its platform, stamped VERSION. It returns the index's digest,
// each manager's build information, and the commit and time stamp of the
// images (the same for each).
func checkImageArchive(t *testing.T, r releaseUnderTest) (v1.Hash, map[platform]*buildinfo.BuildInfo, string, time.Time) {
	t.Helper()
	archive := r.file(imageArchive(r.version))
	idx, annotations := openArchive(t, archive)
	digest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image index %s", digest)
	if err := validate.Index(idx); err != nil {
		t.Fatalf("%s: the index does not hold what its digests say: %v", archive, err)
	}
	if got := annotations[refNameAnnotation]; got != r.version {
		t.Errorf("index.json tags the index %q, want %q", got, r.version)
	}
	if got, want := annotations[imageNameAnnotation], r.image+":"+r.version; got != want {
		t.Errorf("index.json names the image %q, want %q", got, want)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []platform
	managers := map[platform]*buildinfo.BuildInfo{}
	var revision string
	var created time.Time
	for i, desc := range m.Manifests {
		if desc.Platform == nil || desc.MediaType != types.OCIManifestSchema1 {
			t.Fatalf("index entry %+v: want an OCI image manifest with its platform", desc)
		}
		p := platform{desc.Platform.OS, desc.Platform.Architecture}
		platforms = append(platforms, p)
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		managers[p] = checkPlatformImage(t, r, p, img)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		rev, at := cf.Config.Labels["org.opencontainers.image.revision"], cf.Created.UTC()
		if i == 0 {
			revision, created = rev, at
		} else if rev != revision || !at.Equal(created) {
			t.Errorf("%s image: revision %s created %s, the first image's %s %s", p, rev, at, revision, created)
		}
	}
	if !slices.Equal(platforms, imagePlatforms) {
		t.Fatalf("the index holds images for %v, want exactly %v", platforms, imagePlatforms)
	}
	checkPush(t, r, idx, digest)
	return digest, managers, revision, created
}

// checkPush pushes the index to a registry (go-containerregistry's, in
// memory) as the release workflow's crane push does: the registry names it
// by the digest the chart and install.yaml pin.
func checkPush(t *testing.T, r releaseUnderTest, idx v1.ImageIndex, digest v1.Hash) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/" + path.Base(r.image)
	ref, err := name.NewTag(repo+":"+r.version, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("pushing the index: %v", err)
	}
	desc, err := remote.Head(ref, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != digest || desc.MediaType != types.OCIImageIndex {
		t.Errorf("the registry holds %s:%s as %s (%s), want %s (%s)", repo, r.version, desc.Digest, desc.MediaType, digest, types.OCIImageIndex)
	}
	for _, p := range imagePlatforms {
		img, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: p.os, Architecture: p.arch}), remote.WithContext(t.Context()))
		if err != nil {
			t.Errorf("pulling %s for %s: %v", ref, p, err)
			continue
		}
		if cf, err := img.ConfigFile(); err != nil || cf.Architecture != p.arch {
			t.Errorf("pulled %s for %s: %v, %+v", ref, p, err, cf)
		}
	}
}

func checkPlatformImage(t *testing.T, r releaseUnderTest, p platform, img v1.Image) *buildinfo.BuildInfo {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != p.os || cf.Architecture != p.arch {
		t.Errorf("%s image: config says %s/%s", p, cf.OS, cf.Architecture)
	}
	if got := cf.Config.Labels["org.opencontainers.image.version"]; got != r.version {
		t.Errorf("%s image: version label %q, want %q", p, got, r.version)
	}
	if cf.Config.Labels["org.opencontainers.image.revision"] == "" {
		t.Errorf("%s image: no revision label", p)
	}
	if cf.Config.User != "65532:65532" || !slices.Equal(cf.Config.Entrypoint, []string{entrypointPath}) {
		t.Errorf("%s image: user %q, entrypoint %q", p, cf.Config.User, cf.Config.Entrypoint)
	}
	manager := filepath.Join(t.TempDir(), "manager")
	if err := extractFile(img, strings.TrimPrefix(entrypointPath, "/"), manager); err != nil {
		t.Fatalf("%s image: %v", p, err)
	}
	info := checkBinary(t, manager, p, modulePath, r.version)
	runVersion(t, manager, p, project, r.version, "--version")
	return info
}

// entrypointPath is where hack/image puts the manager.
const entrypointPath = "/manager"

// extractFile writes the file name of the image's file system to out.
func extractFile(img v1.Image, name, out string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("no /%s", name)
		}
		if err != nil {
			return err
		}
		if path.Clean(h.Name) != name {
			continue
		}
		if h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
			return fmt.Errorf("/%s: type %c, mode %o: not an executable file", name, h.Typeflag, h.Mode)
		}
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
}

// checkBinary checks that a binary is for p, static, built from the main
// package pkg with -trimpath and without cgo, holding the release's version;
// it returns its build information.
func checkBinary(t *testing.T, bin string, p platform, pkg, version string) *buildinfo.BuildInfo {
	t.Helper()
	name := filepath.Base(bin)
	switch p.os {
	case "linux":
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: not ELF: %v", name, err)
		}
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[p.arch]
		if f.Machine != want || f.Class != elf.ELFCLASS64 {
			t.Errorf("%s: ELF for %s, %s; want %s", name, f.Machine, f.Class, want)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s: dynamically linked", name)
			}
		}
	case "darwin":
		f, err := macho.Open(bin)
		if err != nil {
			t.Fatalf("%s: not Mach-O: %v", name, err)
		}
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[p.arch]
		if f.Cpu != want || f.Type != macho.TypeExec {
			t.Errorf("%s: Mach-O %s for %s; want an executable for %s", name, f.Type, f.Cpu, want)
		}
	default:
		t.Fatalf("no check for %s", p)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("%s: no Go build information: %v", name, err)
	}
	if info.Path != pkg {
		t.Errorf("%s: built from %s, want %s", name, info.Path, pkg)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for key, want := range map[string]string{"GOOS": p.os, "GOARCH": p.arch, "CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[key] != want {
			t.Errorf("%s: built with %s=%q, want %q", name, key, settings[key], want)
		}
	}
	// -trimpath leaves -ldflags out of the build information: the version
	// -X stamped is a string in the binary (runVersion runs this machine's).
	if data, err := os.ReadFile(bin); err != nil || !bytes.Contains(data, []byte(version)) {
		t.Errorf("%s: does not hold the string %q (-X main.version): %v", name, version, err)
	}
	return info
}

// runVersion runs bin with args when it is for this machine, and checks that
// it prints "program VERSION (...)".
func runVersion(t *testing.T, bin string, p platform, program, version string, args ...string) {
	t.Helper()
	if p.os != runtime.GOOS || p.arch != runtime.GOARCH {
		return
	}
	out, err := exec.CommandContext(t.Context(), bin, args...).Output()
	if err != nil {
		t.Errorf("%s %s: %v", filepath.Base(bin), strings.Join(args, " "), err)
		return
	}
	if fields := strings.Fields(string(out)); len(fields) < 2 || fields[0] != program || fields[1] != version {
		t.Errorf("%s %s printed %q, want %q", filepath.Base(bin), strings.Join(args, " "), out, program+" "+version+" (…)")
	}
}

// --- chart ---

func checkChart(t *testing.T, r releaseUnderTest, digest v1.Hash) {
	archive := r.file(chartArchive(r.version))
	files, times := readTgz(t, archive)
	// Stamped as the images are, so that a rebuild gives the same bytes.
	for name, at := range times {
		if !at.Equal(r.created) {
			t.Errorf("%s: %s at %s, want the release's time stamp %s", archive, name, at, r.created)
		}
	}
	var chart struct{ Name, Version, AppVersion string }
	if err := yaml.Unmarshal(files[project+"/Chart.yaml"], &chart); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	if chart.Name != project || chart.Version != chartVersion(r.version) || chart.AppVersion != r.version {
		t.Errorf("Chart.yaml: name %q, version %q, appVersion %q; want %q, %q, %q",
			chart.Name, chart.Version, chart.AppVersion, project, chartVersion(r.version), r.version)
	}
	var values struct {
		Image struct{ Repository, Tag, Digest string }
	}
	if err := yaml.Unmarshal(files[project+"/values.yaml"], &values); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	if v := values.Image; v.Repository != r.image || v.Tag != r.version || v.Digest != digest.String() {
		t.Errorf("values.yaml: image %+v, want repository %q, tag %q, digest %q", v, r.image, r.version, digest)
	}

	helm := tool(t, "helm")
	run(t, nil, helm, "lint", "--strict", archive)
	objs := decodeObjects(t, run(t, nil, helm, "template", "lpo", archive, "--namespace", "lpo"))
	checkDeploymentImage(t, objs, r.image+"@"+digest.String())
}

// readTgz returns the files of a gzip tarball by name, and their times.
func readTgz(t *testing.T, archive string) (map[string][]byte, map[string]time.Time) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", archive, err)
	}
	files, times := map[string][]byte{}, map[string]time.Time{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, times
		}
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], times[h.Name] = data, h.ModTime
	}
}

// --- install.yaml ---

func checkInstallYAML(t *testing.T, r releaseUnderTest, digest v1.Hash) {
	text, err := os.ReadFile(r.file(installYAML))
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeObjects(t, text)
	crds := 0
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			crds++
		}
		if got := o.GetLabels()["app.kubernetes.io/version"]; got != r.version {
			t.Errorf("%s %s: label app.kubernetes.io/version %q, want %q", o.GetKind(), o.GetName(), got, r.version)
		}
	}
	if want := len(baseCRDs(t)); crds != want {
		t.Errorf("%d CRDs, want the %d of config/crd/bases", crds, want)
	}
	wantKinds := []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
		"Deployment", "Service", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"}
	for _, kind := range wantKinds {
		if !slices.ContainsFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetKind() == kind }) {
			t.Errorf("no %s", kind)
		}
	}
	checkDeploymentImage(t, objs, r.image+"@"+digest.String())
}

func baseCRDs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repo.Root(), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("config/crd/bases: %v, %d files", err, len(files))
	}
	return files
}

// checkDeploymentImage checks that objs hold one Deployment, whose one
// container runs image.
func checkDeploymentImage(t *testing.T, objs []*unstructured.Unstructured, image string) {
	t.Helper()
	var images []string
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			if m, ok := c.(map[string]any); ok {
				images = append(images, fmt.Sprint(m["image"]))
			}
		}
	}
	if !slices.Equal(images, []string{image}) {
		t.Errorf("Deployment images %q, want [%s]", images, image)
	}
}

func decodeObjects(t *testing.T, text []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(text), 4096)
	for {
		o := &unstructured.Unstructured{}
		err := dec.Decode(&o.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decoding manifests: %v", err)
		}
		if len(o.Object) > 0 {
			objs = append(objs, o)
		}
	}
}

// --- kubectl-lperm ---

func checkPlugins(t *testing.T, r releaseUnderTest) {
	for _, p := range pluginPlatforms {
		bin := r.file(pluginBinary(r.version, p))
		checkBinary(t, bin, p, modulePath+"/cmd/kubectl-lperm", r.version)
		if info, err := os.Stat(bin); err == nil && info.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", bin)
		}
		runVersion(t, bin, p, "kubectl-lperm", r.version, "--version")
		runVersion(t, bin, p, "kubectl-lperm", r.version, "version")
	}
}

// --- SBOM ---

// checkSBOM checks that the SBOM is CycloneDX, its main component the
// module at VERSION, and that it lists every module (and the Go version)
// the image's manager was built with.
func checkSBOM(t *testing.T, r releaseUnderTest, manager *buildinfo.BuildInfo) {
	f, err := os.Open(r.file(sbomFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("not CycloneDX JSON: %v", err)
	}
	if bom.BOMFormat != cdx.BOMFormat || bom.SpecVersion < cdx.SpecVersion1_5 {
		t.Errorf("bomFormat %q, specVersion %s", bom.BOMFormat, bom.SpecVersion)
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil {
		t.Fatal("no metadata.component")
	}
	// A function of the release, so that a rebuild gives the same bytes.
	if want := sbomSerial(r.version, r.revision); bom.SerialNumber != want {
		t.Errorf("serialNumber %s, want %s (version %s, commit %s)", bom.SerialNumber, want, r.version, r.revision)
	}
	if want := r.created.Format(time.RFC3339); bom.Metadata.Timestamp != want {
		t.Errorf("metadata.timestamp %s, want the release's time stamp %s", bom.Metadata.Timestamp, want)
	}
	app := bom.Metadata.Component
	if app.Name != modulePath || app.Version != r.version || app.Type != cdx.ComponentTypeApplication ||
		!strings.Contains(app.PackageURL, "@"+r.version+"?") || !strings.Contains(app.BOMRef, "@"+r.version+"?") {
		t.Errorf("main component %s %s (%s), purl %s, bom-ref %s; want %s %s, an application", app.Name, app.Version, app.Type, app.PackageURL, app.BOMRef, modulePath, r.version)
	}
	if bom.Dependencies == nil || !slices.ContainsFunc(*bom.Dependencies, func(d cdx.Dependency) bool {
		return d.Ref == app.BOMRef && d.Dependencies != nil && len(*d.Dependencies) > 0
	}) {
		t.Errorf("no dependencies of the main component %s", app.BOMRef)
	}
	listed := map[string]bool{}
	if bom.Components != nil {
		for _, c := range *bom.Components {
			listed[c.Name+"@"+c.Version] = true
		}
	}
	if manager == nil {
		t.Fatalf("no manager for %s in the image", sbomPlatform)
	}
	if !listed["std@"+manager.GoVersion] {
		t.Errorf("the SBOM lacks the standard library at %s", manager.GoVersion)
	}
	for _, dep := range manager.Deps {
		if dep.Replace != nil {
			dep = dep.Replace
		}
		if !listed[dep.Path+"@"+dep.Version] {
			t.Errorf("the manager is built with %s@%s, which the SBOM lacks", dep.Path, dep.Version)
		}
	}
	t.Logf("SBOM: %d components, the manager's %d modules among them", len(listed), len(manager.Deps))
}

// --- on a kube-apiserver ---

// apiServer starts etcd and kube-apiserver from bin/ with no CRDs, and
// returns an admin kubeconfig and a client.
func apiServer(t *testing.T) (string, client.Client) {
	t.Helper()
	env, err := controlplane.New()
	if err != nil {
		t.Fatal(err)
	}
	env.CRDDirectoryPaths, env.ErrorIfCRDPathMissing = nil, false
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting kube-apiserver: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping kube-apiserver: %v", err)
		}
	})
	user, err := env.AddUser(envtest.User{Name: "release-check", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	config, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, config, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig, k
}

// helmInstall installs the packaged chart: the release is deployed, its CRDs
// are established, and the Deployment runs the image by digest (no kubelet
// runs it here).
func helmInstall(t *testing.T, r releaseUnderTest, digest v1.Hash) {
	kubeconfig, k := apiServer(t)
	const ns, release = "lpo-release", "lpo"
	helm := tool(t, "helm")
	out := run(t, nil, helm, "install", release, r.file(chartArchive(r.version)), "--namespace", ns, "--create-namespace", "--kubeconfig", kubeconfig)
	t.Logf("helm install:\n%s", out)

	var releases []struct {
		Name, Status, Chart string
		AppVersion          string `json:"app_version"`
	}
	if err := json.Unmarshal(run(t, nil, helm, "list", "--namespace", ns, "--output", "json", "--kubeconfig", kubeconfig), &releases); err != nil {
		t.Fatal(err)
	}
	want := project + "-" + chartVersion(r.version)
	if len(releases) != 1 || releases[0].Status != "deployed" || releases[0].Chart != want || releases[0].AppVersion != r.version {
		t.Errorf("helm list: %+v, want %s deployed, chart %s, app version %s", releases, release, want, r.version)
	}
	checkEstablished(t, k)
	dep := get(t, k, "apps/v1", "Deployment", ns, release+"-"+project)
	checkDeploymentImage(t, []*unstructured.Unstructured{dep}, r.image+"@"+digest.String())
}

// kubectlApply applies install.yaml as docs/install.md says: every object in it
// is created, the CRDs are established, and the Deployment runs the image by
// digest.
func kubectlApply(t *testing.T, r releaseUnderTest, digest v1.Hash) {
	kubeconfig, k := apiServer(t)
	kubectl := filepath.Join(assetsDir(t), "kubectl")
	out := run(t, nil, kubectl, "apply", "--server-side", "--kubeconfig", kubeconfig, "-f", r.file(installYAML))
	t.Logf("kubectl apply:\n%s", out)
	text, err := os.ReadFile(r.file(installYAML))
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeObjects(t, text)
	var live []*unstructured.Unstructured
	for _, o := range objs {
		live = append(live, get(t, k, o.GetAPIVersion(), o.GetKind(), o.GetNamespace(), o.GetName()))
	}
	checkEstablished(t, k)
	checkDeploymentImage(t, live, r.image+"@"+digest.String())
	// Applying again changes nothing: the upgrade path of the same release.
	run(t, nil, kubectl, "apply", "--server-side", "--kubeconfig", kubeconfig, "-f", r.file(installYAML))
}

func get(t *testing.T, k client.Client, apiVersion, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	o := &unstructured.Unstructured{}
	o.SetAPIVersion(apiVersion)
	o.SetKind(kind)
	if err := k.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, o); err != nil {
		t.Errorf("%s %s/%s: %v", kind, ns, name, err)
	}
	return o
}

// checkEstablished waits until the API server holds every CRD of
// config/crd/bases, established.
func checkEstablished(t *testing.T, k client.Client) {
	t.Helper()
	want := len(baseCRDs(t))
	deadline := time.Now().Add(time.Minute)
	for {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion("apiextensions.k8s.io/v1")
		list.SetKind("CustomResourceDefinitionList")
		if err := k.List(t.Context(), list); err != nil {
			t.Fatal(err)
		}
		established := 0
		for _, crd := range list.Items {
			conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, c := range conditions {
				if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == string(metav1.ConditionTrue) {
					established++
				}
			}
		}
		if established == want && len(list.Items) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d CRDs, %d established; want %d", len(list.Items), established, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func assetsDir(t *testing.T) string {
	t.Helper()
	dir, err := controlplane.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// tool is bin/NAME (make tools).
func tool(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(repo.Root(), "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no %s: run make tools", p)
	}
	return p
}

// run runs a command with helm's homes in a temporary directory and returns
// its standard output; a failure fails the test.
func run(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := command(ctx, "", append(helmEnv(t.TempDir()), env...), name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
