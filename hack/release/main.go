// Command release builds a release of the operator into dist/, from a clean
// dist/, with one version stamped everywhere:
//
//	go run ./hack/release -version v0.2.0 [-image REPOSITORY] [-dist dist]
//
// `make release VERSION=v0.2.0 [RELEASE_IMAGE=REPOSITORY]` runs it, with the
// commit, its time (SOURCE_DATE_EPOCH) and bin/helm and bin/kustomize from
// `make tools`. It writes:
//
//   - lambda-permission-operator-image-VERSION.oci.tar: the image (hack/image)
//     for linux/amd64 and linux/arm64, an OCI image layout as a tarball whose
//     index.json holds one image index annotated with the tag (as docker
//     buildx writes one), loadable by docker load, skopeo (oci-archive:),
//     oras and, once extracted, crane push;
//   - lambda-permission-operator-CHART_VERSION.tgz: the Helm chart, version
//     VERSION without its v, appVersion VERSION, and values image.repository
//     REPOSITORY, image.tag VERSION and image.digest the index's digest;
//   - install.yaml: config/default rendered by kustomize (CRDs, RBAC, the
//     manager's Deployment, its Service, the admission policies, the
//     namespace) with the image REPOSITORY@DIGEST, for kubectl apply -f;
//   - kubectl-lperm-VERSION-OS-ARCH for linux and darwin, amd64 and arm64;
//   - sbom.cdx.json: a CycloneDX SBOM of the manager (cyclonedx-gomod app,
//     the module's go.mod tool), its main component at VERSION;
//   - SHA256SUMS of every other file, for sha256sum -c.
//
// Every artifact is a function of the commit, VERSION, REPOSITORY and the
// time stamp (-created, the commit's time): building a tag again gives the
// same SHA256SUMS (given the same Go toolchain and CA bundle).
//
// Every binary is static (CGO_ENABLED=0), built with -trimpath and
// -ldflags "-s -w -X main.version=VERSION". `make release-check` verifies
// the result (release_check_test.go).
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/uuid"
	"golang.org/x/mod/semver"
	"sigs.k8s.io/yaml"
)

const (
	project    = "lambda-permission-operator"
	modulePath = "github.com/lambda-permission-operator/lambda-permission-operator"
	pluginPkg  = "./cmd/kubectl-lperm"
	chartDir   = "charts/lambda-permission-operator"

	installYAML = "install.yaml"
	sbomFile    = "sbom.cdx.json"
	sumsFile    = "SHA256SUMS"

	// The annotations of the image index in the layout's index.json: the
	// OCI tag, and the name containerd (docker load) gives the image.
	refNameAnnotation    = "org.opencontainers.image.ref.name"
	imageNameAnnotation  = "io.containerd.image.name"
	defaultReleaseImage  = project
	releaseTimeoutPerRun = time.Hour
)

// platform is a GOOS/GOARCH pair.
type platform struct{ os, arch string }

func (p platform) String() string { return p.os + "/" + p.arch }

var (
	// imagePlatforms are the image's, in its index's order.
	imagePlatforms = []platform{{"linux", "amd64"}, {"linux", "arm64"}}
	// pluginPlatforms are those kubectl-lperm is built for.
	pluginPlatforms = []platform{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}}
	// sbomPlatform is the platform the SBOM's module selection is made for
	// (cyclonedx-gomod applies build constraints): the image's first.
	sbomPlatform = imagePlatforms[0]
)

// Artifact names, which release-check and the workflows use too.
func imageArchive(version string) string { return project + "-image-" + version + ".oci.tar" }
func chartVersion(version string) string { return strings.TrimPrefix(version, "v") }
func chartArchive(version string) string { return project + "-" + chartVersion(version) + ".tgz" }
func pluginBinary(version string, p platform) string {
	return "kubectl-lperm-" + version + "-" + p.os + "-" + p.arch
}

// versionPattern is vMAJOR.MINOR.PATCH with an optional pre-release
// (semver.org's grammar, which semver.IsValid checks further); no build
// metadata: a "+" cannot be in an image tag.
var versionPattern = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// checkVersion refuses what is not a release tag.
func checkVersion(version string) error {
	if version == "" {
		return errors.New("no version: make release VERSION=vMAJOR.MINOR.PATCH[-PRERELEASE], e.g. VERSION=v0.2.0")
	}
	if !versionPattern.MatchString(version) || !semver.IsValid(version) || semver.Build(version) != "" {
		return fmt.Errorf("version %q is not a release tag vMAJOR.MINOR.PATCH[-PRERELEASE] (e.g. v0.2.0, v0.2.0-rc.1)", version)
	}
	return nil
}

// checkRepository refuses a repository that has a tag or a digest: the release
// adds them.
func checkRepository(image string) error {
	if _, err := name.NewRepository(image); err != nil {
		return fmt.Errorf("image repository %q, without tag or digest: %w", image, err)
	}
	return nil
}

type config struct {
	version   string
	image     string
	dist      string
	revision  string
	created   time.Time
	caCerts   string
	helm      string
	kustomize string
	goCmd     string
	log       io.Writer
}

func main() {
	start := time.Now()
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeoutPerRun)
	defer cancel()
	artifacts, err := c.release(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
	fmt.Printf("\nrelease %s in %s (%s):\n", c.version, c.dist, time.Since(start).Round(time.Second))
	var total int64
	for _, a := range artifacts {
		fmt.Printf("  %-60s %10s\n", a.name, humanSize(a.size))
		total += a.size
	}
	fmt.Printf("  %-60s %10s\n", "total", humanSize(total))
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	c := &config{log: os.Stderr}
	var created string
	fs.StringVar(&c.version, "version", "", "the release's version, a tag vMAJOR.MINOR.PATCH[-PRERELEASE] (required)")
	fs.StringVar(&c.image, "image", defaultReleaseImage, "the image's repository, without tag: the chart and install.yaml name it with the index's digest")
	fs.StringVar(&c.dist, "dist", "dist", "directory to write the release to (emptied first)")
	fs.StringVar(&c.revision, "revision", "", "the commit (the image's org.opencontainers.image.revision label; default git rev-parse HEAD)")
	fs.StringVar(&created, "created", os.Getenv("SOURCE_DATE_EPOCH"), "Unix seconds of the image's and the tarball's time stamps (default SOURCE_DATE_EPOCH, else the commit's time)")
	fs.StringVar(&c.caCerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle for the image (hack/image -ca-certs)")
	fs.StringVar(&c.helm, "helm", "bin/helm", "helm (make tools)")
	fs.StringVar(&c.kustomize, "kustomize", "bin/kustomize", "kustomize (make tools)")
	fs.StringVar(&c.goCmd, "go", "go", "the go command")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := checkVersion(c.version); err != nil {
		return nil, err
	}
	if err := checkRepository(c.image); err != nil {
		return nil, err
	}
	if c.revision == "" {
		out, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			return nil, fmt.Errorf("-revision not set and git rev-parse HEAD failed: %w", err)
		}
		c.revision = strings.TrimSpace(string(out))
	}
	if created == "" {
		out, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
		if err != nil {
			return nil, fmt.Errorf("-created not set and git log failed: %w", err)
		}
		created = strings.TrimSpace(string(out))
	}
	sec, err := strconv.ParseInt(created, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("-created (or SOURCE_DATE_EPOCH) %q: not Unix seconds", created)
	}
	c.created = time.Unix(sec, 0).UTC()
	for _, tool := range []*string{&c.helm, &c.kustomize} {
		abs, err := filepath.Abs(*tool)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("%s: %w (make tools builds it)", *tool, err)
		}
		*tool = abs
	}
	return c, nil
}

type artifact struct {
	name string
	size int64
}

// release builds every artifact into c.dist; on a failure it leaves no
// partial release behind.
func (c *config) release(ctx context.Context) (artifacts []artifact, err error) {
	if _, err := os.Stat("go.mod"); err != nil {
		return nil, errors.New("run in the repository's top directory (make release does)")
	}
	if err := emptyDist(c.dist); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(c.dist)
			err = fmt.Errorf("%w\n(%s removed: no partial release)", err, c.dist)
		}
	}()
	work, err := os.MkdirTemp("", "release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	c.logf("release %s of %s (commit %s), image %s", c.version, project, c.revision, c.image)
	if dirty, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); len(bytes.TrimSpace(dirty)) > 0 {
		c.logf("warning: the work tree has uncommitted changes; a published release is built from a clean checkout of its tag")
	}

	// The managers first: the image needs them; the plugins share most of
	// their compiled packages per platform.
	var managers []string
	for _, p := range imagePlatforms {
		bin := filepath.Join(work, "manager-"+p.os+"-"+p.arch)
		if err := c.step("manager "+p.String(), func() error { return c.goBuild(ctx, ".", p, bin) }); err != nil {
			return nil, err
		}
		managers = append(managers, bin)
	}
	for _, p := range pluginPlatforms {
		out := filepath.Join(c.dist, pluginBinary(c.version, p))
		if err := c.step("kubectl-lperm "+p.String(), func() error { return c.goBuild(ctx, pluginPkg, p, out) }); err != nil {
			return nil, err
		}
	}

	var digest v1.Hash
	err = c.step("image", func() error {
		var err error
		digest, err = c.buildImage(ctx, managers, filepath.Join(work, "image"), filepath.Join(c.dist, imageArchive(c.version)))
		return err
	})
	if err != nil {
		return nil, err
	}
	c.logf("  image index %s@%s", c.image, digest)
	if err := c.step("chart", func() error { return c.packageChart(ctx, digest, filepath.Join(work, "chart")) }); err != nil {
		return nil, err
	}
	if err := c.step(installYAML, func() error { return c.renderInstall(ctx, digest, filepath.Join(work, "kustomize")) }); err != nil {
		return nil, err
	}
	if err := c.step("SBOM", func() error { return c.sbom(ctx, filepath.Join(work, "sbom.json")) }); err != nil {
		return nil, err
	}
	if err := c.step(sumsFile, func() error { return writeSums(c.dist) }); err != nil {
		return nil, err
	}

	entries, err := os.ReadDir(c.dist)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		artifacts = append(artifacts, artifact{e.Name(), info.Size()})
	}
	return artifacts, nil
}

// emptyDist makes dist an empty directory, refusing to empty one that holds
// anything a release does not write (a directory) or is the repository.
func emptyDist(dist string) error {
	clean := filepath.Clean(dist)
	abs, err := filepath.Abs(clean)
	if err != nil {
		return err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	if clean == "." || abs == filepath.Dir(abs) || strings.HasPrefix(cwd+string(filepath.Separator), abs+string(filepath.Separator)) {
		return fmt.Errorf("-dist %s: not emptying the repository or a directory above it", dist)
	}
	entries, err := os.ReadDir(clean)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			return fmt.Errorf("-dist %s holds %s, which a release does not write: not emptying it", dist, e.Name())
		}
	}
	if err := os.RemoveAll(clean); err != nil {
		return err
	}
	return os.MkdirAll(clean, 0o755)
}

func (c *config) logf(format string, args ...any) {
	fmt.Fprintf(c.log, format+"\n", args...)
}

// step runs f, logging what it does and how long it took.
func (c *config) step(what string, f func() error) error {
	start := time.Now()
	c.logf("• %s", what)
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	c.logf("  %s: %s", what, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// command runs a program, its output kept for the error.
func command(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// ldflags stamps the version into main.version and strips the symbol
// table and DWARF (stack traces keep their function names and lines).
func ldflags(version string) string { return "-s -w -X main.version=" + version }

func (c *config) goBuild(ctx context.Context, pkg string, p platform, out string) error {
	_, err := command(ctx, "", []string{"CGO_ENABLED=0", "GOOS=" + p.os, "GOARCH=" + p.arch},
		c.goCmd, "build", "-trimpath", "-ldflags", ldflags(c.version), "-o", out, pkg)
	return err
}

// buildImage builds the image of the managers with hack/image and writes it
// to archive as a tarball of an OCI layout whose index.json holds the image
// index (annotated with the tag): the layout docker buildx writes, which
// docker load, skopeo and oras take as is. It returns the index's digest.
func (c *config) buildImage(ctx context.Context, managers []string, work, archive string) (v1.Hash, error) {
	flat := filepath.Join(work, "flat")
	args := []string{"run", "./hack/image",
		"-tag", c.image + ":" + c.version, "-version", c.version, "-revision", c.revision,
		"-created", strconv.FormatInt(c.created.Unix(), 10), "-ca-certs", c.caCerts, "-oci", flat}
	for _, m := range managers {
		args = append(args, "-binary", m)
	}
	if _, err := command(ctx, "", nil, c.goCmd, args...); err != nil {
		return v1.Hash{}, err
	}
	idx, err := layout.ImageIndexFromPath(flat)
	if err != nil {
		return v1.Hash{}, err
	}
	dir := filepath.Join(work, "layout")
	digest, err := writeNestedLayout(dir, idx, c.image, c.version)
	if err != nil {
		return v1.Hash{}, err
	}
	return digest, tarDir(dir, archive, c.created)
}

// writeNestedLayout writes a layout whose index.json names idx, annotated
// with the tag, and returns idx's digest: the one a registry gives it.
func writeNestedLayout(dir string, idx v1.ImageIndex, image, version string) (v1.Hash, error) {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	err = p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		refNameAnnotation:   version,
		imageNameAnnotation: image + ":" + version,
	}))
	if err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}

// tarDir writes the files under dir into an uncompressed tarball (the layers
// in it are compressed already), in name order, owned by root, every time
// stamp mtime: the same directory gives the same bytes.
func tarDir(dir, archive string, mtime time.Time) error {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(paths)
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, path := range paths {
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime, Typeflag: tar.TypeReg, Mode: 0o644, Size: info.Size()}
		if info.IsDir() {
			h.Name += "/"
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.IsDir() {
			continue
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, src)
		src.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// packageChart packages a copy of the chart with the release's version and
// its image pinned by digest, and lints the package.
func (c *config) packageChart(ctx context.Context, digest v1.Hash, work string) error {
	dir := filepath.Join(work, project)
	if err := copyDir(chartDir, dir); err != nil {
		return err
	}
	valuesPath := filepath.Join(dir, "values.yaml")
	values, err := os.ReadFile(valuesPath)
	if err != nil {
		return err
	}
	values, err = setImageValues(values, c.image, c.version, digest.String())
	if err != nil {
		return fmt.Errorf("%s/values.yaml: %w", chartDir, err)
	}
	if err := os.WriteFile(valuesPath, values, 0o644); err != nil {
		return err
	}
	env := helmEnv(work)
	if _, err := command(ctx, "", env, c.helm, "package", dir,
		"--version", chartVersion(c.version), "--app-version", c.version, "--destination", c.dist); err != nil {
		return err
	}
	archive := filepath.Join(c.dist, chartArchive(c.version))
	if err := stampChartArchive(archive, c.created); err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	_, err = command(ctx, "", env, c.helm, "lint", "--strict", archive)
	return err
}

// stampChartArchive sets the time of every entry of the chart archive at
// path to created. helm 3 stamps each entry with the time it packages the
// chart, so two builds of one commit would differ; after this they are the
// same bytes. The entries, their order and modes, and helm's gzip header
// (its Extra field and comment) stay as helm wrote them.
func stampChartArchive(path string, created time.Time) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Header = gzip.Header{Comment: zr.Comment, Extra: zr.Extra, Name: zr.Name, ModTime: zr.ModTime, OS: zr.OS}
	tr, tw := tar.NewReader(zr), tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		h.ModTime, h.AccessTime, h.ChangeTime = created, time.Time{}, time.Time{}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// helmEnv keeps helm's configuration, cache and data under dir.
func helmEnv(dir string) []string {
	return []string{
		"HELM_CONFIG_HOME=" + filepath.Join(dir, "helm-config"),
		"HELM_CACHE_HOME=" + filepath.Join(dir, "helm-cache"),
		"HELM_DATA_HOME=" + filepath.Join(dir, "helm-data"),
	}
}

// imageValueLine matches the lines of image.repository, .tag and .digest in
// the chart's values.yaml (two spaces under image:).
var imageValueLine = regexp.MustCompile(`^  (repository|tag|digest):( .*)?$`)

// setImageValues sets image.repository, image.tag and image.digest in the
// text of values.yaml, keeping its comments, and checks that nothing else
// changed.
func setImageValues(values []byte, repository, tag, digest string) ([]byte, error) {
	want := map[string]string{"repository": repository, "tag": tag, "digest": digest}
	lines := strings.Split(string(values), "\n")
	inImage, done := false, map[string]bool{}
	for i, line := range lines {
		switch {
		case line == "image:":
			inImage = true
			continue
		case line == "" || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "#"):
		default:
			inImage = false
		}
		if m := imageValueLine.FindStringSubmatch(line); inImage && m != nil {
			if done[m[1]] {
				return nil, fmt.Errorf("image.%s twice", m[1])
			}
			done[m[1]] = true
			lines[i] = "  " + m[1] + ": " + strconv.Quote(want[m[1]])
		}
	}
	for key := range want {
		if !done[key] {
			return nil, fmt.Errorf("no line image.%s (two spaces under a top-level image:)", key)
		}
	}
	out := []byte(strings.Join(lines, "\n"))

	var before, after map[string]any
	if err := yaml.Unmarshal(values, &before); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(out, &after); err != nil {
		return nil, fmt.Errorf("values.yaml after setting the image: %w", err)
	}
	image, _ := after["image"].(map[string]any)
	oldImage, _ := before["image"].(map[string]any)
	for key, value := range want {
		if image[key] != value {
			return nil, fmt.Errorf("image.%s is %v after setting it to %q", key, image[key], value)
		}
		delete(image, key)
		delete(oldImage, key)
	}
	if a, b := mustJSON(before), mustJSON(after); a != b {
		return nil, fmt.Errorf("setting the image changed other values:\n%s\n%s", a, b)
	}
	return out, nil
}

func mustJSON(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// renderInstall renders config/default with the image pinned by digest and
// the version label on every object, into install.yaml.
func (c *config) renderInstall(ctx context.Context, digest v1.Hash, work string) error {
	if err := copyDir("config", filepath.Join(work, "config")); err != nil {
		return err
	}
	ref := c.image + "@" + digest.String()
	if _, err := command(ctx, filepath.Join(work, "config", "manager"), nil, c.kustomize, "edit", "set", "image", "controller="+ref); err != nil {
		return err
	}
	overlay := filepath.Join(work, "release")
	if err := os.MkdirAll(overlay, 0o755); err != nil {
		return err
	}
	kustomization := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../config/default
labels:
- includeSelectors: false
  pairs:
    app.kubernetes.io/version: %s
`, strconv.Quote(c.version))
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		return err
	}
	rendered, err := command(ctx, "", nil, c.kustomize, "build", overlay)
	if err != nil {
		return err
	}
	if !bytes.Contains(rendered, []byte("image: "+ref+"\n")) {
		return fmt.Errorf("kustomize build did not pin the image %s", ref)
	}
	header := fmt.Sprintf(`# %s %s (config/default): the CRDs, RBAC, the
# manager's Deployment, its Service and the admission policies, in namespace
# lambda-permission-operator-system. The image:
#   %s
# Install or upgrade:
#   kubectl apply --server-side -f install.yaml
---
`, project, c.version, ref)
	return os.WriteFile(filepath.Join(c.dist, installYAML), append([]byte(header), rendered...), 0o644)
}

// sbom writes the CycloneDX SBOM of the manager as built for the image's
// first platform, its main component at the release's version.
func (c *config) sbom(ctx context.Context, tmp string) error {
	_, err := command(ctx, "", []string{"CGO_ENABLED=0", "GOOS=" + sbomPlatform.os, "GOARCH=" + sbomPlatform.arch},
		c.goCmd, "tool", "cyclonedx-gomod", "app", "-json", "-licenses", "-std", "-main", ".", "-output", tmp, ".")
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	out, err := setSBOMRelease(raw, c.version, c.revision, c.created)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.dist, sbomFile), out, 0o644)
}

// setSBOMRelease gives the SBOM's main component the release's version
// (cyclonedx-gomod takes it from git: the tag at HEAD, else a
// pseudo-version), and makes the SBOM a function of the release: its
// timestamp is the release's time stamps' (created) and its serial number a
// name-based UUID of module, version and commit, where cyclonedx-gomod would
// put the time it ran and a random UUID. So a rebuild of a tag gives the
// same SBOM, and SHA256SUMS, as the release it checks.
func setSBOMRelease(raw []byte, version, revision string, created time.Time) ([]byte, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(raw), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, err
	}
	if revision == "" {
		return nil, errors.New("no revision for the SBOM's serial number")
	}
	bom.SerialNumber = sbomSerial(version, revision)
	if bom.Metadata != nil {
		bom.Metadata.Timestamp = created.UTC().Format(time.RFC3339)
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil || bom.Metadata.Component.Name != modulePath {
		return nil, fmt.Errorf("the SBOM's main component is not %s", modulePath)
	}
	app := bom.Metadata.Component
	old := app.Version
	if old != version {
		oldRef := app.BOMRef
		replace := func(s string) string { return strings.Replace(s, "@"+old+"?", "@"+version+"?", 1) }
		app.Version = version
		app.BOMRef = replace(app.BOMRef)
		app.PackageURL = replace(app.PackageURL)
		if app.BOMRef == oldRef {
			return nil, fmt.Errorf("the main component's bom-ref %q does not name version %s", oldRef, old)
		}
		if bom.Dependencies != nil {
			for i, d := range *bom.Dependencies {
				if d.Ref == oldRef {
					(*bom.Dependencies)[i].Ref = app.BOMRef
				}
				if d.Dependencies != nil {
					for j, on := range *d.Dependencies {
						if on == oldRef {
							(*d.Dependencies)[j] = app.BOMRef
						}
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true)
	if err := enc.EncodeVersion(&bom, bom.SpecVersion); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sbomSerial is the release's SBOM serial number: a version 5 UUID of
// module@version and the commit, in the URL namespace.
func sbomSerial(version, revision string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("pkg:golang/"+modulePath+"@"+version+"#"+revision)).URN()
}

// writeSums writes SHA256SUMS over every other file in dir, in the format
// of sha256sum (two spaces: text mode, which is binary mode on Linux).
func writeSums(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var sums strings.Builder
	for _, e := range entries {
		if e.Name() == sumsFile {
			continue
		}
		if !e.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", e.Name())
		}
		sum, err := sha256File(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		fmt.Fprintf(&sums, "%s  %s\n", sum, e.Name())
	}
	return os.WriteFile(filepath.Join(dir, sumsFile), []byte(sums.String()), 0o644)
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyDir copies the regular files and directories under src to dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
