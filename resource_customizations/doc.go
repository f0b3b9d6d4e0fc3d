// Package resourcecustomizations holds Argo CD resource customizations for
// the operator's kinds, in Argo CD's own layout: GROUP/KIND/health.lua with
// GROUP/KIND/health_test.yaml and the objects it names under
// GROUP/KIND/testdata. It has no code: its tests run each health.lua as
// Argo CD does and check it against health_test.yaml and against kstatus.
package resourcecustomizations
