package upgrade

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// root is the repository's top directory.
var root = repo.Root()

// fetchHint is what every "not in this clone" message ends with.
const fetchHint = "the upgrade test reads the previous release's CRDs from git history: " +
	"run it in a clone with the full history and the tags (git fetch --unshallow --tags; " +
	"in GitHub Actions, actions/checkout with fetch-depth: 0)"

// release is the state the upgrade starts from.
type release struct {
	Label  string // vX.Y.Z, or the pinned file's label
	Commit string // full commit id
	Source string // how it was found, for the test's log
}

// previousReleaseFile pins the starting point while no release is tagged.
const previousReleaseFile = "hack/upgrade/previous-release"

// git runs git in the repository and returns its standard output.
func git(args ...string) (string, error) {
	return gitIn(root, args...)
}

// gitIn runs git in dir.
func gitIn(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// previousReleaseIn is previousRelease for the repository at dir.
func previousReleaseIn(dir string) (release, error) {
	git := func(args ...string) (string, error) { return gitIn(dir, args...) }
	if _, err := git("rev-parse", "--git-dir"); err != nil {
		return release{}, fmt.Errorf("not a git repository (%v): %s", err, fetchHint)
	}
	shallow, err := git("rev-parse", "--is-shallow-repository")
	if err != nil {
		return release{}, err
	}
	if strings.TrimSpace(shallow) == "true" {
		return release{}, errors.New("this clone is shallow, so the previous release's tag or commit may be missing: " + fetchHint)
	}
	head, err := git("rev-parse", "HEAD")
	if err != nil {
		return release{}, err
	}
	head = strings.TrimSpace(head)

	if from := os.Getenv("UPGRADE_FROM"); from != "" {
		commit, err := commitOf(dir, from)
		if err != nil {
			return release{}, fmt.Errorf("UPGRADE_FROM=%s: %w", from, err)
		}
		return release{Label: from, Commit: commit, Source: "UPGRADE_FROM"}, nil
	}

	refs, err := git("for-each-ref", "--merged=HEAD", "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)", "refs/tags/v*")
	if err != nil {
		return release{}, err
	}
	var best release
	var bestVersion [3]int
	for _, line := range strings.Split(refs, "\n") {
		// name, object, and the commit an annotated tag points at ("" for
		// a lightweight tag)
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			continue
		}
		version, ok := releaseVersion(fields[0])
		if !ok {
			continue
		}
		commit := fields[1]
		if fields[2] != "" { // an annotated tag: the commit it points at
			commit = fields[2]
		}
		if commit == head {
			continue
		}
		if best.Commit == "" || newer(version, bestVersion) {
			best = release{Label: fields[0], Commit: commit, Source: "the newest release tag reachable from HEAD, HEAD's own excluded"}
			bestVersion = version
		}
	}
	if best.Commit != "" {
		return best, nil
	}

	pinned, err := readPinned(filepath.Join(dir, previousReleaseFile))
	if err != nil {
		return release{}, err
	}
	if _, err := git("cat-file", "-e", pinned.Commit+"^{commit}"); err != nil {
		return release{}, fmt.Errorf("%s names commit %s (%s), which this clone does not have: %s, or git fetch origin %s",
			previousReleaseFile, pinned.Commit, pinned.Label, fetchHint, pinned.Commit)
	}
	if _, err := git("merge-base", "--is-ancestor", pinned.Commit, "HEAD"); err != nil {
		return release{}, fmt.Errorf("%s names commit %s (%s), which is not in HEAD's history: %v",
			previousReleaseFile, pinned.Commit, pinned.Label, err)
	}
	pinned.Source = "no release tag is reachable from HEAD: the commit pinned in " + previousReleaseFile
	return pinned, nil
}

// commitOf is the full id of the commit rev names, or why it cannot be read.
func commitOf(dir, rev string) (string, error) {
	out, err := gitIn(dir, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("no such commit in this clone (%v): %s", err, fetchHint)
	}
	return strings.TrimSpace(out), nil
}

var releaseTag = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// releaseVersion parses a release tag vX.Y.Z; a pre-release or any other
// tag is not one.
func releaseVersion(tag string) ([3]int, bool) {
	m := releaseTag.FindStringSubmatch(tag)
	if m == nil {
		return [3]int{}, false
	}
	var v [3]int
	for i := range v {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return [3]int{}, false
		}
		v[i] = n
	}
	return v, true
}

func newer(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return false
}

var fullCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

// readPinned reads the label and the commit of the pinned file: lines
// "label: …" and "commit: <40 hex digits>", and # comments.
func readPinned(path string) (release, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return release{}, fmt.Errorf("no release tag is reachable from HEAD and the pinned starting point cannot be read: %w", err)
	}
	var r release
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch {
		case ok && key == "label":
			r.Label = value
		case ok && key == "commit":
			r.Commit = value
		default:
			return release{}, fmt.Errorf("%s: unexpected line %q (want label: or commit:)", path, line)
		}
	}
	if r.Label == "" || !fullCommit.MatchString(r.Commit) {
		return release{}, fmt.Errorf("%s: needs a label and a full 40-digit commit id, has label %q, commit %q", path, r.Label, r.Commit)
	}
	return r, nil
}

// pinnedSnapshot holds, for the commit pinned in previousReleaseFile, the
// files the test reads at it (config/crd/bases, config/samples,
// config/admission, as git archive wrote them). It is read only when the
// clone lacks that commit (a shallow CI checkout): the test then still
// upgrades from it, and says so. TestPinnedSnapshotIsTheCommit keeps it
// equal to the commit wherever the history is there.
const pinnedSnapshot = "hack/upgrade/testdata/pinned"

// TestPreviousRelease builds a small repository and checks each way the
// starting point is found, or refused.
func TestPreviousRelease(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	run := func(dir string, args ...string) string {
		t.Helper()
		out, err := gitIn(dir, args...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "hack", "upgrade"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(repo, "init", "-q", "-b", "main")
	run(repo, "config", "user.email", "test@example.invalid")
	run(repo, "config", "user.name", "test")
	run(repo, "config", "commit.gpgSign", "false")
	run(repo, "config", "tag.gpgSign", "false")
	t.Setenv("UPGRADE_FROM", "")
	commit := func(msg string) string {
		t.Helper()
		run(repo, "commit", "-q", "--allow-empty", "-m", msg)
		return run(repo, "rev-parse", "HEAD")
	}
	first := commit("first")
	second := commit("second")
	pin := func(commit string) {
		t.Helper()
		data := "# pinned\nlabel: before the first release\ncommit: " + commit + "\n"
		if err := os.WriteFile(filepath.Join(repo, previousReleaseFile), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(wantLabel, wantCommit, wantErr string) {
		t.Helper()
		got, err := previousReleaseIn(repo)
		switch {
		case wantErr != "":
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("got %+v, %v; want an error with %q", got, err, wantErr)
			}
		case err != nil:
			t.Errorf("unexpected error: %v", err)
		case got.Label != wantLabel || got.Commit != wantCommit:
			t.Errorf("got %s %s, want %s %s", got.Label, got.Commit, wantLabel, wantCommit)
		}
	}

	// No tag: the pinned commit, which must be there and in HEAD's history.
	expect("", "", "cannot be read")
	pin(first)
	expect("before the first release", first, "")
	pin(strings.Repeat("0", 40))
	expect("", "", "which this clone does not have")
	pin("abc")
	expect("", "", "full 40-digit commit id")
	run(repo, "checkout", "-q", "-b", "side", first)
	side := commit("side")
	run(repo, "checkout", "-q", "main")
	pin(side)
	expect("", "", "not in HEAD's history")
	pin(first)

	// Tags: the newest release reachable from HEAD, not HEAD's own; not a
	// pre-release, not a tag elsewhere.
	run(repo, "tag", "v0.1.0", first)
	run(repo, "tag", "-a", "-m", "v0.2.0", "v0.2.0", second)
	expect("v0.1.0", first, "") // HEAD's own tag is the release being made
	third := commit("third")
	expect("v0.2.0", second, "") // an annotated tag
	run(repo, "tag", "v0.10.0-rc.1", third)
	run(repo, "tag", "v0.9.0", side)
	run(repo, "tag", "not-a-release", third)
	expect("v0.2.0", second, "")
	run(repo, "tag", "v0.3.0", third)
	expect("v0.2.0", second, "")
	commit("fourth")
	expect("v0.3.0", third, "") // a lightweight tag, newer than v0.2.0 (not v0.10.0-rc.1, nor v0.9.0 off to the side)

	t.Setenv("UPGRADE_FROM", "v0.1.0")
	expect("v0.1.0", first, "")
	t.Setenv("UPGRADE_FROM", "v9.9.9")
	expect("", "", "no such commit in this clone")
	t.Setenv("UPGRADE_FROM", "")

	// A shallow clone is refused, whatever it holds.
	shallow := filepath.Join(dir, "shallow")
	run(dir, "clone", "-q", "--depth", "1", "file://"+repo, shallow)
	_, err := previousReleaseIn(shallow)
	if err == nil || !strings.Contains(err.Error(), "shallow") || !strings.Contains(err.Error(), "fetch-depth: 0") {
		t.Errorf("shallow clone: %v, want the shallow clone refused with how to fetch", err)
	}
	// Not a repository at all.
	if _, err := previousReleaseIn(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("no repository: %v", err)
	}
}

// TestPinnedSnapshotIsTheCommit: the snapshot holds exactly the pinned
// commit's files, wherever the clone has the commit to compare with.
func TestPinnedSnapshotIsTheCommit(t *testing.T) {
	pinned, err := readPinned(filepath.Join(root, previousReleaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := git("cat-file", "-e", pinned.Commit+"^{commit}"); err != nil {
		t.Skipf("this clone lacks %s: the snapshot is what the upgrade test reads here", pinned.Commit)
	}
	var want []string
	for _, dir := range []string{"config/crd/bases", "config/samples", "config/admission"} {
		out, err := git("ls-tree", "-r", "--name-only", pinned.Commit, "--", dir+"/")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, strings.Fields(out)...)
	}
	var got []string
	base := filepath.Join(root, pinnedSnapshot)
	err = filepath.WalkDir(base, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(base, path)
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("%s holds %v, the commit %v", pinnedSnapshot, got, want)
	}
	for _, path := range want {
		inGit, err := git("show", pinned.Commit+":"+path)
		if err != nil {
			t.Fatal(err)
		}
		onDisk, err := os.ReadFile(filepath.Join(base, path))
		if err != nil {
			t.Fatal(err)
		}
		if string(onDisk) != inGit {
			t.Errorf("%s differs from %s at %s: run git archive %s config/crd/bases config/samples config/admission | tar -x -C %s",
				filepath.Join(pinnedSnapshot, path), path, pinned.Commit, pinned.Commit, pinnedSnapshot)
		}
	}
}
