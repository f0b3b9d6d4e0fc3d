package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Reading back what a release wrote, for the unit tests of what it writes
// (TestSums, TestImageArchive) and for TestRelease (release_check_test.go),
// which checks a release make release built.

// verifySums checks SHA256SUMS as sha256sum --check --strict does, and that
// it lists every other file of dir.
func verifySums(dir string) error {
	text, err := os.ReadFile(filepath.Join(dir, sumsFile))
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || name == "" || strings.ContainsAny(name, "/\\") {
			return fmt.Errorf("%s: line %q is not \"SHA256  NAME\"", sumsFile, sc.Text())
		}
		if listed[name] {
			return fmt.Errorf("%s lists %s twice", sumsFile, name)
		}
		listed[name] = true
		got, err := sha256File(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if got != sum {
			return fmt.Errorf("%s: SHA-256 %s, %s says %s", name, got, sumsFile, sum)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() != sumsFile && !listed[e.Name()] {
			return fmt.Errorf("%s does not list %s", sumsFile, e.Name())
		}
		delete(listed, e.Name())
	}
	for name := range listed {
		return fmt.Errorf("%s lists %s, which is not there", sumsFile, name)
	}
	return nil
}

// --- image ---

// openArchive extracts an OCI layout tarball and returns the image index its
// index.json names, with that entry's annotations. index.json must name
// exactly one image index.
func openArchive(t *testing.T, archive string) (v1.ImageIndex, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	if err := untar(archive, dir); err != nil {
		t.Fatalf("%s: %v", archive, err)
	}
	if text, err := os.ReadFile(filepath.Join(dir, "oci-layout")); err != nil || !strings.Contains(string(text), `"imageLayoutVersion": "1.0.0"`) {
		t.Fatalf("%s: no oci-layout of version 1.0.0 (%v): %s", archive, err, text)
	}
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("%s: not an OCI layout: %v", archive, err)
	}
	m, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].MediaType != types.OCIImageIndex {
		t.Fatalf("%s: index.json holds %+v, want one %s", archive, m.Manifests, types.OCIImageIndex)
	}
	idx, err := top.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return idx, m.Manifests[0].Annotations
}

// untar extracts regular files and directories, refusing any other entry
// and any name outside dir.
func untar(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("entry %q is outside the archive", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			out.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q: type %c, want files and directories", h.Name, h.Typeflag)
		}
	}
}
