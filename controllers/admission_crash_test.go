//go:build integration

package controllers_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
)

// crashLabel sends an object to TestFinalizerPolicyHoldsWhatADeadOperatorWrote's
// operator, and crashAgent names that operator's writes.
const (
	crashLabel = "admission-crash"
	crashAgent = "crashing-operator"
)

// dyingLambda is the port of an operator that dies the moment Lambda has
// added a statement: the answer never comes back, and from then on no call
// reaches AWS (each waits until its context ends). What the operator would
// have written to Kubernetes after the call, it never writes.
type dyingLambda struct {
	awslambda.Provider
	once sync.Once
	dead chan struct{} // closed once a statement is added
}

func newDyingLambda(p awslambda.Provider) *dyingLambda {
	return &dyingLambda{Provider: p, dead: make(chan struct{})}
}

func (l *dyingLambda) For(id awslambda.Identity) awslambda.Lambda {
	return dyingPort{Lambda: l.Provider.For(id), l: l}
}

// wait blocks a call made after the death until its context ends.
func (l *dyingLambda) wait(ctx context.Context) error {
	select {
	case <-l.dead:
		<-ctx.Done()
		return ctx.Err()
	default:
		return nil
	}
}

type dyingPort struct {
	awslambda.Lambda
	l *dyingLambda
}

func (p dyingPort) AddPermission(ctx context.Context, ref policy.FunctionRef, perm policy.Permission) (string, error) {
	if err := p.l.wait(ctx); err != nil {
		return "", err
	}
	if _, err := p.Lambda.AddPermission(ctx, ref, perm); err != nil {
		return "", err
	}
	p.l.once.Do(func() { close(p.l.dead) })
	return "", p.l.wait(ctx)
}

func (p dyingPort) GetPolicy(ctx context.Context, ref policy.FunctionRef) (awslambda.Policy, error) {
	if err := p.l.wait(ctx); err != nil {
		return awslambda.Policy{}, err
	}
	return p.Lambda.GetPolicy(ctx, ref)
}

func (p dyingPort) ResolveFunction(ctx context.Context, ref policy.FunctionRef) (policy.FunctionRef, error) {
	if err := p.l.wait(ctx); err != nil {
		return policy.FunctionRef{}, err
	}
	return p.Lambda.ResolveFunction(ctx, ref)
}

func (p dyingPort) RemovePermission(ctx context.Context, ref policy.FunctionRef, sid, revisionID string) error {
	if err := p.l.wait(ctx); err != nil {
		return err
	}
	return p.Lambda.RemovePermission(ctx, ref, sid, revisionID)
}

func (p dyingPort) PutResourcePolicy(ctx context.Context, ref policy.FunctionRef, document, revisionID string) (awslambda.Policy, error) {
	if err := p.l.wait(ctx); err != nil {
		return awslambda.Policy{}, err
	}
	return p.Lambda.PutResourcePolicy(ctx, ref, document, revisionID)
}

func (p dyingPort) DeleteResourcePolicy(ctx context.Context, ref policy.FunctionRef, revisionID string) error {
	if err := p.l.wait(ctx); err != nil {
		return err
	}
	return p.Lambda.DeleteResourcePolicy(ctx, ref, revisionID)
}

// runCrashOperator runs a LambdaPermission operator for the objects
// labelled crashLabel, through port, until stop is called.
func runCrashOperator(t *testing.T, port awslambda.Provider) (stop func()) {
	t.Helper()
	o := controllers.Options{Lambda: port, DefaultRegion: region, SyncPeriod: syncPeriod, MaxConcurrentReconciles: 2,
		Kinds: []controllers.Kind{controllers.LambdaPermissionKind}}
	return suite.RunOperator(t, o, append(ownOperator(t, crashLabel, &lambdav1alpha1.LambdaPermission{}), harness.UserAgent(crashAgent))...)
}

// With the finalizer policy, the operator writes no finalizer: the object
// has it from its create. The operator adds a statement and dies before it
// can say so in the status. The object, deleted while no operator runs,
// stays, held by the finalizer, with the statement in the policy; the
// operator, back, takes the statement out and lets the object go. No
// object goes without its statement.
func TestFinalizerPolicyHoldsWhatADeadOperatorWrote(t *testing.T) {
	ns := newNamespace(t, nil)
	bindFinalizers(t, ns)
	fn := newName("crash")
	newFunction(t, fn)
	dying := newDyingLambda(lambdaAPI)
	stop := runCrashOperator(t, dying)

	obj := permission(newName("crash"), fn, s3Spec)
	obj.Namespace, obj.Labels = ns, map[string]string{managerLabel: crashLabel}
	create(t, obj)
	if !slices.Equal(obj.Finalizers, []string{lambdav1alpha1.PermissionFinalizer}) {
		t.Fatalf("created with finalizers %v, want the policy's %s", obj.Finalizers, lambdav1alpha1.PermissionFinalizer)
	}
	select {
	case <-dying.dead:
	case <-time.After(waitTimeout):
		t.Fatalf("the operator added no statement to %s in %s", fn, waitTimeout)
	}
	stop()
	if _, ok := storedStatement(fn, "", s3Spec.StatementID); !ok {
		t.Fatalf("the operator died once it added statement %s, which %s's policy does not have", s3Spec.StatementID, fn)
	}

	// Dead: the operator wrote nothing to the object. The finalizer came
	// from the policy, and the first status was to be the outcome.
	got := get(t, obj)
	if got.Status.Statement != "" || got.Status.StatementID != "" {
		t.Errorf("the status has statement %q (Sid %q): the operator wrote it before it died", got.Status.Statement, got.Status.StatementID)
	}
	if writes := fieldWrites(got.ManagedFields, crashAgent); len(writes) != 0 {
		t.Errorf("the operator wrote %q of the object, want nothing", writes)
	}

	// Deleted while no operator runs: held, with the statement in place.
	if err := k8s.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	got = get(t, obj)
	if got.DeletionTimestamp.IsZero() || !slices.Equal(got.Finalizers, []string{lambdav1alpha1.PermissionFinalizer}) {
		t.Fatalf("deleted, %s has deletionTimestamp %v and finalizers %v, want it held by %s",
			obj.Name, got.DeletionTimestamp, got.Finalizers, lambdav1alpha1.PermissionFinalizer)
	}
	if _, ok := storedStatement(fn, "", s3Spec.StatementID); !ok {
		t.Fatalf("statement %s left %s's policy while no operator ran", s3Spec.StatementID, fn)
	}

	// The operator, back, removes the statement before it lets the object go.
	runCrashOperator(t, lambdaAPI)
	waitGone(t, obj)
	if st, ok := storedStatement(fn, "", s3Spec.StatementID); ok {
		t.Errorf("%s is gone, and its statement is still in %s's policy: %s", obj.Name, fn, st)
	}
}

// fieldWrites lists the subresources ("" for the object itself) whose
// fields manager wrote, as the object's managedFields record them.
func fieldWrites(entries []metav1.ManagedFieldsEntry, manager string) []string {
	var out []string
	for _, e := range entries {
		if e.Manager == manager {
			out = append(out, e.Subresource)
		}
	}
	return out
}
