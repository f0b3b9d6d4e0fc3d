//go:build integration

package upgrade

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Reading the previous release's files for TestUpgrade: from the clone's
// history, or from the pinned snapshot where the clone lacks the commit.

// previousRelease finds the release the upgrade starts from:
//
//  1. UPGRADE_FROM, when set: a tag or commit (to try another starting
//     point by hand);
//  2. else the newest release tag vX.Y.Z reachable from HEAD that does not
//     point at HEAD itself (a pre-release vX.Y.Z-rc.1 is not a release);
//  3. else the commit pinned in hack/upgrade/previous-release.
//
// It fails, never guesses, when the history it needs is missing: a shallow
// clone (whose tags and old commits may be absent) or a pinned commit the
// clone does not have.
func previousRelease() (release, error) {
	return previousReleaseIn(root)
}

// snapshotCommit is the commit whose files come from pinnedSnapshot, once
// pinnedRelease chose it.
var snapshotCommit string

// pinnedRelease is the previous release where previousRelease cannot find
// one in the clone's history: the pinned commit, read from pinnedSnapshot.
func pinnedRelease(why error) (release, error) {
	pinned, err := readPinned(filepath.Join(root, previousReleaseFile))
	if err != nil {
		return release{}, fmt.Errorf("%v; and %w", why, err)
	}
	if _, err := os.Stat(filepath.Join(root, pinnedSnapshot, "config", "crd", "bases")); err != nil {
		return release{}, fmt.Errorf("%v; and no snapshot of %s: %w", why, pinned.Commit, err)
	}
	snapshotCommit = pinned.Commit
	pinned.Source = fmt.Sprintf("the commit pinned in %s, read from its snapshot in %s, because %v", previousReleaseFile, pinnedSnapshot, why)
	return pinned, nil
}

// filesAt lists the files of dir (a repository path) at commit whose names
// end in suffix, sorted.
func filesAt(commit, dir, suffix string) ([]string, error) {
	if commit == snapshotCommit && commit != "" {
		return filesOnDisk(filepath.Join(root, pinnedSnapshot), dir, suffix)
	}
	out, err := git("ls-tree", "--name-only", commit, "--", dir+"/")
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(out), "\n") {
		if f != "" && strings.HasSuffix(f, suffix) {
			files = append(files, f)
		}
	}
	return files, nil
}

// filesOnDisk lists the files of dir (a repository path) under top whose
// names end in suffix, sorted.
func filesOnDisk(top, dir, suffix string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(top, dir))
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), suffix) {
			files = append(files, dir+"/"+e.Name())
		}
	}
	return files, nil
}

// fileAt is a file's content at commit.
func fileAt(commit, path string) ([]byte, error) {
	if commit == snapshotCommit && commit != "" {
		return os.ReadFile(filepath.Join(root, pinnedSnapshot, path))
	}
	out, err := git("show", commit+":"+path)
	if err != nil {
		return nil, err
	}
	return []byte(out), nil
}
