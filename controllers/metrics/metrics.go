// Package metrics holds the operator's own Prometheus metrics, served
// beside controller-runtime's on the manager's metrics endpoint (docs/metrics.md
// lists them), and what records them.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

var (
	awsCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_permission_aws_calls_total",
		Help: "Calls to AWS (Lambda, and STS for the accounts' identities), by operation, outcome (success, or the failure kind: NotFound, Throttled, StaleRevision, …) and the AWS account the call acts in (an assumed role's, else the operator's own; empty before STS has told the operator its own).",
	}, []string{"operation", "outcome", "account"})
	awsCallDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lambda_permission_aws_call_duration_seconds",
		Help:    "Duration of calls to AWS (Lambda and STS), by operation, including the SDK's retries.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"operation"})
	statementsManaged = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lambda_permission_statements_managed",
		Help: "Statements this operator keeps in place: LambdaPermissions that are Ready.",
	})
	driftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_permission_drift_corrections_total",
		Help: "Statements restored after they were removed (drift=missing) or changed (drift=changed) outside the operator, or lost when another writer replaced or deleted the whole policy (drift=replaced).",
	}, []string{"drift"})
	changesQueued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lambda_permission_policy_changes_queued",
		Help: "Objects whose change waits for their policy's next PutResourcePolicy, or is in it (Document strategy).",
	})
	policySizeBytes = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lambda_permission_policy_size_bytes",
		Help: "Size of each policy the operator reads or writes, in bytes as Lambda counts them (estimated; Lambda's limit is 20480), by function (its unqualified ARN) and qualifier (empty for the unqualified function).",
	}, []string{"function", "qualifier"})
	policyReadTimestamp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "lambda_permission_policy_read_timestamp_seconds",
		Help: "When the operator last read each policy from Lambda (GetPolicy), as a Unix time, by function (its unqualified ARN) and qualifier: how fresh its view of the policy is. Every check of the objects on a policy uses that view; one series per policy, not per object.",
	}, []string{"function", "qualifier"})
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_permission_reconcile_errors_total",
		Help: "Reconciles that ended without the statement in place, by condition reason (FunctionNotFound, Throttled, SidConflict, …).",
	}, []string{"reason"})
)

// operations are the AWS calls the operator makes, as the SDK names them.
var operations = []string{"GetFunction", "GetPolicy", "AddPermission", "RemovePermission", "PutResourcePolicy", "DeleteResourcePolicy",
	"GetCallerIdentity", "AssumeRole"}

func init() {
	ctrlmetrics.Registry.MustRegister(awsCalls, awsCallDuration, statementsManaged, driftCorrections, reconcileErrors, changesQueued, policySizeBytes, policyReadTimestamp)
	// The counters the alerts watch for a single event start at 0, so that
	// the first one is an increase: a series that appears at 1 is not one
	// to Prometheus's increase() and rate(). AWS calls' start per account,
	// as the port learns of each (AWSCallObserver.Account).
	for _, drift := range []string{"missing", "changed", "replaced", "policy"} {
		driftCorrections.WithLabelValues(drift)
	}
}

// AWSCallObserver is the AWS port's observer (awslambda.Config.Observe): it
// counts and times each call in lambda_permission_aws_calls_total and
// lambda_permission_aws_call_duration_seconds.
type AWSCallObserver struct{}

// alertedOutcomes are the outcomes an alert fires on at the first one.
var alertedOutcomes = []string{string(awslambda.AccessDenied), string(awslambda.InvalidCredentials), string(awslambda.Throttled)}

// Account starts each operation's counters of alertedOutcomes in account
// at 0, for the alerts (see init).
func (AWSCallObserver) Account(account string) {
	for _, operation := range operations {
		for _, outcome := range alertedOutcomes {
			awsCalls.WithLabelValues(operation, outcome, account)
		}
	}
}

func (AWSCallObserver) Call(call awslambda.Call) {
	outcome := "success"
	if call.Err != nil {
		outcome = string(awslambda.KindOf(call.Err))
	}
	awsCalls.WithLabelValues(call.Operation, outcome, call.Account).Inc()
	awsCallDuration.WithLabelValues(call.Operation).Observe(call.Took.Seconds())
}

// ReconcileFailed counts a reconcile that ended without its object in place.
func ReconcileFailed(reason string) { reconcileErrors.WithLabelValues(reason).Inc() }

// DriftCorrected counts a statement or policy restored after a change
// outside the operator (drift: missing, changed, replaced, policy).
func DriftCorrected(drift string) { driftCorrections.WithLabelValues(drift).Inc() }

// ChangeQueued moves lambda_permission_policy_changes_queued: a change
// starts waiting for its policy's write (waiting), or was written.
func ChangeQueued(waiting bool) {
	if waiting {
		changesQueued.Inc()
	} else {
		changesQueued.Dec()
	}
}

// PolicySized sets a policy's lambda_permission_policy_size_bytes, and drops
// the series at size 0 (the policy is gone, or holds nothing of the
// operator's any more).
func PolicySized(target policy.FunctionRef, size int) {
	if size == 0 {
		policySizeBytes.DeleteLabelValues(target.FunctionARN(), target.Qualifier)
		policyReadTimestamp.DeleteLabelValues(target.FunctionARN(), target.Qualifier)
		return
	}
	policySizeBytes.WithLabelValues(target.FunctionARN(), target.Qualifier).Set(float64(size))
}

// PolicyRead sets a policy's lambda_permission_policy_read_timestamp_seconds
// to when it was read. The series goes with the policy's size series
// (PolicySized 0).
func PolicyRead(target policy.FunctionRef, at time.Time) {
	policyReadTimestamp.WithLabelValues(target.FunctionARN(), target.Qualifier).Set(float64(at.UnixNano()) / 1e9)
}

// ManagedStatements tracks which objects have their statement in place,
// for lambda_permission_statements_managed.
type ManagedStatements struct {
	mu   sync.Mutex
	keys map[types.NamespacedName]bool
}

// Set records whether key's statement is in place.
func (s *ManagedStatements) Set(key types.NamespacedName, inPlace bool) {
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
