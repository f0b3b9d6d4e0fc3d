// Package upgrade tests that upgrading the operator's CRDs from the previous
// release keeps every stored object working: a kube-apiserver (envtest, from
// bin/) gets the previous release's CRDs and admission policies, read from
// git history, and objects as users and the operator left them (the
// release's samples, objects with every field set, status written as the
// operator writes it); then the current CRDs and admission policies replace
// them in place, as helm upgrade or kubectl apply does, and each stored
// object must read back unchanged, be listed, take a re-apply, a label
// change, a status patch, a spec change and its finalizer's removal, while a
// new object breaking a rule added since is refused.
//
// The previous release is the newest tag vX.Y.Z reachable from HEAD that is
// not HEAD's own; while there is none, the commit pinned in the file
// previous-release. UPGRADE_FROM=<tag or commit> overrides both. The test
// needs the full history: in a shallow clone, or without the commit, it
// fails and says what to fetch.
//
// The test diffs the two releases' schemas node by node (every CEL rule,
// bound, enum, pattern, required field and property) and fails when a
// constraint was added or tightened on a field that existed before unless a
// case in cases_test.go stores an object the old schema accepts and the new
// one refuses, and says what the API server does with it (ratcheting), or
// says why no stored object can break it. It needs a kube-apiserver, so it
// is an integration test (//go:build integration; make test runs it).
//
// TestRatchetingSelfCheck runs the same machinery on a made-up release
// (LambdaPermission's CRD with one constraint of each shape added) and pins
// what kube-apiserver does with objects stored before each: which updates
// are ratcheted, and which are refused (a rule on spec refuses any spec
// change; a transition rule an unchanged value fails refuses everything,
// the finalizer's removal included).
package upgrade
