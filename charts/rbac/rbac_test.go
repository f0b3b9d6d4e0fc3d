//go:build integration

package rbac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/controlplane"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

const (
	release   = "lpo"
	releaseNS = "lpo-rbac"
	// fullname is the chart's name for the release's objects: the
	// ServiceAccount, the Deployment, the roles' prefix.
	fullname = "lpo-lambda-permission-operator"
	// watched is where config/samples put their objects; LambdaPermissionAccount
	// orders admits no other namespace.
	watched   = "default"
	leaseName = "lambda-permission-operator.permissions.dev" // main.go's LeaderElectionID

	region     = "us-east-2"
	ownAccount = "123456789012" // the operator's own (the emulator's default)
	myFunction = "arn:aws:lambda:us-east-2:123456789012:function:my-function"
	ordersAPI  = "arn:aws:lambda:us-east-2:210987654321:function:orders-api"
	urlGrant   = "site" // a LambdaFunctionURLPermission: config/samples has none
	xaccount   = "my-function-xaccount"
	// ownedFunction's whole policy is a LambdaResourcePolicy's, which
	// config/samples/kustomization.yaml does not list. It removes every
	// statement it does not declare (the included LambdaPermissions' aside),
	// so it has a function of its own, which no sample names.
	ownedFunction  = "arn:aws:lambda:us-east-2:123456789012:function:owned-function"
	resourcePolicy = "owned" // the LambdaResourcePolicy
	partnerSid     = "partner"

	finalizer       = lambdav1alpha1.PermissionFinalizer
	urlFinalizer    = lambdav1alpha1.FunctionURLFinalizer
	policyFinalizer = lambdav1alpha1.ResourcePolicyFinalizer

	convergeTimeout = 90 * time.Second
	failureTimeout  = 60 * time.Second
	stopTimeout     = 30 * time.Second
)

// mode is one way of installing the chart.
type mode struct {
	name        string
	values      map[string]any // over values.yaml's defaults
	leaderElect bool
}

var modes = []mode{
	// values.yaml's defaults: every namespace, a ClusterRole, one replica
	// and no leader election.
	{name: "every namespace", values: map[string]any{}},
	// One namespace: the manager's rules on namespaced resources in a Role
	// there, the rest in a ClusterRole; with leader election and its Role
	// in the release's namespace.
	{name: "watchNamespace", values: map[string]any{"watchNamespace": watched, "leaderElect": true}, leaderElect: true},
}

// chartValues are a mode's values plus what points the operator at the
// emulator: the chart's extraEnv and region. The AWS credentials stand in
// for IRSA or EKS Pod Identity (the emulator checks no signature).
func chartValues(m mode) map[string]any {
	values := map[string]any{
		"region": region,
		"extraEnv": []map[string]string{
			{"name": "AWS_ENDPOINT_URL_LAMBDA", "value": lambdaURL},
			{"name": "AWS_ENDPOINT_URL_STS", "value": lambdaURL}, // the operator learns its account from STS
			{"name": "AWS_ACCESS_KEY_ID", "value": "charts-rbac"},
			{"name": "AWS_SECRET_ACCESS_KEY", "value": "charts-rbac"},
			{"name": "AWS_EC2_METADATA_DISABLED", "value": "true"},
			{"name": "AWS_CONFIG_FILE", "value": filepath.Join(workDir, "no-aws-config")},
			{"name": "AWS_SHARED_CREDENTIALS_FILE", "value": filepath.Join(workDir, "no-aws-credentials")},
		},
	}
	for k, v := range m.values {
		values[k] = v
	}
	return values
}

// TestUnprivilegedIsRefused: the API server enforces RBAC, so a token is
// worth only what its bindings grant. (Were it run with AlwaysAllow, every
// other test here would prove nothing.)
func TestUnprivilegedIsRefused(t *testing.T) {
	const ns = "rbac-nobody"
	ctx := t.Context()
	if err := kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := kube.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	nobody := kubeconfigClient(t, tokenKubeconfig(t, ns, "nobody"))
	for what, try := range map[string]func() error{
		"list namespaces": func() error { return nobody.List(ctx, &corev1.NamespaceList{}) },
		"list ServiceAccounts in its own namespace": func() error {
			return nobody.List(ctx, &corev1.ServiceAccountList{}, client.InNamespace(ns))
		},
		"create a ConfigMap in its own namespace": func() error {
			return nobody.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: ns}})
		},
	} {
		if err := try(); !apierrors.IsForbidden(err) {
			t.Errorf("a token without bindings may %s: %v, want Forbidden", what, err)
		}
	}
	// The same requests as the admin succeed: the token was refused for
	// what it may do, not for being a token.
	if err := kube.List(ctx, &corev1.NamespaceList{}); err != nil {
		t.Errorf("the admin cannot list namespaces: %v", err)
	}
}

// TestChartRBAC installs the chart in each mode, runs the operator with the
// chart's permissions and no more, then with each rule taken away in turn.
func TestChartRBAC(t *testing.T) {
	usage := &grantUsage{used: map[request]bool{}}
	ran := map[*ruleCase]bool{}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { testMode(t, m, usage, ran) })
	}
	if t.Failed() {
		return
	}
	for i := range cases {
		if c := &cases[i]; !ran[c] {
			t.Errorf("no role of the chart grants %s any more: remove its case", c.target)
		}
	}
	usage.check(t)
}

func testMode(t *testing.T, m mode, usage *grantUsage, ran map[*ruleCase]bool) {
	install(t, m)
	spec := managerSpec(t, m)
	roles := installedRoles(t)
	usage.addRoles(roles)
	// The API server's authorizer learns of new roles and bindings from its
	// informers: wait until it allows what the chart grants.
	for _, role := range roles {
		for _, target := range role.targets() {
			waitForAccess(t, role, target, verbOf(role, target), true)
		}
	}

	// The manager needs nothing the chart does not grant.
	if !t.Run("full RBAC", func(t *testing.T) {
		run := startManager(t, spec)
		converge(t, run, m)
		run.stop(t)
		if lines := run.log.matching("forbidden"); len(lines) > 0 {
			t.Errorf("with every rule of the chart, the manager logged %d refusals:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		requests := run.requests(t)
		for _, r := range requests {
			if r.code == http.StatusForbidden {
				t.Errorf("with every rule of the chart, the API server refused %s %s/%s in %q", r.verb, r.group, r.resource, r.namespace)
			}
		}
		usage.addRequests(requests)
	}) {
		t.Fatal("the manager does not work with the chart's RBAC: taking rules away would prove nothing")
	}

	// Each rule, taken away alone, breaks the behaviour the table names.
	for _, role := range roles {
		for _, target := range role.targets() {
			c := caseFor(role.leaderElection, target)
			if c == nil {
				t.Errorf("%s %s grants %s, and no case in rbac_test.go says what fails without it: add one, or remove the rule "+
					"(its +kubebuilder:rbac marker, then make manifests)", role.kind, role.name, target)
				continue
			}
			ran[c] = true
			name := "without " + target.String()
			if role.leaderElection {
				name = "without leader election " + target.String()
			}
			t.Run(name, func(t *testing.T) { testWithout(t, spec, role, target, c) })
		}
	}
}

// --- the table ---

// ruleCase says what fails when one resource of one rule is taken away,
// and how the test sees it: the refusal the manager logs, something that
// still works (so the manager has run far enough), then the behaviour that
// did not happen.
type ruleCase struct {
	leaderElection bool // a rule of the leader election Role
	target         target
	fails          string // the behaviour that fails
	refused        string // in the manager's log
	progress       check  // still works
	broken         []state
}

// check is a condition a run waits for.
type check struct {
	what string
	ok   func(r *managerRun) (bool, error)
}

// state is what must hold once the refusal and the progress are seen.
type state struct {
	what  string
	holds func(r *managerRun) error
}

// noController is what fails without a rule the informers need: the
// manager's controllers start only once every informer of its cache has
// synced (controller-runtime's Kind source waits for the whole cache), so
// one informer that cannot list keeps every controller from starting; after
// the cache sync timeout (two minutes) the manager exits.
var noController = []state{noControllerStarted, noPermissionStatus, noAccountStatus, urlUntouched, noStatementWritten, policyUntouched}

var cases = []ruleCase{
	{
		target: target{"", "namespaces"},
		fails: "no controller starts: the Namespace informer (the access rules' namespaceSelector) cannot list; " +
			"no status, no Event, no write to Lambda",
		refused:  `cannot list resource "namespaces"`,
		progress: refusedAgain,
		broken:   noController,
	},
	{
		target:   target{"events.k8s.io", "events"},
		fails:    "no Events: the LambdaPermissions are Ready, but `kubectl describe` shows no Added",
		refused:  `cannot create resource "events" in API group "events.k8s.io"`,
		progress: samplesReady,
		broken:   []state{noPermissionEvents},
	},
	{
		target:   target{"lambda.permissions.dev", "lambdafunctionurlpermissions"},
		fails:    "no controller starts: the LambdaFunctionURLPermission informer cannot list",
		refused:  `cannot list resource "lambdafunctionurlpermissions"`,
		progress: refusedAgain,
		broken:   noController,
	},
	{
		target: target{"lambda.permissions.dev", "lambdafunctionurlpermissions/finalizers"},
		fails: "a function URL grant cannot create its two LambdaPermissions: their controller reference blocks the " +
			"owner's deletion, which OwnerReferencesPermissionEnforcement allows only to who may update the owner's finalizers",
		refused:  `cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on`,
		progress: urlFinalized,
		broken:   []state{noURLChildren},
	},
	{
		target:   target{"lambda.permissions.dev", "lambdafunctionurlpermissions/status"},
		fails:    "a function URL grant never reports its state: its two LambdaPermissions are Ready, it has no status",
		refused:  `cannot patch resource "lambdafunctionurlpermissions/status"`,
		progress: urlChildrenReady,
		broken:   []state{noURLStatus},
	},
	{
		target:   target{"lambda.permissions.dev", "lambdapermissionaccounts/status"},
		fails:    "a LambdaPermissionAccount never reports whether its identity works (no Ready); its LambdaPermissions still are",
		refused:  `cannot patch resource "lambdapermissionaccounts/status"`,
		progress: samplesReady,
		broken:   []state{noAccountStatus},
	},
	{
		target: target{"lambda.permissions.dev", "lambdapermissions/status"},
		fails: "no LambdaPermission gets a status (the statements are written: a new object's first status is its " +
			"outcome, and the checks after it find them in place and write nothing again)",
		refused:  `cannot patch resource "lambdapermissions/status"`,
		progress: samplesFinalized,
		broken:   []state{noPermissionStatus},
	},
	{
		target:   target{"lambda.permissions.dev", "lambdapermissionaccounts"},
		fails:    "no controller starts: the LambdaPermissionAccount informer cannot list",
		refused:  `cannot list resource "lambdapermissionaccounts"`,
		progress: refusedAgain,
		broken:   noController,
	},
	{
		target:   target{"lambda.permissions.dev", "lambdapermissions"},
		fails:    "no controller starts: the LambdaPermission informer cannot list",
		refused:  `cannot list resource "lambdapermissions"`,
		progress: refusedAgain,
		broken:   noController,
	},
	{
		target: target{"lambda.permissions.dev", "lambdaresourcepolicies"},
		fails: "no controller starts: the LambdaResourcePolicy informer (which the LambdaPermission controller's " +
			"policy-owner index needs too) cannot list",
		refused:  `cannot list resource "lambdaresourcepolicies"`,
		progress: refusedAgain,
		broken:   noController,
	},
	{
		target: target{"lambda.permissions.dev", "lambdaresourcepolicies/status"},
		fails: "a LambdaResourcePolicy never gets a status (its policy is written: a new object's first status is " +
			"its outcome); the LambdaPermissions are Ready",
		refused:  `cannot patch resource "lambdaresourcepolicies/status"`,
		progress: check{"the LambdaResourcePolicy has its finalizer and the samples are Ready", both(policyFinalized, samplesReady)},
		broken:   []state{noPolicyStatus},
	},
	{
		leaderElection: true,
		target:         target{"coordination.k8s.io", "leases"},
		fails:          "no replica becomes leader, so no controller starts: no status, no write",
		refused:        `cannot get resource "leases"`,
		progress:       refusedAgain,
		broken:         append([]state{noLease}, noController...),
	},
	{
		leaderElection: true,
		target:         target{"", "events"},
		fails:          "no LeaderElection Event on the Lease (who became leader, when); the operator works",
		refused:        `cannot create resource "events" in API group ""`,
		progress:       check{"the lease is held and the samples are Ready", both(leaseHeld, samplesReady)},
		broken:         []state{noLeaderElectionEvent},
	},
}

// refusedAgain: the manager retried what it was refused (a reflector, or
// leader election), and was refused again. By then a manager with every
// rule has long brought the samples to Ready (about a second here).
var refusedAgain = check{what: "the refusal repeated"}

func caseFor(leaderElection bool, t target) *ruleCase {
	for i := range cases {
		if cases[i].leaderElection == leaderElection && cases[i].target == t {
			return &cases[i]
		}
	}
	return nil
}

// testWithout takes target away from role, runs the manager and waits for
// the case's refusal and progress, then checks the broken behaviour.
func testWithout(t *testing.T, spec managerSpecification, role installedRole, target target, c *ruleCase) {
	withoutRule(t, role, target)
	run := startManager(t, spec)
	run.waitFor(t, fmt.Sprintf("the manager to log %q and %s", c.refused, c.progress.what), failureTimeout, func() (bool, error) {
		if c.progress.ok == nil { // refusedAgain
			return run.log.count(c.refused) >= 2, nil
		}
		if _, refused := run.log.find(c.refused); !refused {
			return false, nil
		}
		return c.progress.ok(run)
	})
	line, _ := run.log.find(c.refused)
	t.Logf("refused: %s", line)
	for _, s := range c.broken {
		if err := s.holds(run); err != nil {
			t.Errorf("without %s, %s should hold: %v", target, s.what, err)
		}
	}
	run.kill(t)
}

// --- checks ---

var (
	accountReady = check{"LambdaPermissionAccount orders is Ready", func(r *managerRun) (bool, error) {
		account := &lambdav1alpha1.LambdaPermissionAccount{}
		if err := kube.Get(r.ctx(), client.ObjectKey{Name: "orders"}, account); err != nil {
			return false, err
		}
		return ready(account.Status.Conditions, account.Generation), nil
	}}
	samplesReady = check{"every sample LambdaPermission is Ready", func(r *managerRun) (bool, error) {
		for _, name := range r.samplePermissions {
			p, err := r.permission(name)
			if err != nil || !ready(p.Status.Conditions, p.Generation) {
				return false, err
			}
		}
		return true, nil
	}}
	// The finalizer checks see the admission policy's finalizer as well as
	// the operator's: the progress they show is the refusal logged with it.
	samplesFinalized = check{"every sample LambdaPermission has its finalizer", func(r *managerRun) (bool, error) {
		for _, name := range r.samplePermissions {
			p, err := r.permission(name)
			if err != nil || !slices.Contains(p.Finalizers, finalizer) {
				return false, err
			}
		}
		return true, nil
	}}
	urlFinalized = check{"the function URL grant has its finalizer", func(r *managerRun) (bool, error) {
		url, err := r.url()
		return err == nil && slices.Contains(url.Finalizers, urlFinalizer), err
	}}
	urlChildrenCreated = check{"the function URL grant's two LambdaPermissions exist", func(r *managerRun) (bool, error) {
		children, err := r.urlChildren()
		return len(children) == 2, err
	}}
	urlChildrenReady = check{"the function URL grant's two LambdaPermissions are Ready", func(r *managerRun) (bool, error) {
		children, err := r.urlChildren()
		if err != nil || len(children) != 2 {
			return false, err
		}
		for _, c := range children {
			if !ready(c.Status.Conditions, c.Generation) {
				return false, nil
			}
		}
		return true, nil
	}}
	urlReady = check{"the function URL grant is Ready", func(r *managerRun) (bool, error) {
		url, err := r.url()
		return err == nil && ready(url.Status.Conditions, url.Generation), err
	}}
	policyFinalized = check{"the LambdaResourcePolicy has its finalizer", func(r *managerRun) (bool, error) {
		p, err := r.resourcePolicy()
		return err == nil && slices.Contains(p.Finalizers, policyFinalizer), err
	}}
	policySynced = check{"the LambdaResourcePolicy is Ready (Synced)", func(r *managerRun) (bool, error) {
		p, err := r.resourcePolicy()
		if err != nil || !ready(p.Status.Conditions, p.Generation) {
			return false, err
		}
		return meta.FindStatusCondition(p.Status.Conditions, lambdav1alpha1.ConditionReady).Reason == lambdav1alpha1.ReasonSynced, nil // lambdav1alpha1.ReasonSynced
	}}
	managerReady = check{"the manager's readiness probe answers", func(r *managerRun) (bool, error) {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + r.probeAddr + "/readyz")
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}}
	leaseHeld = check{"the manager holds the leader election Lease", func(r *managerRun) (bool, error) {
		lease := &coordinationv1.Lease{}
		err := kube.Get(r.ctx(), client.ObjectKey{Namespace: releaseNS, Name: leaseName}, lease)
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", err
	}}
	leaderElectionEvent = check{"a LeaderElection Event on the Lease", func(r *managerRun) (bool, error) {
		events, err := clientset.CoreV1().Events(releaseNS).List(r.ctx(), metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.Reason == "LeaderElection" && e.InvolvedObject.Kind == "Lease" && e.InvolvedObject.Name == leaseName {
				return true, nil
			}
		}
		return false, nil
	}}

	noControllerStarted = state{"no controller has started its workers", func(r *managerRun) error {
		if lines := r.log.matching(startingWorkers); len(lines) > 0 {
			return fmt.Errorf("the manager logged %s", lines[0])
		}
		return nil
	}}
	noPermissionStatus = state{"no LambdaPermission has a status", func(r *managerRun) error {
		var list lambdav1alpha1.LambdaPermissionList
		if err := kube.List(r.ctx(), &list, client.InNamespace(watched)); err != nil {
			return err
		}
		for _, p := range list.Items {
			if len(p.Status.Conditions) > 0 {
				return fmt.Errorf("LambdaPermission %s has conditions %+v", p.Name, p.Status.Conditions)
			}
		}
		return nil
	}}
	noStatementWritten = state{"Lambda got no write for a LambdaPermission (the samples' functions have no policy)", func(r *managerRun) error {
		for _, fn := range []string{myFunction, ordersAPI} {
			if policy, _, ok := r.emulator.Policy(fn, ""); ok {
				return fmt.Errorf("%s has the policy %s", fn, policy)
			}
		}
		return nil
	}}
	noPermissionEvents = state{"no Event about any LambdaPermission", func(r *managerRun) error {
		events, err := clientset.EventsV1().Events(watched).List(r.ctx(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Regarding.Kind == "LambdaPermission" {
				return fmt.Errorf("Event %s about %s: %s %s", e.Name, e.Regarding.Name, e.Reason, e.Note)
			}
		}
		return nil
	}}
	// The chart's MutatingAdmissionPolicy gives each object its finalizer
	// when it is created: that the operator did not touch an object shows
	// in the audit log, as no write of its to the object's kind.
	urlUntouched = state{"the operator wrote nothing to the function URL grant (no finalizer, no status), which has no LambdaPermissions", func(r *managerRun) error {
		url, err := r.url()
		if err != nil {
			return err
		}
		children, err := r.urlChildren()
		if err != nil {
			return err
		}
		if writes := r.writesTo("lambdafunctionurlpermissions"); len(writes) > 0 || len(url.Status.Conditions) > 0 || len(children) > 0 {
			return fmt.Errorf("the operator's writes %+v, conditions %+v, %d LambdaPermissions", writes, url.Status.Conditions, len(children))
		}
		return nil
	}}
	noURLChildren = state{"the function URL grant has no LambdaPermissions", func(r *managerRun) error {
		children, err := r.urlChildren()
		if err == nil && len(children) > 0 {
			err = fmt.Errorf("it has %d", len(children))
		}
		return err
	}}
	noURLStatus = state{"the function URL grant has no status", func(r *managerRun) error {
		url, err := r.url()
		if err == nil && len(url.Status.Conditions) > 0 {
			err = fmt.Errorf("conditions %+v", url.Status.Conditions)
		}
		return err
	}}
	noPolicyStatus = state{"the LambdaResourcePolicy has no status", func(r *managerRun) error {
		p, err := r.resourcePolicy()
		if err == nil && (len(p.Status.Conditions) > 0 || p.Status.ObservedGeneration != 0) {
			err = fmt.Errorf("observedGeneration %d, conditions %+v", p.Status.ObservedGeneration, p.Status.Conditions)
		}
		return err
	}}
	noPolicyWritten = state{"the LambdaResourcePolicy's function has no policy", func(r *managerRun) error {
		if policy, _, ok := r.emulator.Policy(ownedFunction, ""); ok {
			return fmt.Errorf("%s has the policy %s", ownedFunction, policy)
		}
		return nil
	}}
	policyUntouched = state{"the operator wrote nothing to the LambdaResourcePolicy (no finalizer, no status), and its function has no policy", func(r *managerRun) error {
		p, err := r.resourcePolicy()
		if err != nil {
			return err
		}
		if writes := r.writesTo("lambdaresourcepolicies"); len(writes) > 0 || len(p.Status.Conditions) > 0 {
			return fmt.Errorf("the operator's writes %+v, conditions %+v", writes, p.Status.Conditions)
		}
		return noPolicyWritten.holds(r)
	}}
	noAccountStatus = state{"LambdaPermissionAccount orders has no status", func(r *managerRun) error {
		account := &lambdav1alpha1.LambdaPermissionAccount{}
		err := kube.Get(r.ctx(), client.ObjectKey{Name: "orders"}, account)
		if err == nil && len(account.Status.Conditions) > 0 {
			err = fmt.Errorf("conditions %+v", account.Status.Conditions)
		}
		return err
	}}
	noLease = state{"there is no leader election Lease", func(r *managerRun) error {
		err := kube.Get(r.ctx(), client.ObjectKey{Namespace: releaseNS, Name: leaseName}, &coordinationv1.Lease{})
		if err == nil {
			return errors.New("the Lease exists")
		}
		return client.IgnoreNotFound(err)
	}}
	noLeaderElectionEvent = state{"there is no LeaderElection Event", func(r *managerRun) error {
		seen, err := leaderElectionEvent.ok(r)
		if err == nil && seen {
			err = errors.New("there is one")
		}
		return err
	}}
)

func both(a, b check) func(r *managerRun) (bool, error) {
	return func(r *managerRun) (bool, error) {
		if ok, err := a.ok(r); !ok || err != nil {
			return false, err
		}
		return b.ok(r)
	}
}

// ready: Ready is True for the object's current generation.
func ready(conditions []metav1.Condition, generation int64) bool {
	c := meta.FindStatusCondition(conditions, lambdav1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == generation
}

// startingWorkers is what controller-runtime logs when a controller starts.
const startingWorkers = `"msg":"Starting workers"`

// controllerNames are the manager's controllers, as it logs them.
var controllerNames = []string{"lambdapermission", "lambdafunctionurlpermission", "lambdapermissionaccount", "lambdaresourcepolicy"}

// converge checks that the operator does all it should with the chart's
// RBAC: the samples, a function URL grant and a LambdaResourcePolicy Ready,
// their statements in Lambda, Events, leader election, and deletion.
func converge(t *testing.T, r *managerRun, m mode) {
	t.Helper()
	for _, c := range []check{samplesReady, accountReady, urlChildrenReady, urlReady, policySynced} {
		r.waitFor(t, c.what, convergeTimeout, func() (bool, error) { return c.ok(r) })
	}
	// Synced is reported after the write: the policy is the declared one.
	if sids := r.sids(ownedFunction); !slices.Equal(sids, []string{partnerSid}) {
		t.Errorf("LambdaResourcePolicy %s is Ready, but the policy of %s has the statements %q, want exactly %q",
			resourcePolicy, ownedFunction, sids, partnerSid)
	}
	for _, name := range controllerNames {
		if _, ok := r.log.find(`"msg":"Starting workers","controller":"` + name + `"`); !ok {
			t.Errorf("controller %s did not log that it started its workers: the runs without a rule look for that line", name)
		}
	}
	permissions := r.allPermissions(t)
	for _, p := range permissions {
		if !slices.Contains(r.sids(p.Status.FunctionArn), p.Status.StatementID) {
			t.Errorf("LambdaPermission %s is Ready, but statement %q is not in the policy of %s", p.Name, p.Status.StatementID, p.Status.FunctionArn)
		}
		r.waitFor(t, "an Added Event about LambdaPermission "+p.Name, convergeTimeout, func() (bool, error) {
			events, err := clientset.EventsV1().Events(watched).List(r.ctx(), metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			for _, e := range events.Items {
				if e.Regarding.Kind == "LambdaPermission" && e.Regarding.Name == p.Name && e.Reason == "Added" {
					return true, nil
				}
			}
			return false, nil
		})
	}
	if m.leaderElect {
		for _, c := range []check{leaseHeld, leaderElectionEvent} {
			r.waitFor(t, c.what, convergeTimeout, func() (bool, error) { return c.ok(r) })
		}
	}

	// Deleting: the finalizers let go once the statements are removed, and
	// a function URL grant deletes its LambdaPermissions.
	children, err := r.urlChildren()
	if err != nil {
		t.Fatal(err)
	}
	var gone []string
	for _, p := range append(children, permissions...) {
		if p.Name == xaccount || slices.ContainsFunc(children, func(c lambdav1alpha1.LambdaPermission) bool { return c.Name == p.Name }) {
			if !slices.Contains(gone, p.Status.StatementID) {
				gone = append(gone, p.Status.StatementID)
			}
		}
	}
	for _, obj := range []client.Object{
		&lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Namespace: watched, Name: urlGrant}},
		&lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Namespace: watched, Name: xaccount}},
		&lambdav1alpha1.LambdaResourcePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: watched, Name: resourcePolicy}},
	} {
		if err := kube.Delete(r.ctx(), obj); err != nil {
			t.Fatalf("deleting %s: %v", obj.GetName(), err)
		}
	}
	r.waitFor(t, "the function URL grant, its LambdaPermissions and "+xaccount+" to be gone", convergeTimeout, func() (bool, error) {
		var list lambdav1alpha1.LambdaPermissionList
		if err := kube.List(r.ctx(), &list, client.InNamespace(watched)); err != nil {
			return false, err
		}
		var urls lambdav1alpha1.LambdaFunctionURLPermissionList
		if err := kube.List(r.ctx(), &urls, client.InNamespace(watched)); err != nil {
			return false, err
		}
		return len(list.Items) == len(r.samplePermissions)-1 && len(urls.Items) == 0, nil
	})
	sids := r.sids(myFunction)
	for _, sid := range gone {
		if slices.Contains(sids, sid) {
			t.Errorf("statement %q is still in the policy of my-function after its object was deleted", sid)
		}
	}
	if len(gone) != 3 {
		t.Errorf("deleted %d statements (%q), want 3: xaccount and the function URL grant's two", len(gone), gone)
	}
	// The LambdaResourcePolicy's finalizer lets go once its statement is
	// out; with nothing left, the policy is deleted.
	r.waitFor(t, "LambdaResourcePolicy "+resourcePolicy+" to be gone", convergeTimeout, func() (bool, error) {
		_, err := r.resourcePolicy()
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if policy, _, ok := r.emulator.Policy(ownedFunction, ""); ok {
		t.Errorf("LambdaResourcePolicy %s is gone, but %s still has the policy %s", resourcePolicy, ownedFunction, policy)
	}
}

// --- the chart ---

// install installs (or upgrades to) the chart with a mode's values, and
// waits until the API server serves its CRDs.
func install(t *testing.T, m mode) {
	t.Helper()
	values, err := json.Marshal(chartValues(m)) // JSON is YAML
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, values, 0o600); err != nil {
		t.Fatal(err)
	}
	out := helm(t, "upgrade", "--install", release, chartDir, "--namespace", releaseNS, "--create-namespace", "--values", path)
	t.Logf("helm upgrade --install (%s):\n%s", m.name, firstLines(string(out), 3))
	waitUntil(t, "the chart's CRDs to be served", convergeTimeout, func() (bool, error) {
		for _, list := range []client.ObjectList{&lambdav1alpha1.LambdaPermissionList{},
			&lambdav1alpha1.LambdaFunctionURLPermissionList{}, &lambdav1alpha1.LambdaPermissionAccountList{},
			&lambdav1alpha1.LambdaResourcePolicyList{}} {
			if err := kube.List(t.Context(), list); meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
				return false, nil
			} else if err != nil {
				return false, err
			}
		}
		return true, nil
	})
}

// managerSpecification is how the chart runs the manager, out of a cluster.
type managerSpecification struct {
	args, env  []string
	kubeconfig string // the ServiceAccount's token alone
}

// managerSpec takes the manager container's arguments and environment from
// the Deployment the chart installed, and changes only what a pod has and
// a process on this machine does not:
//   - the metrics and probe addresses (:8080, :8081 in the pod's own network
//     namespace) become free loopback ports;
//   - with --leader-elect, --leader-elect-namespace names the release's
//     namespace, which in a pod the manager reads from its ServiceAccount's
//     mount;
//   - KUBECONFIG holds the ServiceAccount's token, which in a pod the kubelet
//     mounts (the API server's address and CA come with it).
func managerSpec(t *testing.T, m mode) managerSpecification {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := kube.Get(t.Context(), client.ObjectKey{Namespace: releaseNS, Name: fullname}, dep); err != nil {
		t.Fatal(err)
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("the Deployment has %d containers, want the manager alone", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Command) > 0 {
		t.Fatalf("the manager container overrides the image's command: %q", c.Command)
	}
	spec := managerSpecification{args: slices.Clone(c.Args)}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Fatalf("env %s comes from %+v, which a process here does not have", e.Name, e.ValueFrom)
		}
		spec.env = append(spec.env, e.Name+"="+e.Value)
	}
	if len(c.EnvFrom) > 0 {
		t.Fatalf("the manager container has envFrom %+v", c.EnvFrom)
	}
	if got := slices.Contains(spec.args, "--leader-elect"); got != m.leaderElect {
		t.Fatalf("--leader-elect in the Deployment's args is %v, want %v: %q", got, m.leaderElect, spec.args)
	}
	if m.leaderElect {
		spec.args = append(spec.args, "--leader-elect-namespace="+releaseNS)
	}
	spec.kubeconfig = tokenKubeconfig(t, releaseNS, pod.ServiceAccountName)
	t.Logf("the chart runs the manager as ServiceAccount %s/%s with args %q and env %q", releaseNS, pod.ServiceAccountName, spec.args, spec.env)
	return spec
}

// installedRole is one of the release's roles as the API server has it.
type installedRole struct {
	kind, namespace, name string
	leaderElection        bool
	rules                 []rbacv1.PolicyRule
}

// target is one resource of a rule, with its group.
type target struct{ group, resource string }

func (t target) String() string {
	if t.group == "" {
		return t.resource
	}
	return t.group + "/" + t.resource
}

// targets lists the resources the role's rules grant on, in order.
func (r installedRole) targets() []target {
	var targets []target
	for _, rule := range r.rules {
		for _, g := range rule.APIGroups {
			for _, res := range rule.Resources {
				if t := (target{g, res}); !slices.Contains(targets, t) {
					targets = append(targets, t)
				}
			}
		}
	}
	return targets
}

// installedRoles are the release's ClusterRoles and Roles.
func installedRoles(t *testing.T) []installedRole {
	t.Helper()
	selector := client.MatchingLabels{"app.kubernetes.io/instance": release}
	var roles []installedRole
	var clusterRoles rbacv1.ClusterRoleList
	if err := kube.List(t.Context(), &clusterRoles, selector); err != nil {
		t.Fatal(err)
	}
	for _, r := range clusterRoles.Items {
		roles = append(roles, installedRole{kind: "ClusterRole", name: r.Name, rules: r.Rules})
	}
	var namespaced rbacv1.RoleList
	if err := kube.List(t.Context(), &namespaced, selector); err != nil {
		t.Fatal(err)
	}
	for _, r := range namespaced.Items {
		roles = append(roles, installedRole{kind: "Role", namespace: r.Namespace, name: r.Name, rules: r.Rules,
			leaderElection: r.Name == fullname+"-leader-election"})
	}
	for _, r := range roles {
		t.Logf("%s %s/%s: %d rules", r.kind, r.namespace, r.name, len(r.rules))
	}
	return roles
}

// withoutRule takes target out of the role's rules (a rule left with no
// resource goes) until the test ends, and waits until the API server's
// authorizer knows.
func withoutRule(t *testing.T, role installedRole, target target) {
	t.Helper()
	var kept []rbacv1.PolicyRule
	for _, rule := range role.rules {
		if !slices.Contains(rule.APIGroups, target.group) || !slices.Contains(rule.Resources, target.resource) {
			kept = append(kept, rule)
			continue
		}
		if len(rule.APIGroups) != 1 {
			t.Fatalf("rule %+v has several API groups; split it before taking one resource away", rule)
		}
		rule = *rule.DeepCopy()
		rule.Resources = slices.DeleteFunc(rule.Resources, func(r string) bool { return r == target.resource })
		if len(rule.Resources) > 0 {
			kept = append(kept, rule)
		}
	}
	verb := verbOf(role, target)
	setRules(t, role, kept)
	waitForAccess(t, role, target, verb, false)
	t.Cleanup(func() {
		setRules(t, role, role.rules)
		waitForAccess(t, role, target, verb, true)
	})
}

// verbOf is a verb the role grants on target.
func verbOf(role installedRole, target target) string {
	for _, rule := range role.rules {
		if slices.Contains(rule.APIGroups, target.group) && slices.Contains(rule.Resources, target.resource) {
			return rule.Verbs[0]
		}
	}
	panic(fmt.Sprintf("%s %s grants nothing on %s", role.kind, role.name, target))
}

func setRules(t *testing.T, role installedRole, rules []rbacv1.PolicyRule) {
	t.Helper()
	var obj client.Object
	switch role.kind {
	case "ClusterRole":
		obj = &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: role.name}, Rules: rules}
	default:
		obj = &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: role.namespace, Name: role.name}, Rules: rules}
	}
	patch, err := json.Marshal(map[string]any{"rules": rules})
	if err != nil {
		t.Fatal(err)
	}
	// A merge patch replaces the list whole.
	if err := kube.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatalf("setting the rules of %s %s: %v", role.kind, role.name, err)
	}
}

// waitForAccess waits until a SubjectAccessReview of the ServiceAccount
// doing verb on target answers allowed.
func waitForAccess(t *testing.T, role installedRole, target target, verb string, allowed bool) {
	t.Helper()
	resource, subresource, _ := strings.Cut(target.resource, "/")
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "system:serviceaccount:" + releaseNS + ":" + fullname,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNS, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: role.namespace, Verb: verb,
			Group: target.group, Resource: resource, Subresource: subresource},
	}}
	waitUntil(t, fmt.Sprintf("the ServiceAccount's %s on %s to be allowed=%v", verb, target, allowed), failureTimeout, func() (bool, error) {
		answer, err := clientset.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), review, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return answer.Status.Allowed == allowed, nil
	})
}

// --- a manager process ---

// managerRun is one run of bin/manager, against a fresh emulator and fresh
// objects.
type managerRun struct {
	t                 *testing.T
	cmd               *exec.Cmd
	exited            chan struct{}
	exitErr           error
	log               *lineLog
	emulator          *emulator.Server
	probeAddr         string
	auditFrom         int64
	samplePermissions []string // the sample LambdaPermissions' names
}

func startManager(t *testing.T, spec managerSpecification) *managerRun {
	t.Helper()
	r := &managerRun{t: t, log: &lineLog{}, exited: make(chan struct{})}
	r.reset(t)
	metricsAddr, err := controlplane.FreeLocalAddress()
	if err != nil {
		t.Fatal(err)
	}
	if r.probeAddr, err = controlplane.FreeLocalAddress(); err != nil {
		t.Fatal(err)
	}
	args := slices.Clone(spec.args)
	for i, arg := range args {
		switch {
		case strings.HasPrefix(arg, "--metrics-bind-address="):
			args[i] = "--metrics-bind-address=" + metricsAddr
		case strings.HasPrefix(arg, "--health-probe-bind-address="):
			args[i] = "--health-probe-bind-address=" + r.probeAddr
		}
	}
	r.auditFrom = auditOffset(t)
	r.cmd = exec.Command(managerBinary, args...)
	r.cmd.Env = append(slices.Clone(spec.env), "KUBECONFIG="+spec.kubeconfig)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.exitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.kill(t)
		if t.Failed() {
			t.Logf("the manager's last lines:\n%s", r.log.tail(40))
		}
	})
	return r
}

// reset deletes every object of the project's kinds (taking their
// finalizers off), the Events and the Lease, puts a fresh emulator with
// the three functions behind the emulator's address, and creates the
// samples, a function URL grant and a LambdaResourcePolicy.
func (r *managerRun) reset(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	lists := []client.ObjectList{&lambdav1alpha1.LambdaFunctionURLPermissionList{}, &lambdav1alpha1.LambdaResourcePolicyList{},
		&lambdav1alpha1.LambdaPermissionList{}, &lambdav1alpha1.LambdaPermissionAccountList{}}
	for _, list := range lists {
		if err := kube.List(ctx, list); err != nil {
			t.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range items {
			obj := item.(client.Object)
			if len(obj.GetFinalizers()) > 0 {
				err := kube.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`)))
				if client.IgnoreNotFound(err) != nil {
					t.Fatal(err)
				}
			}
			if err := kube.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				t.Fatal(err)
			}
		}
	}
	waitUntil(t, "the previous run's objects to be gone", failureTimeout, func() (bool, error) {
		for _, list := range lists {
			if err := kube.List(ctx, list); err != nil {
				return false, err
			}
			if meta.LenList(list) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
	for _, ns := range []string{watched, releaseNS} {
		if err := kube.DeleteAllOf(ctx, &corev1.Event{}, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
	}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: releaseNS, Name: leaseName}}
	if err := kube.Delete(ctx, lease); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}

	samples := readSamples(t)
	r.emulator = newEmulator(t, samples)
	for _, sample := range samples {
		createWhenServed(t, sample)
		if sample.GetKind() == "LambdaPermission" {
			r.samplePermissions = append(r.samplePermissions, sample.GetName())
		}
	}
	url := &lambdav1alpha1.LambdaFunctionURLPermission{
		ObjectMeta: metav1.ObjectMeta{Namespace: watched, Name: urlGrant},
		Spec:       lambdav1alpha1.LambdaFunctionURLPermissionSpec{FunctionName: "my-function", AuthType: "AWS_IAM", Principal: "223456789012"},
	}
	createWhenServed(t, url)
	owned := &lambdav1alpha1.LambdaResourcePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: watched, Name: resourcePolicy},
		Spec: lambdav1alpha1.LambdaResourcePolicySpec{
			FunctionName: "owned-function",
			Policy: lambdav1alpha1.ResourcePolicyDocument{Statement: []lambdav1alpha1.ResourcePolicyStatement{{
				Sid:       partnerSid,
				Effect:    "Allow",
				Principal: apiextensionsv1.JSON{Raw: []byte(`{"AWS":"111122223333"}`)},
				Action:    apiextensionsv1.JSON{Raw: []byte(`"lambda:InvokeFunction"`)},
			}}},
		},
	}
	createWhenServed(t, owned)
}

// createWhenServed creates obj. Right after helm installs the CRDs and the
// chart's mutating admission policy, the API server refuses a create of
// the new kinds for a moment (503: the policy's dispatcher has no type
// converter for the kind yet), though a List of them is served: the create
// waits for that, and fails on anything else.
func createWhenServed(t *testing.T, obj client.Object) {
	t.Helper()
	kind := obj.GetObjectKind().GroupVersionKind().Kind // a sample's; a typed object leaves it empty
	if kind == "" {
		kind = fmt.Sprintf("%T", obj)
	}
	what := fmt.Sprintf("creating %s %s", kind, obj.GetName())
	waitUntil(t, what, convergeTimeout, func() (bool, error) {
		err := kube.Create(t.Context(), obj)
		if apierrors.IsServiceUnavailable(err) || meta.IsNoMatchError(err) {
			return false, nil
		}
		return err == nil, err
	})
}

// newEmulator starts an emulator with the samples' LambdaPermissionAccount's
// role and the samples' two functions, as make demo does, and the
// LambdaResourcePolicy's, and puts it behind lambdaURL.
func newEmulator(t *testing.T, samples []*unstructured.Unstructured) *emulator.Server {
	t.Helper()
	var roles []emulator.Role
	for _, s := range samples {
		if s.GetKind() != "LambdaPermissionAccount" {
			continue
		}
		roleARN, _, _ := unstructured.NestedString(s.Object, "spec", "roleArn")
		externalID, _, _ := unstructured.NestedString(s.Object, "spec", "externalID")
		roles = append(roles, emulator.Role{ARN: roleARN, ExternalID: externalID, TrustedAccounts: []string{ownAccount}})
	}
	e := emulator.New(emulator.Config{Region: region, AccountID: ownAccount, Roles: roles})
	lambdaFront.current.Store(e)
	for _, arn := range []string{myFunction, ordersAPI, ownedFunction} {
		parts := strings.Split(arn, ":") // arn:aws:lambda:region:account:function:name
		account, name := parts[4], parts[6]
		accessKey, secretKey := "charts-rbac", "charts-rbac"
		if account != ownAccount {
			accessKey, secretKey = e.AccessKeyFor(account)
		}
		lambdaClient := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(lambdaURL),
			Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")})
		out, err := lambdaClient.CreateFunction(t.Context(), &lambda.CreateFunctionInput{
			FunctionName: aws.String(name), Runtime: lambdatypes.RuntimePython312, Handler: aws.String("index.handler"),
			Role: aws.String("arn:aws:iam::" + account + ":role/charts-rbac"),
			Code: &lambdatypes.FunctionCode{ZipFile: []byte("charts-rbac")},
		})
		if err != nil {
			t.Fatalf("creating the function %s: %v", arn, err)
		}
		if aws.ToString(out.FunctionArn) != arn {
			t.Fatalf("created %s, want %s", aws.ToString(out.FunctionArn), arn)
		}
	}
	return e
}

// readSamples parses the resources config/samples/kustomization.yaml lists.
func readSamples(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	dir := filepath.Join(root, "config", "samples")
	var kustomization struct {
		Resources []string `json:"resources"`
	}
	if err := utilyaml.Unmarshal(mustRead(t, filepath.Join(dir, "kustomization.yaml")), &kustomization); err != nil {
		t.Fatal(err)
	}
	var samples []*unstructured.Unstructured
	for _, resource := range kustomization.Resources {
		obj := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(mustRead(t, filepath.Join(dir, resource)), &obj.Object); err != nil {
			t.Fatalf("%s: %v", resource, err)
		}
		if ns := obj.GetNamespace(); ns != "" && ns != watched {
			t.Fatalf("%s is in namespace %s; this test watches %s", resource, ns, watched)
		}
		samples = append(samples, obj)
	}
	return samples
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// waitFor polls cond until it holds, failing the test after timeout or when
// the manager exits.
func (r *managerRun) waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, error)) {
	t.Helper()
	started := time.Now()
	deadline := started.Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			t.Logf("%s after %s", what, time.Since(started).Round(10*time.Millisecond))
			return
		}
		select {
		case <-r.exited:
			t.Fatalf("waiting for %s: the manager exited (%v)", what, r.exitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
	}
}

// waitUntil polls cond until it holds, failing the test after timeout.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops the manager as Kubernetes stops a pod (SIGTERM) and expects a
// clean exit.
func (r *managerRun) stop(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
		if r.exitErr != nil {
			t.Errorf("the manager exited with %v after SIGTERM", r.exitErr)
		}
	case <-time.After(stopTimeout):
		t.Errorf("the manager did not stop within %s of SIGTERM", stopTimeout)
		r.kill(t)
	}
}

// kill ends the manager at once (a run that only had to show a failure).
func (r *managerRun) kill(*testing.T) {
	select {
	case <-r.exited:
		return
	default:
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
}

// requests are the requests the run's manager made, from the audit log.
func (r *managerRun) requests(t *testing.T) []request {
	t.Helper()
	user := "system:serviceaccount:" + releaseNS + ":" + fullname
	var mine []request
	for _, req := range requestsSince(t, r.auditFrom) {
		if req.user == user {
			mine = append(mine, req)
		}
	}
	if len(mine) == 0 {
		t.Errorf("the audit log has no request of %s: is the manager running as the ServiceAccount?", user)
	}
	return mine
}

// writesTo are the run's manager's writes (create, update, patch) to
// resource of lambda.permissions.dev or a subresource of it.
func (r *managerRun) writesTo(resource string) []request {
	var writes []request
	for _, req := range r.requests(r.t) {
		if req.group == lambdav1alpha1.GroupVersion.Group && strings.Split(req.resource, "/")[0] == resource &&
			slices.Contains([]string{"create", "update", "patch"}, req.verb) {
			writes = append(writes, req)
		}
	}
	return writes
}

func (r *managerRun) ctx() context.Context { return r.t.Context() }

func (r *managerRun) permission(name string) (*lambdav1alpha1.LambdaPermission, error) {
	p := &lambdav1alpha1.LambdaPermission{}
	return p, kube.Get(r.ctx(), client.ObjectKey{Namespace: watched, Name: name}, p)
}

func (r *managerRun) url() (*lambdav1alpha1.LambdaFunctionURLPermission, error) {
	url := &lambdav1alpha1.LambdaFunctionURLPermission{}
	return url, kube.Get(r.ctx(), client.ObjectKey{Namespace: watched, Name: urlGrant}, url)
}

func (r *managerRun) resourcePolicy() (*lambdav1alpha1.LambdaResourcePolicy, error) {
	p := &lambdav1alpha1.LambdaResourcePolicy{}
	return p, kube.Get(r.ctx(), client.ObjectKey{Namespace: watched, Name: resourcePolicy}, p)
}

func (r *managerRun) mustURL(t *testing.T) *lambdav1alpha1.LambdaFunctionURLPermission {
	url, err := r.url()
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// urlChildren are the LambdaPermissions the function URL grant controls.
func (r *managerRun) urlChildren() ([]lambdav1alpha1.LambdaPermission, error) {
	url, err := r.url()
	if err != nil {
		return nil, err
	}
	var list lambdav1alpha1.LambdaPermissionList
	if err := kube.List(r.ctx(), &list, client.InNamespace(watched)); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list.Items, func(p lambdav1alpha1.LambdaPermission) bool { return !metav1.IsControlledBy(&p, url) }), nil
}

func (r *managerRun) allPermissions(t *testing.T) []lambdav1alpha1.LambdaPermission {
	var list lambdav1alpha1.LambdaPermissionList
	if err := kube.List(r.ctx(), &list, client.InNamespace(watched)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// sids are the Sids of a function's policy in the emulator.
func (r *managerRun) sids(functionARN string) []string {
	policy, _, ok := r.emulator.Policy(functionARN, "")
	if !ok {
		return nil
	}
	var document struct {
		Statement []struct{ Sid string }
	}
	if err := json.Unmarshal([]byte(policy), &document); err != nil {
		r.t.Fatalf("the policy of %s: %v", functionARN, err)
	}
	var sids []string
	for _, s := range document.Statement {
		sids = append(sids, s.Sid)
	}
	return sids
}

func firstLines(text string, n int) string {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "")
}
