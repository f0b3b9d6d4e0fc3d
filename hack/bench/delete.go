package main

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// deleteAll deletes every object of the create run created (its latency
// objects too) at once, with the operator that created them, and measures
// until every statement is gone from the emulator and every object from
// the API server. The floor: Statements takes out one statement per
// RemovePermission, N / quota; Document reads each policy once and writes
// it once (the last write of a function deletes its policy), F / quota.
func (b *bench) deleteAll(ctx context.Context, name string, created result, ns string, functions []string) (result, error) {
	r := result{name: name, kind: deleteRow, strategy: created.strategy, workers: created.workers, f: created.f,
		accounts: created.accounts, quota: created.quota}
	var list lambdav1alpha1.LambdaPermissionList
	if err := b.kube.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return r, err
	}
	r.n = len(list.Items)
	if r.quota > 0 {
		r.floor = floorOf(r.n, r.quota)
		if r.strategy == "Document" {
			r.floor = floorOf(r.f, r.quota)
		}
	}
	time.Sleep(2 * time.Second) // let the quota's bucket fill again before the clock starts
	b.emu.ResetStats()
	m := b.mark(ctx)
	began := time.Now()
	err := b.concurrently(0, r.n, func(i int) error {
		return client.IgnoreNotFound(b.kube.Delete(ctx, &list.Items[i]))
	})
	if err != nil {
		return r, err
	}
	r.applied = time.Since(began)
	if err := b.waitGone(ctx, ns, functions, 30*time.Minute); err != nil {
		return r, err
	}
	r.wall = time.Since(began)
	time.Sleep(time.Second) // Events are sent in the background
	r.usage = b.usageSince(ctx, r.name, m, map[string]int{"lambdapermissions DELETE": r.n})
	r.calls, r.throttled = b.calls(r.name)
	r.peakRSS, r.rss = memoryOf(b.operator.Process.Pid)
	return r, nil
}

// policyCalls counts the calls a delete run made to read and write
// policies.
func policyCalls(r result) int {
	return r.calls["GetPolicy"] + writes(r)
}
