package main

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// benchRole is the role the operator assumes in each of the accounts run's
// accounts.
const benchRole = "lambda-permission-operator"

// acrossAccounts creates n objects at once over perAccount functions in
// each of accounts AWS accounts other than the operator's own, with the
// Statements strategy. The emulator's quotas are per account, as AWS's
// are, and so is the operator's pacing: the accounts are written in
// parallel. Each account is declared by a LambdaPermissionAccount whose
// role, trusted by the operator's own account, the operator assumes; the
// objects name their functions by ARN. The floor is the busiest account's:
// its objects / quota.
func (b *bench) acrossAccounts(name string, workers, n, accounts, perAccount int, quota float64) (result, error) {
	r := result{name: name, kind: accountsRow, strategy: "Statements", workers: workers, n: n, f: accounts * perAccount,
		accounts: accounts, quota: quota, floor: floorOf((n+accounts-1)/accounts, quota)}
	ctx := context.Background()
	ids := make([]string, accounts)
	roles := make([]emulator.Role, accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("3100000000%02d", i)
		roles[i] = emulator.Role{ARN: roleIn(ids[i]), TrustedAccounts: []string{account}}
	}
	b.newEmulator(quotasAt(quota), roles)
	// Object i goes to function i % F: function j is in account j / perAccount.
	var functions []string
	for _, id := range ids {
		key, secret := b.emu.AccessKeyFor(id)
		names, err := b.createFunctions(ctx, b.lambdaAs(key, secret), name+"-"+id, perAccount)
		if err != nil {
			return r, err
		}
		for _, fn := range names {
			functions = append(functions, "arn:aws:lambda:"+region+":"+id+":function:"+fn)
		}
	}
	declared, err := b.declareAccounts(ctx, ids)
	defer func() {
		// Later runs' emulators know none of these roles.
		for _, a := range declared {
			_ = b.kube.Delete(ctx, a)
		}
	}()
	if err != nil {
		return r, err
	}
	ns := name
	if err := b.kube.Create(ctx, namespace(ns)); err != nil {
		return r, err
	}
	run := operatorRun{namespace: ns, strategy: r.strategy, workers: workers, getPolicyRPS: quota, controlPlaneRPS: quota}
	saved := b.backlog
	b.backlog = false // the accounts must be Ready before the clock starts
	defer func() { b.backlog = saved }()
	if err := b.startOperator(run); err != nil {
		return r, err
	}
	defer b.stopOperator()
	if err := b.waitAccountsReady(ctx, declared); err != nil {
		return r, err
	}
	if err := b.createAndWait(ctx, &r, run, ns, functions); err != nil {
		return r, err
	}
	r.peakRSS, r.rss = memoryOf(b.operator.Process.Pid)
	return r, nil
}

func roleIn(id string) string { return "arn:aws:iam::" + id + ":role/" + benchRole }

// declareAccounts creates a LambdaPermissionAccount for each account:
// its role, open to every namespace and function.
func (b *bench) declareAccounts(ctx context.Context, ids []string) ([]*lambdav1alpha1.LambdaPermissionAccount, error) {
	var declared []*lambdav1alpha1.LambdaPermissionAccount
	for _, id := range ids {
		a := &lambdav1alpha1.LambdaPermissionAccount{
			ObjectMeta: metav1.ObjectMeta{Name: "bench-" + id},
			Spec: lambdav1alpha1.LambdaPermissionAccountSpec{AccountID: id, RoleARN: roleIn(id),
				Access: []lambdav1alpha1.AccountAccessRule{{}}},
		}
		if err := b.kube.Create(ctx, a); err != nil {
			return declared, err
		}
		declared = append(declared, a)
	}
	return declared, nil
}

// waitAccountsReady waits until the operator could act as every account's
// identity.
func (b *bench) waitAccountsReady(ctx context.Context, accounts []*lambdav1alpha1.LambdaPermissionAccount) error {
	deadline := time.Now().Add(time.Minute)
	for _, a := range accounts {
		for {
			var got lambdav1alpha1.LambdaPermissionAccount
			if err := b.kube.Get(ctx, client.ObjectKeyFromObject(a), &got); err != nil {
				return err
			}
			if meta.IsStatusConditionTrue(got.Status.Conditions, lambdav1alpha1.ConditionReady) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("LambdaPermissionAccount %s not Ready after a minute: %v", a.Name, got.Status.Conditions)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}
