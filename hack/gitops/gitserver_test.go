package gitops

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitServer serves bare repositories over Git's smart HTTP protocol through
// git http-backend, as a Git host does for source-controller and
// repo-server: the engines clone what the test commits, as they would from
// a real remote.
type gitServer struct {
	root string // the bare repositories
	url  string
}

// startGitServer serves repositories on 127.0.0.1 until the test ends.
func startGitServer(t testing.TB) *gitServer {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v (install git)", err)
	}
	root := t.TempDir()
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewServer(http.StripPrefix("/git", backend))
	t.Cleanup(srv.Close)
	return &gitServer{root: root, url: srv.URL + "/git"}
}

// gitRepo is one repository: its URL, and a clone the test commits in.
type gitRepo struct {
	url, work string
}

// newRepo creates an empty repository that takes pushes, with a clone of
// it to commit in.
func (s *gitServer) newRepo(t testing.TB, name string) *gitRepo {
	t.Helper()
	bare := filepath.Join(s.root, name+".git")
	git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", bare)
	git(t, bare, "config", "http.receivepack", "true")
	r := &gitRepo{url: s.url + "/" + name + ".git", work: t.TempDir()}
	git(t, r.work, "init", "--quiet", "--initial-branch=main")
	git(t, r.work, "remote", "add", "origin", r.url)
	return r
}

// commit writes files (path: content) and removes paths, commits and
// pushes, and returns the new revision.
func (r *gitRepo) commit(t testing.TB, message string, files map[string]string, remove ...string) string {
	t.Helper()
	for path, content := range files {
		full := filepath.Join(r.work, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range remove {
		git(t, r.work, "rm", "--quiet", "-r", path)
	}
	git(t, r.work, "add", "--all")
	git(t, r.work, "-c", "user.name=gitops", "-c", "user.email=gitops@example.com", "commit", "--quiet", "--allow-empty", "-m", message)
	git(t, r.work, "push", "--quiet", "origin", "main")
	return strings.TrimSpace(git(t, r.work, "rev-parse", "HEAD"))
}

// git runs git in dir and returns its output, failing the test on an error.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+os.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The server is what the engines clone from: a push, then a clone over
// HTTP, sees the commit and its files, and a removal.
func TestGitServerServesWhatIsPushed(t *testing.T) {
	s := startGitServer(t)
	r := s.newRepo(t, "permissions")
	first := r.commit(t, "two files", map[string]string{"a/one.yaml": "one\n", "two.yaml": "two\n"})
	second := r.commit(t, "one file goes", nil, "two.yaml")

	clone := t.TempDir()
	git(t, "", "clone", "--quiet", r.url, clone)
	if head := strings.TrimSpace(git(t, clone, "rev-parse", "HEAD")); head != second || first == second {
		t.Errorf("the clone is at %s, want %s (after %s)", head, second, first)
	}
	if got, err := os.ReadFile(filepath.Join(clone, "a", "one.yaml")); err != nil || string(got) != "one\n" {
		t.Errorf("a/one.yaml in the clone: %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(clone, "two.yaml")); !os.IsNotExist(err) {
		t.Errorf("two.yaml is still in the clone: %v", err)
	}
}
