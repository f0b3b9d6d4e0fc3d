package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profileSlice is how long each CPU profile of the operator runs
// (BENCH_PROFILE_SLICE overrides it).
var profileSlice = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("BENCH_PROFILE_SLICE")); err == nil && d > 0 {
		return d
	}
	return 10 * time.Second
}()

// profileOperator records CPU profiles of the operator, one per
// profileSlice, and a goroutine dump at the start of each, into dir until
// ctx ends; `go tool pprof` merges them
// (go tool pprof -top dir/cpu-run-*.pprof). BENCH_PROFILE=dir turns it on.
func profileOperator(ctx context.Context, addr, dir, run string) {
	for i := 0; ctx.Err() == nil; i++ {
		// What every goroutine waits on as the slice begins: where a run's
		// time goes that is not CPU.
		_ = fetchProfile(ctx, "http://"+addr+"/debug/pprof/goroutine?debug=1", filepath.Join(dir, fmt.Sprintf("goroutines-%s-%03d.txt", run, i)))
		name := filepath.Join(dir, fmt.Sprintf("cpu-%s-%03d.pprof", run, i))
		if err := fetchProfile(ctx, "http://"+addr+"/debug/pprof/profile?seconds="+fmt.Sprint(profileSlice.Seconds()), name); err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
				time.Sleep(time.Second)
			}
		}
	}
}

func fetchProfile(ctx context.Context, url, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		_ = os.Remove(name)
		return err
	}
	return f.Close()
}
