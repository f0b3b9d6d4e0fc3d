package controllers

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
)

// The operator's own metrics, served beside controller-runtime's on the
// manager's metrics endpoint. The README lists them.
var (
	awsCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_permission_aws_calls_total",
		Help: "Calls to AWS (Lambda, and STS for the accounts' identities), by operation and outcome (success, or the failure kind: NotFound, Throttled, StaleRevision, …).",
	}, []string{"operation", "outcome"})
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
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_permission_reconcile_errors_total",
		Help: "Reconciles that ended without the statement in place, by condition reason (FunctionNotFound, Throttled, SidConflict, …).",
	}, []string{"reason"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(awsCalls, awsCallDuration, statementsManaged, driftCorrections, reconcileErrors, changesQueued, policySizeBytes)
}

// InstrumentAWS makes every client built from cfg (Lambda, and STS for
// the accounts' identities and their AssumeRole credentials) count and time
// its calls in lambda_permission_aws_calls_total and
// lambda_permission_aws_call_duration_seconds: one per API call, after the
// SDK's own retries, whatever the caller. Answers the operator caches, such
// as an identity's account, make no call and are not counted.
func InstrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("lambda-permission-operator/metrics",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, metadata, err := next.HandleInitialize(ctx, in)
				observe(awsmiddleware.GetOperationName(ctx), time.Since(start), err)
				return out, metadata, err
			}), middleware.Before)
	})
}

func observe(operation string, took time.Duration, err error) {
	outcome := "success"
	if err != nil {
		outcome = string(awslambda.KindOf(awslambda.Classify(operation, err)))
	}
	awsCalls.WithLabelValues(operation, outcome).Inc()
	awsCallDuration.WithLabelValues(operation).Observe(took.Seconds())
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
