// Command manager runs the lambda-permission-operator: the controllers of
// its four kinds (controllers.Setup), with leader election, health probes
// and metrics. It reads its flags, turns them into controllers.Options and
// an AWS configuration, and starts the manager.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	goruntime "runtime"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/engine"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/metrics"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
	buildversion "github.com/lambda-permission-operator/lambda-permission-operator/internal/version"
)

// version is the operator's version, stamped at build time with
// -ldflags "-X main.version=v0.2.0" (make manager, make image, make release);
// unstamped, the module version the go command recorded, else "dev".
var version string

func main() {
	var (
		metricsAddr       string
		probeAddr         string
		pprofAddr         string
		leaderElect       bool
		leaseDuration     time.Duration
		renewDeadline     time.Duration
		retryPeriod       time.Duration
		leaseNamespace    string
		kubeQPS           float64
		kubeBurst         int
		region            string
		syncPeriod        time.Duration
		maxConcurrent     int
		watchNamespace    string
		watchSelector     string
		guardrails        engine.GuardrailSettings
		dryRun            bool
		writeStrategy     string
		compaction        string
		compactionPercent int
		sidPrefix         string
		showVersion       bool
		objectNames       bool
		limits            = awslambda.DefaultLimits
		zapOptions        = zap.Options{}
		setupLog          = ctrl.Log.WithName("setup")
		scheme            = runtime.NewScheme()
		exitWithMessage   = func(msg string, err error) {
			setupLog.Error(err, msg)
			os.Exit(1)
		}
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "address the metrics endpoint binds to; 0 disables it")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "address the health and readiness probes bind to")
	flag.BoolVar(&objectNames, "metrics-object-names", true,
		"name each object in lambda_permission_objects (a series per object); false: a series per namespace and state, counting its objects")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "address Go's profiler (/debug/pprof/) binds to; 0 disables it")
	flag.BoolVar(&leaderElect, "leader-elect", false, "elect a leader, so that only one replica reconciles at a time")
	flag.Float64Var(&kubeQPS, "kube-api-qps", 100, "requests per second to the Kubernetes API; each statement written costs about three")
	flag.IntVar(&kubeBurst, "kube-api-burst", 200, "burst of requests to the Kubernetes API")
	flag.StringVar(&leaseNamespace, "leader-elect-namespace", "", "namespace of the leader election lease (default: the pod's own; required out of a cluster)")
	flag.DurationVar(&leaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long a lost leader's lease lasts before another replica takes over")
	flag.DurationVar(&renewDeadline, "leader-elect-renew-deadline", 10*time.Second, "how long the leader keeps trying to renew before it gives up leading")
	flag.DurationVar(&retryPeriod, "leader-elect-retry-period", 2*time.Second, "how often replicas try to acquire or renew the lease")
	flag.StringVar(&region, "region", "", "default AWS region of functions not named by ARN (default: from the AWS configuration)")
	flag.DurationVar(&syncPeriod, "sync-period", 10*time.Minute, "how often each statement is checked for drift")
	flag.IntVar(&maxConcurrent, "max-concurrent-reconciles", 4, "how many objects are reconciled at once")
	flag.StringVar(&watchNamespace, "watch-namespace", "", "watch only this namespace (default: all)")
	flag.StringVar(&watchSelector, "watch-label-selector", "",
		"reconcile only the objects this label selector selects: one shard of several instances, e.g. "+lambdav1alpha1.ShardLabel+"=a, "+
			"and !"+lambdav1alpha1.ShardLabel+" for the main instance beside the shards; each selector has its own leader election lease (default: all objects)")
	flag.BoolVar(&guardrails.AllowPublicAccess, "allow-public-access", false,
		"allow principal * without a narrowing condition (LambdaPermissionAccounts may override per account)")
	flag.BoolVar(&guardrails.AllowServiceWithoutSource, "allow-service-without-source", false,
		"allow service principals without sourceArn or sourceAccount (LambdaPermissionAccounts may override per account)")
	flag.Float64Var(&limits.GetPolicy, "getpolicy-rps", limits.GetPolicy,
		"GetPolicy calls per second per account and region (AWS's quota is 15); 0: unlimited")
	flag.Float64Var(&limits.ControlPlane, "control-plane-rps", limits.ControlPlane,
		"AddPermission and RemovePermission calls per second per account and region (AWS's control-plane quota is 15); 0: unlimited")
	flag.Float64Var(&limits.GetFunction, "getfunction-rps", limits.GetFunction,
		"GetFunction calls per second per account and region (AWS's quota is 100); 0: unlimited")
	flag.BoolVar(&dryRun, "dry-run", false, "compute and report every intended AWS write (status, Events, log) without making it")
	flag.StringVar(&writeStrategy, "write-strategy", string(writer.Statements),
		"how policies are written in accounts no LambdaPermissionAccount declares: Statements (AddPermission/RemovePermission, one call per statement) "+
			"or Document (one PutResourcePolicy per function for many statements; needs lambda:PutResourcePolicy)")
	flag.StringVar(&compaction, "compaction", string(lambdav1alpha1.CompactionOff),
		"where policies are written whole (Document strategy, LambdaResourcePolicy-owned), in accounts whose LambdaPermissionAccount sets no spec.compaction: "+
			"write grants that differ in one respect only as one statement listing them: Off, Threshold (once the policy would pass --compaction-threshold-percent of Lambda's limit) or Always")
	flag.IntVar(&compactionPercent, "compaction-threshold-percent", lambdav1alpha1.DefaultCompactionThresholdPercent,
		"for --compaction=Threshold: the share of Lambda's 20,480-byte limit the uncompacted policy may take (1-100)")
	flag.StringVar(&sidPrefix, "statement-id-prefix", "",
		"prepended to every derived Sid (objects without spec.statementId), so that clusters applying the same manifests to one function "+
			"keep their statements apart; letters, digits, '-' and '_', at most "+fmt.Sprint(lambdav1alpha1.MaxStatementIDPrefixLength)+" characters")
	flag.BoolVar(&showVersion, "version", false, "print the version and exit")
	zapOptions.BindFlags(flag.CommandLine)
	flag.Parse()
	v := buildversion.Resolve(version)
	if showVersion {
		fmt.Println(buildversion.Line("lambda-permission-operator", v))
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOptions)))
	metrics.SetObjectNames(objectNames)
	setupLog.Info("lambda-permission-operator", "version", v, "goVersion", goruntime.Version(), "platform", goruntime.GOOS+"/"+goruntime.GOARCH)

	strategy := writer.Strategy(writeStrategy)
	if strategy != writer.Statements && strategy != writer.Document {
		exitWithMessage("bad --write-strategy", fmt.Errorf("%q: want Statements or Document", writeStrategy))
	}
	switch lambdav1alpha1.CompactionMode(compaction) {
	case lambdav1alpha1.CompactionOff, lambdav1alpha1.CompactionThreshold, lambdav1alpha1.CompactionAlways:
	default:
		exitWithMessage("bad --compaction", fmt.Errorf("%q: want Off, Threshold or Always", compaction))
	}
	if compactionPercent < 1 || compactionPercent > 100 {
		exitWithMessage("bad --compaction-threshold-percent", fmt.Errorf("%d: want 1 to 100", compactionPercent))
	}
	if err := translate.ValidateStatementIDPrefix(sidPrefix); err != nil {
		exitWithMessage("bad --statement-id-prefix", err)
	}
	shard, err := controllers.ParseShard(watchSelector)
	if err != nil {
		exitWithMessage("bad --watch-label-selector", err)
	}

	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(lambdav1alpha1.AddToScheme(scheme))

	// The SDK's standard chain: environment, shared config and profiles,
	// web identity (IRSA), EKS Pod Identity, and AWS_ENDPOINT_URL_LAMBDA.
	var loadOptions []func(*awsconfig.LoadOptions) error
	if region != "" {
		loadOptions = append(loadOptions, awsconfig.WithRegion(region))
	}
	// Retries on purpose: see awslambda.Retryer.
	loadOptions = append(loadOptions, awsconfig.WithRetryer(awslambda.Retryer))
	awsConfig, err := awsconfig.LoadDefaultConfig(context.Background(), loadOptions...)
	if err != nil {
		exitWithMessage("loading the AWS configuration", err)
	}
	if awsConfig.Region == "" {
		exitWithMessage("no AWS region", fmt.Errorf("set --region, AWS_REGION or a region in the AWS config file"))
	}

	options := ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		PprofBindAddress:        pprofAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        controllers.LeaderElectionID(shard),
		LeaderElectionNamespace: leaseNamespace,
		LeaseDuration:           &leaseDuration,
		RenewDeadline:           &renewDeadline,
		RetryPeriod:             &retryPeriod,
		// A replica that stops cleanly hands the lease over at once; the
		// manager exits right after, so no write can follow.
		LeaderElectionReleaseOnCancel: true,
	}
	// managedFields are the bulk of a cached object and the operator never
	// reads them: thousands of objects fit in much less memory without.
	// A shard caches only its own objects of the kinds there are many of.
	options.Cache = cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: controllers.ShardCache(shard)}
	if watchNamespace != "" {
		options.Cache.DefaultNamespaces = map[string]cache.Config{watchNamespace: {}}
	}
	restConfig := ctrl.GetConfigOrDie()
	restConfig.QPS, restConfig.Burst = float32(kubeQPS), kubeBurst
	mgr, err := ctrl.NewManager(restConfig, options)
	if err != nil {
		exitWithMessage("creating the manager", err)
	}

	err = controllers.Setup(mgr, controllers.Options{
		// Every call to AWS is counted, by whichever controller makes it.
		Lambda:                  awslambda.NewClients(awslambda.Config{AWS: awsConfig, Limits: limits, Observe: metrics.AWSCallObserver{}}),
		Recorder:                mgr.GetEventRecorder("lambda-permission-operator"),
		DefaultRegion:           awsConfig.Region,
		SyncPeriod:              syncPeriod,
		Guardrails:              guardrails,
		DryRun:                  dryRun,
		WriteStrategy:           strategy,
		Compaction:              lambdav1alpha1.Compaction{Mode: lambdav1alpha1.CompactionMode(compaction), ThresholdPercent: int32(compactionPercent)},
		MaxConcurrentReconciles: maxConcurrent,
		StatementIDPrefix:       sidPrefix,
		Shard:                   shard,
	})
	if err != nil {
		exitWithMessage("setting up the controllers", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		exitWithMessage("adding the health check", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		exitWithMessage("adding the readiness check", err)
	}

	setupLog.Info("starting manager", "region", awsConfig.Region, "syncPeriod", syncPeriod, "watchNamespace", watchNamespace,
		"watchLabelSelector", watchSelector, "leaderElectionID", options.LeaderElectionID,
		"allowPublicAccess", guardrails.AllowPublicAccess, "allowServiceWithoutSource", guardrails.AllowServiceWithoutSource, "dryRun", dryRun, "writeStrategy", strategy, "statementIdPrefix", sidPrefix)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		exitWithMessage("running the manager", err)
	}
}
