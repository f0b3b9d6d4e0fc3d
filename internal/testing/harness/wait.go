package harness

import (
	"testing"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
)

// Eventually polls check until it returns "" (done) or two minutes pass,
// then fails the test with what it waited for and check's last answer.
func Eventually(t testing.TB, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		why := check()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 2m: %s", what, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// FreeAddress is a free 127.0.0.1 port for a process the test starts.
func FreeAddress(t testing.TB) string {
	t.Helper()
	addr, err := controlplane.FreeLocalAddress()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
