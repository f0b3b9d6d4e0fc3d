package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

func (b *bench) hasStatement(function, sid string) bool {
	policy, _, ok := b.emu.Policy(function, "")
	return ok && strings.Contains(policy, `"Sid":"`+sid+`"`)
}

// statements counts the statements in the functions' policies.
func (b *bench) statements(functions []string) int {
	total := 0
	for _, fn := range functions {
		if policy, _, ok := b.emu.Policy(fn, ""); ok {
			total += strings.Count(policy, `"Sid":`)
		}
	}
	return total
}

// pollEvery is how often to count n statements: every 20 ms for a
// thousand, less often for more, so that reading the emulator's policies
// (under its lock) does not hold back the run it measures.
func pollEvery(n int) time.Duration {
	return max(20*time.Millisecond, time.Duration(n)*20*time.Microsecond)
}

// waitInPlace waits until the functions' policies hold n statements.
func (b *bench) waitInPlace(functions []string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		total := b.statements(functions)
		if total >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d statements in place after %s", total, n, timeout)
		}
		time.Sleep(pollEvery(n))
	}
}

// waitReady waits until every object reports Ready.
func (b *bench) waitReady(ctx context.Context, ns string, n int) error {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var list lambdav1alpha1.LambdaPermissionList
		if err := b.kube.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		ready := 0
		for _, o := range list.Items {
			if meta.IsStatusConditionTrue(o.Status.Conditions, lambdav1alpha1.ConditionReady) {
				ready++
			}
		}
		if ready >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d objects Ready", ready, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitGone waits until the functions' policies hold no statement and ns no
// object.
func (b *bench) waitGone(ctx context.Context, ns string, functions []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := b.statements(functions)
		objects := -1
		if left == 0 {
			var list lambdav1alpha1.LambdaPermissionList
			if err := b.kube.List(ctx, &list, client.InNamespace(ns)); err != nil {
				return err
			}
			if objects = len(list.Items); objects == 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d statements and %d objects left after %s", left, objects, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Metrics of the operator the growth table reads: no status says that an
// object was reconciled once a sync that finds it in place writes none.
const (
	// managedMetric is the operator's gauge of LambdaPermissions whose
	// statement it found or put in place.
	managedMetric = "lambda_permission_statements_managed"
	// reconcilesMetric is controller-runtime's count of reconciles.
	reconcilesMetric = "controller_runtime_reconcile_total"
	ofPermissions    = `controller="lambdapermission"`
)

// metricPoll is how often the waits read the operator's /metrics: each
// read costs the operator CPU that a sync round's figure counts, and at
// 50,000 objects its exposition is large.
const metricPoll = 250 * time.Millisecond

// waitManaged waits until the running operator has reconciled n objects
// to in place: its managedMetric, or where it has none its reconciles
// since it started. It returns how many it has (fewer on timeout).
func (b *bench) waitManaged(n int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		managed, ok := b.operatorMetric(managedMetric)
		if !ok {
			managed, _ = b.operatorMetric(reconcilesMetric, ofPermissions)
		}
		if int(managed) >= n || time.Now().After(deadline) {
			return int(managed)
		}
		time.Sleep(metricPoll)
	}
}

// waitReconciles waits until the running operator has made n reconciles
// more than from, and returns how many it made (fewer on timeout).
func (b *bench) waitReconciles(from float64, n int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		now, _ := b.operatorMetric(reconcilesMetric, ofPermissions)
		if made := int(now - from); made >= n || time.Now().After(deadline) {
			return made
		}
		time.Sleep(metricPoll)
	}
}
