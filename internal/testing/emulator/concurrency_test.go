package emulator

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const writers = 50

// TestConcurrentAdds: 50 goroutines add distinct Sids to one function; all
// 50 statements survive (no lost updates).
func TestConcurrentAdds(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := h.client.AddPermission(h.ctx, s3Permission("fn", "", fmt.Sprintf("sid-%02d", i)))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	policy, _ := h.mustPolicy("fn", "")
	got := sids(t, policy)
	slices.Sort(got)
	if len(got) != writers || len(slices.Compact(got)) != writers {
		t.Errorf("want %d distinct Sids, got %v", writers, got)
	}
}

// TestConcurrentOptimisticAdds: 50 goroutines each read the current
// RevisionId and add with it, retrying on 412. Every success must be based
// on a different revision, so 50 distinct revisions are observed.
func TestConcurrentOptimisticAdds(t *testing.T) {
	h := newHarness(t, Config{})
	h.createFunction("fn")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		used []string
	)
	for i := range writers {
		wg.Go(func() {
			for {
				revision, err := currentRevision(h, "fn")
				if err != nil {
					t.Error(err)
					return
				}
				in := s3Permission("fn", "", fmt.Sprintf("sid-%02d", i))
				in.RevisionId = aws.String(revision)
				_, err = h.client.AddPermission(h.ctx, in)
				var stale *types.PreconditionFailedException
				if errors.As(err, &stale) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				used = append(used, revision)
				mu.Unlock()
				return
			}
		})
	}
	wg.Wait()
	if distinct := unique(used); len(used) != writers || len(distinct) != writers {
		t.Errorf("%d successful adds based on %d distinct revisions, want %d", len(used), len(distinct), writers)
	}
	policy, _ := h.mustPolicy("fn", "")
	if n := len(sids(t, policy)); n != writers {
		t.Errorf("%d statements, want %d", n, writers)
	}
}

// currentRevision is GetPolicy's RevisionId, or the function configuration
// RevisionId while there is no policy (§7).
func currentRevision(h *harness, name string) (string, error) {
	out, err := h.getPolicy(name, "")
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		fn, err := h.client.GetFunction(h.ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			return "", err
		}
		return aws.ToString(fn.Configuration.RevisionId), nil
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.RevisionId), nil
}
