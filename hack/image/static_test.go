package main

import (
	"debug/elf"
	"slices"
	"strings"
	"testing"
)

// A binary that needs a dynamic loader cannot run on an image without libc.
func TestRefusesDynamicBinary(t *testing.T) {
	for _, candidate := range []string{"/bin/ls", "/usr/bin/env"} {
		f, err := elf.Open(candidate)
		if err != nil {
			continue
		}
		dynamic := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
		f.Close()
		if !dynamic {
			continue
		}
		_, err = staticLinuxArch(candidate)
		if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Fatalf("staticLinuxArch(%s) = %v, want a dynamically linked error", candidate, err)
		}
		return
	}
	t.Skip("no dynamically linked ELF binary on this machine")
}
