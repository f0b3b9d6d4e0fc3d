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

// waitInPlace waits until the functions' policies hold n statements.
func (b *bench) waitInPlace(functions []string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		total := 0
		for _, fn := range functions {
			policy, _, ok := b.emu.Policy(fn, "")
			if ok {
				total += strings.Count(policy, `"Sid":`)
			}
		}
		if total >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d statements in place after %s", total, n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
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
