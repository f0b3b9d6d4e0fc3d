//go:build integration && soak

package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

// The population the churn keeps steady, and how fast it turns over: every
// tick it deletes permissionsPerTick LambdaPermissions, creates as many new
// ones and changes changesPerTick specs; every urlEvery ticks it does the
// same with one function URL grant, and every lrpEvery ticks it creates,
// changes or deletes a LambdaResourcePolicy.
const (
	permissions        = 300
	urlGrants          = 15
	functions          = 10
	tick               = 3 * time.Second
	permissionsPerTick = 2
	changesPerTick     = 3
	urlEvery           = 3
	lrpEvery           = 5
)

var namespaces = []string{"soak-a", "soak-b", "soak-c"}

// churner creates, changes and deletes the soak's objects. Only its own
// goroutine touches its fields, but ops, while it runs.
type churner struct {
	rng       *rand.Rand
	functions []string // the LambdaPermissions' and function URL grants'
	seq       int      // numbers the objects, and the versions of their specs

	permissions []client.ObjectKey // live, not being deleted; the function URL grants' own are not here
	grants      map[client.ObjectKey]int
	urls        []client.ObjectKey
	lrps        []*lrpSlot

	ops atomic.Int64 // creates, changes and deletes made
}

// lrpSlot is a function of its own whose whole policy a
// LambdaResourcePolicy owns, when present is set.
type lrpSlot struct {
	function string
	key      client.ObjectKey
	present  bool
	version  int  // of the S3 bucket its first statement names
	second   bool // whether it declares a second statement
}

func newChurner(seed uint64) *churner {
	c := &churner{rng: rand.New(rand.NewPCG(seed, seed)), grants: map[client.ObjectKey]int{}}
	for i := range functions {
		c.functions = append(c.functions, fmt.Sprintf("soak-fn-%02d", i))
	}
	for i := range 2 {
		c.lrps = append(c.lrps, &lrpSlot{function: fmt.Sprintf("soak-owned-%d", i),
			key: client.ObjectKey{Namespace: namespaces[i], Name: fmt.Sprintf("owned-%d", i)}})
	}
	return c
}

func (c *churner) operations() int { return int(c.ops.Load()) }

// setUp creates the namespaces and the functions.
func (c *churner) setUp(t *testing.T) {
	t.Helper()
	for _, ns := range namespaces {
		if err := kube.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, fn := range c.allFunctions() {
		if _, err := suite.Outside.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fn), Runtime: types.RuntimePython312,
			Handler: aws.String("index.handler"), Role: aws.String("arn:aws:iam::" + account + ":role/fn"),
			Code: &types.FunctionCode{ZipFile: []byte("code")}}); err != nil {
			t.Fatalf("CreateFunction %s: %v", fn, err)
		}
	}
}

func (c *churner) allFunctions() []string {
	all := append([]string(nil), c.functions...)
	for _, s := range c.lrps {
		all = append(all, s.function)
	}
	return all
}

// populate creates the first population.
func (c *churner) populate(t *testing.T) {
	t.Helper()
	for range permissions {
		c.createPermission(t)
	}
	for range urlGrants {
		c.createURL(t)
	}
	for _, s := range c.lrps {
		c.lrpStep(t, s)
	}
}

// run churns every tick until ctx ends.
func (c *churner) run(ctx context.Context, t *testing.T) {
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		for range permissionsPerTick {
			c.deletePermission(t)
			c.createPermission(t)
		}
		for range changesPerTick {
			c.changePermission(t)
		}
		if n%urlEvery == 0 {
			c.deleteURL(t)
			c.createURL(t)
			c.changeURL(t)
		}
		if n%lrpEvery == 0 {
			c.lrpStep(t, c.lrps[c.rng.IntN(len(c.lrps))])
		}
	}
}

// createPermission creates a LambdaPermission on a random function: the
// grants vary as users' do (a bucket, an account, a role, an EventBridge
// rule), and every fifth names its Sid, the others get one derived from
// the namespace and name (with the operator's prefix).
func (c *churner) createPermission(t *testing.T) {
	c.seq++
	i := c.seq
	key := client.ObjectKey{Namespace: namespaces[i%len(namespaces)], Name: fmt.Sprintf("p-%06d", i)}
	spec := lambdav1alpha1.LambdaPermissionSpec{FunctionName: c.functions[c.rng.IntN(len(c.functions))], Action: "lambda:InvokeFunction"}
	if i%5 == 0 {
		spec.StatementID = fmt.Sprintf("%snamed-%06d", sidPrefix, i)
	}
	kind := i % 4
	grant(&spec, kind, i)
	if c.create(t, &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}, Spec: spec}) {
		c.permissions = append(c.permissions, key)
		c.grants[key] = kind
	}
}

// grant sets what a kind of grant grants, in version v.
func grant(spec *lambdav1alpha1.LambdaPermissionSpec, kind, v int) {
	switch kind {
	case 0:
		spec.Principal, spec.SourceArn, spec.SourceAccount = "s3.amazonaws.com", fmt.Sprintf("arn:aws:s3:::soak-uploads-%06d", v), account
	case 1:
		spec.Principal = fmt.Sprintf("%012d", 210000000000+v)
	case 2:
		spec.Principal = fmt.Sprintf("arn:aws:iam::223456789012:role/soak-caller-%06d", v)
	default:
		spec.Principal, spec.SourceArn = "events.amazonaws.com", fmt.Sprintf("arn:aws:events:%s:%s:rule/soak-%06d", region, account, v)
	}
}

// changePermission changes what a random LambdaPermission grants: its
// bucket, account, role or rule.
func (c *churner) changePermission(t *testing.T) {
	if len(c.permissions) == 0 {
		return
	}
	key := c.permissions[c.rng.IntN(len(c.permissions))]
	c.seq++
	var spec lambdav1alpha1.LambdaPermissionSpec
	grant(&spec, c.grants[key], c.seq)
	change := map[string]any{"principal": spec.Principal}
	if spec.SourceArn != "" {
		change["sourceArn"] = spec.SourceArn
	}
	c.patch(t, &lambdav1alpha1.LambdaPermission{}, key, change)
}

func (c *churner) deletePermission(t *testing.T) {
	if len(c.permissions) == 0 {
		return
	}
	i := c.rng.IntN(len(c.permissions))
	key := c.permissions[i]
	c.permissions[i] = c.permissions[len(c.permissions)-1]
	c.permissions = c.permissions[:len(c.permissions)-1]
	delete(c.grants, key)
	c.delete(t, &lambdav1alpha1.LambdaPermission{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}})
}

// createURL creates a function URL grant (two statements, through two
// LambdaPermissions the operator creates) for an account.
func (c *churner) createURL(t *testing.T) {
	c.seq++
	i := c.seq
	key := client.ObjectKey{Namespace: namespaces[i%len(namespaces)], Name: fmt.Sprintf("u-%06d", i)}
	if c.create(t, &lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Spec: lambdav1alpha1.LambdaFunctionURLPermissionSpec{FunctionName: c.functions[c.rng.IntN(len(c.functions))], AuthType: "AWS_IAM",
			Principal: fmt.Sprintf("%012d", 230000000000+i)}}) {
		c.urls = append(c.urls, key)
	}
}

// changeURL grants a random function URL grant to another account.
func (c *churner) changeURL(t *testing.T) {
	if len(c.urls) == 0 {
		return
	}
	c.seq++
	key := c.urls[c.rng.IntN(len(c.urls))]
	c.patch(t, &lambdav1alpha1.LambdaFunctionURLPermission{}, key, map[string]any{"principal": fmt.Sprintf("%012d", 230000000000+c.seq)})
}

func (c *churner) deleteURL(t *testing.T) {
	if len(c.urls) == 0 {
		return
	}
	i := c.rng.IntN(len(c.urls))
	key := c.urls[i]
	c.urls = append(c.urls[:i], c.urls[i+1:]...)
	c.delete(t, &lambdav1alpha1.LambdaFunctionURLPermission{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}})
}

// lrpStep moves a LambdaResourcePolicy on: one that is absent is created
// (once its predecessor is gone); one that is present is deleted a third
// of the time, and otherwise changed: another bucket, and now and then a
// second statement added or taken out.
func (c *churner) lrpStep(t *testing.T, s *lrpSlot) {
	c.seq++
	s.version = c.seq
	switch {
	case !s.present:
		obj := &lambdav1alpha1.LambdaResourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: s.key.Name, Namespace: s.key.Namespace},
			Spec: lambdav1alpha1.LambdaResourcePolicySpec{FunctionName: s.function, Policy: s.document()}}
		err := kube.Create(ctx, obj)
		c.ops.Add(1)
		switch {
		case apierrors.IsAlreadyExists(err): // the last one is still being deleted
		case err != nil:
			t.Errorf("creating LambdaResourcePolicy %s: %v", s.key, err)
		default:
			s.present = true
		}
	case c.rng.IntN(3) == 0:
		s.present = false
		c.delete(t, &lambdav1alpha1.LambdaResourcePolicy{ObjectMeta: metav1.ObjectMeta{Name: s.key.Name, Namespace: s.key.Namespace}})
	default:
		if c.rng.IntN(3) == 0 {
			s.second = !s.second
		}
		c.patch(t, &lambdav1alpha1.LambdaResourcePolicy{}, s.key, map[string]any{"policy": s.document()})
	}
}

// document is the policy the slot's LambdaResourcePolicy declares now.
func (s *lrpSlot) document() lambdav1alpha1.ResourcePolicyDocument {
	js := func(raw string) apiextensionsv1.JSON { return apiextensionsv1.JSON{Raw: []byte(raw)} }
	condition := js(fmt.Sprintf(`{"ArnLike":{"AWS:SourceArn":%q}}`, s.bucket()))
	doc := lambdav1alpha1.ResourcePolicyDocument{Version: "2012-10-17", Statement: []lambdav1alpha1.ResourcePolicyStatement{
		{Sid: sidPrefix + "owned-s3", Effect: "Allow", Principal: js(`{"Service":"s3.amazonaws.com"}`), Action: js(`"lambda:InvokeFunction"`), Condition: &condition},
	}}
	if s.second {
		doc.Statement = append(doc.Statement, lambdav1alpha1.ResourcePolicyStatement{Sid: sidPrefix + "owned-partner", Effect: "Allow",
			Principal: js(`{"AWS":"arn:aws:iam::223456789012:root"}`), Action: js(`"lambda:InvokeFunction"`)})
	}
	return doc
}

func (s *lrpSlot) bucket() string { return fmt.Sprintf("arn:aws:s3:::soak-owned-%06d", s.version) }

func (c *churner) create(t *testing.T, obj client.Object) bool {
	c.ops.Add(1)
	if err := kube.Create(ctx, obj); err != nil {
		t.Errorf("creating %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
		return false
	}
	return true
}

// patch merges spec into the object's spec: no resourceVersion, so that
// the operator's writes to the object never make it conflict.
func (c *churner) patch(t *testing.T, obj client.Object, key client.ObjectKey, spec map[string]any) {
	c.ops.Add(1)
	obj.SetNamespace(key.Namespace)
	obj.SetName(key.Name)
	patch, err := json.Marshal(map[string]any{"spec": spec})
	if err == nil {
		err = kube.Patch(ctx, obj, client.RawPatch(k8stypes.MergePatchType, patch))
	}
	if err != nil {
		t.Errorf("changing %T %s: %v", obj, key, err)
	}
}

func (c *churner) delete(t *testing.T, obj client.Object) {
	c.ops.Add(1)
	if err := kube.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
		t.Errorf("deleting %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
	}
}
