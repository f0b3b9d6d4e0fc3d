//go:build !race

package versiontest

const raceEnabled = false
