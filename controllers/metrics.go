package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// The operator's own metrics, served beside controller-runtime's on the
// manager's metrics endpoint. The README lists them.
var (
	awsCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_permission_aws_calls_total",
		Help: "Calls to AWS Lambda, by operation and outcome (success, or the failure kind: NotFound, Throttled, StaleRevision, …).",
	}, []string{"operation", "outcome"})
	awsCallDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lambda_permission_aws_call_duration_seconds",
		Help:    "Duration of calls to AWS Lambda, by operation.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"operation"})
	statementsManaged = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lambda_permission_statements_managed",
		Help: "Statements this operator keeps in place: LambdaPermissions that are Ready.",
	})
	driftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_permission_drift_corrections_total",
		Help: "Statements restored after they were removed (drift=missing) or changed (drift=changed) outside the operator.",
	}, []string{"drift"})
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_permission_reconcile_errors_total",
		Help: "Reconciles that ended without the statement in place, by condition reason (FunctionNotFound, Throttled, SidConflict, …).",
	}, []string{"reason"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(awsCalls, awsCallDuration, statementsManaged, driftCorrections, reconcileErrors)
}

// instrumentedProvider hands out instrumented ports.
type instrumentedProvider struct{ next awslambda.Provider }

func (p instrumentedProvider) For(id awslambda.Identity) awslambda.Lambda {
	return instrumented{next: p.next.For(id)}
}

func (p instrumentedProvider) Caller(ctx context.Context, id awslambda.Identity) (_, _ string, err error) {
	defer func(start time.Time) { observe("GetCallerIdentity", start, err) }(time.Now())
	return p.next.Caller(ctx, id)
}

// instrumented counts and times every call to Lambda.
type instrumented struct{ next awslambda.Lambda }

func observe(operation string, start time.Time, err error) {
	outcome := "success"
	if err != nil {
		outcome = string(awslambda.KindOf(err))
		if outcome == "" {
			outcome = "Error"
		}
	}
	awsCalls.WithLabelValues(operation, outcome).Inc()
	awsCallDuration.WithLabelValues(operation).Observe(time.Since(start).Seconds())
}

func (l instrumented) ResolveFunction(ctx context.Context, ref policy.FunctionRef) (_ policy.FunctionRef, err error) {
	defer func(start time.Time) { observe("GetFunction", start, err) }(time.Now())
	return l.next.ResolveFunction(ctx, ref)
}

func (l instrumented) GetPolicy(ctx context.Context, ref policy.FunctionRef) (_ awslambda.Policy, err error) {
	defer func(start time.Time) { observe("GetPolicy", start, err) }(time.Now())
	return l.next.GetPolicy(ctx, ref)
}

func (l instrumented) AddPermission(ctx context.Context, ref policy.FunctionRef, p policy.Permission) (_ string, err error) {
	defer func(start time.Time) { observe("AddPermission", start, err) }(time.Now())
	return l.next.AddPermission(ctx, ref, p)
}

func (l instrumented) RemovePermission(ctx context.Context, ref policy.FunctionRef, sid, revisionID string) (err error) {
	defer func(start time.Time) { observe("RemovePermission", start, err) }(time.Now())
	return l.next.RemovePermission(ctx, ref, sid, revisionID)
}

// managedSet tracks which objects have their statement in place, for the
// statements_managed gauge.
type managedSet struct {
	mu   sync.Mutex
	keys map[types.NamespacedName]bool
}

func (s *managedSet) set(key types.NamespacedName, inPlace bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[types.NamespacedName]bool{}
	}
	if inPlace {
		s.keys[key] = true
	} else {
		delete(s.keys, key)
	}
	statementsManaged.Set(float64(len(s.keys)))
}

func countReconcileError(outcome error) {
	reason := ReasonRetrying
	var state *stateError
	if errors.As(outcome, &state) {
		reason = state.Reason
	}
	reconcileErrors.WithLabelValues(reason).Inc()
}
