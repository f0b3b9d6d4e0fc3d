//go:build integration && soak

package soak

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

// state is the soak's objects as the API server stores them now.
type state struct {
	permissions []lambdav1alpha1.LambdaPermission
	urls        []lambdav1alpha1.LambdaFunctionURLPermission
	lrps        []lambdav1alpha1.LambdaResourcePolicy
}

func listObjects(t *testing.T) state {
	t.Helper()
	var p lambdav1alpha1.LambdaPermissionList
	var u lambdav1alpha1.LambdaFunctionURLPermissionList
	var r lambdav1alpha1.LambdaResourcePolicyList
	for _, list := range []client.ObjectList{&p, &u, &r} {
		if err := kube.List(ctx, list); err != nil {
			t.Fatal(err)
		}
	}
	return state{p.Items, u.Items, r.Items}
}

func (s state) count() int { return len(s.permissions) + len(s.urls) + len(s.lrps) }

// notReady names every object that is being deleted, or is not Ready at
// its generation.
func (s state) notReady() []string {
	var out []string
	check := func(kind string, obj metav1.Object, conditions []metav1.Condition) {
		ready := meta.FindStatusCondition(conditions, lambdav1alpha1.ConditionReady)
		switch {
		case obj.GetDeletionTimestamp() != nil:
			out = append(out, fmt.Sprintf("%s %s/%s: being deleted", kind, obj.GetNamespace(), obj.GetName()))
		case ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != obj.GetGeneration():
			why := "no Ready condition"
			if ready != nil {
				why = fmt.Sprintf("Ready %s at generation %d of %d: %s: %s", ready.Status, ready.ObservedGeneration, obj.GetGeneration(), ready.Reason, ready.Message)
			}
			out = append(out, fmt.Sprintf("%s %s/%s: %s", kind, obj.GetNamespace(), obj.GetName(), why))
		}
	}
	for i := range s.permissions {
		check("LambdaPermission", &s.permissions[i], s.permissions[i].Status.Conditions)
	}
	for i := range s.urls {
		check("LambdaFunctionURLPermission", &s.urls[i], s.urls[i].Status.Conditions)
	}
	for i := range s.lrps {
		check("LambdaResourcePolicy", &s.lrps[i], s.lrps[i].Status.Conditions)
	}
	return out
}

// policies reads every function's policy from the emulator's state (no
// call counted, no fault injected).
func policies(c *churner) (map[string]policy.PolicyDocument, []string) {
	docs := map[string]policy.PolicyDocument{}
	var problems []string
	for _, fn := range c.allFunctions() {
		text, _, _ := suite.Emulator.Policy(fn, "")
		doc, err := parse(text)
		if err != nil {
			problems = append(problems, fmt.Sprintf("the policy of %s: %v", fn, err))
		}
		docs[fn] = doc
	}
	return docs, problems
}

// disagreements lists every way the objects and the policies disagree:
//   - each LambdaPermission's statement must be in its function's policy
//     exactly as its status says, and that must be what its spec asks for
//     (rendered as the operator renders it);
//   - every statement of the operator's (its Sid starts with sidPrefix) on
//     those functions must belong to an object, once;
//   - the foreign statements must be what the foreign writer wrote, and
//     nothing else may be there;
//   - each function URL grant must have its two LambdaPermissions as its
//     spec asks, and no LambdaPermission may outlive its grant;
//   - each LambdaResourcePolicy's function must hold exactly the statements
//     it declares, and a function whose LambdaResourcePolicy is gone none.
func disagreements(s state, c *churner, w *foreignWriter) []string {
	docs, problems := policies(c)
	owned := map[string]map[string]string{} // function → Sid → the object that owns it
	for _, fn := range c.functions {
		owned[fn] = map[string]string{}
	}
	for i := range s.permissions {
		problems = append(problems, permissionDisagreements(&s.permissions[i], docs, owned)...)
	}
	for _, fn := range c.functions {
		for _, st := range docs[fn].Statements {
			if _, ok := owned[fn][st.Sid]; strings.HasPrefix(st.Sid, sidPrefix) && !ok {
				problems = append(problems, fmt.Sprintf("%s holds %s, which no LambdaPermission owns: %s", fn, st.Sid, st.Raw))
			} else if !ok && st.Sid != baseSid && !strings.HasPrefix(st.Sid, writerPrefix) {
				problems = append(problems, fmt.Sprintf("%s holds %s, which nobody wrote: %s", fn, st.Sid, st.Raw))
			}
		}
		problems = append(problems, w.differences(fn, docs[fn])...)
	}
	problems = append(problems, urlDisagreements(s)...)
	return append(problems, lrpDisagreements(s, c, docs)...)
}

// permissionDisagreements checks one LambdaPermission's statement, and
// records its Sid in owned.
func permissionDisagreements(p *lambdav1alpha1.LambdaPermission, docs map[string]policy.PolicyDocument, owned map[string]map[string]string) []string {
	name := p.Namespace + "/" + p.Name
	fn := p.Spec.FunctionName
	sid := p.Spec.StatementID
	if sid == "" {
		sid = translate.PrefixedStatementID(sidPrefix, p.Namespace, p.Name)
	}
	if _, ok := owned[fn]; !ok {
		return []string{fmt.Sprintf("LambdaPermission %s is on %s, not on a function of the soak's", name, fn)}
	}
	if other, dup := owned[fn][sid]; dup {
		return []string{fmt.Sprintf("LambdaPermissions %s and %s both own %s on %s", other, name, sid, fn)}
	}
	owned[fn][sid] = name
	target := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: fn}
	want := policy.DesiredStatement(target, translate.PermissionOf(p.Spec, sid)).Render()
	var problems []string
	if p.Status.StatementID != sid {
		problems = append(problems, fmt.Sprintf("LambdaPermission %s: status.statementId is %q, want %q", name, p.Status.StatementID, sid))
	}
	if p.Status.Statement != want {
		problems = append(problems, fmt.Sprintf("LambdaPermission %s: status.statement is %s, but its spec asks for %s", name, p.Status.Statement, want))
	}
	switch st, ok := docs[fn].Find(sid); {
	case !ok:
		problems = append(problems, fmt.Sprintf("LambdaPermission %s: %s is not in the policy of %s", name, sid, fn))
	case st.Raw != p.Status.Statement:
		problems = append(problems, fmt.Sprintf("LambdaPermission %s: the policy of %s holds %s, its status says %s", name, fn, st.Raw, p.Status.Statement))
	}
	return problems
}

// urlDisagreements checks that each function URL grant has the two
// LambdaPermissions its spec asks for, and that every LambdaPermission a
// grant controls belongs to one that is still there.
func urlDisagreements(s state) []string {
	children := map[string]*lambdav1alpha1.LambdaPermission{}
	for i := range s.permissions {
		p := &s.permissions[i]
		if owner := metav1.GetControllerOf(p); owner != nil {
			children[p.Namespace+"/"+p.Name] = p
		}
	}
	var problems []string
	for i := range s.urls {
		url := &s.urls[i]
		for _, want := range translate.FunctionURLPermissions(url, sidPrefix) {
			key := url.Namespace + "/" + want.Name
			child, ok := children[key]
			delete(children, key)
			switch {
			case !ok || !metav1.IsControlledBy(child, url):
				problems = append(problems, fmt.Sprintf("LambdaFunctionURLPermission %s/%s lacks its LambdaPermission %s", url.Namespace, url.Name, want.Name))
			case child.Spec.Principal != want.Spec.Principal || child.Spec.StatementID != want.Spec.StatementID || child.Spec.Action != want.Spec.Action:
				problems = append(problems, fmt.Sprintf("LambdaPermission %s grants %s %s as %s; its function URL grant asks for %s %s as %s", key,
					child.Spec.Principal, child.Spec.Action, child.Spec.StatementID, want.Spec.Principal, want.Spec.Action, want.Spec.StatementID))
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(children)) {
		problems = append(problems, fmt.Sprintf("LambdaPermission %s outlives the function URL grant that made it", key))
	}
	return problems
}

// lrpDisagreements checks the functions whose policy a
// LambdaResourcePolicy owns: exactly its statements, as declared (the same
// grant, however written), or none once it is gone.
func lrpDisagreements(s state, c *churner, docs map[string]policy.PolicyDocument) []string {
	declared := map[string]*lambdav1alpha1.LambdaResourcePolicy{}
	for i := range s.lrps {
		declared[s.lrps[i].Spec.FunctionName] = &s.lrps[i]
	}
	var problems []string
	for _, slot := range c.lrps {
		fn, doc := slot.function, docs[slot.function]
		want := map[string]policy.Statement{}
		if lrp := declared[fn]; lrp != nil {
			target := policy.FunctionRef{Partition: "aws", Region: region, AccountID: account, Name: fn}
			statements, err := translate.DeclaredStatements(lrp.Spec.Policy, target)
			if err != nil {
				problems = append(problems, fmt.Sprintf("LambdaResourcePolicy %s/%s: %v", lrp.Namespace, lrp.Name, err))
			}
			for _, st := range statements {
				want[st.Sid] = st
			}
		}
		held := map[string]bool{}
		for _, st := range doc.Statements {
			held[st.Sid] = true
			switch w, ok := want[st.Sid]; {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s holds %s, which its LambdaResourcePolicy does not declare: %s", fn, st.Sid, st.Raw))
			case !policy.SameGrant(w, st.Statement):
				problems = append(problems, fmt.Sprintf("%s holds %s as %s, not as declared (%s)", fn, st.Sid, st.Raw,
					strings.Join(policy.GrantDifferences(w, st.Statement), ", ")))
			}
		}
		for _, sid := range slices.Sorted(maps.Keys(want)) {
			if !held[sid] {
				problems = append(problems, fmt.Sprintf("%s lacks %s, which its LambdaResourcePolicy declares", fn, sid))
			}
		}
	}
	return problems
}

// converge waits until every object is Ready at its generation and none
// is being deleted (for at most ready), and then until the objects and the
// policies agree as well (for at most agree, from the same start). Past a
// bound it fails the test with what is still wrong.
func converge(t *testing.T, what string, c *churner, w *foreignWriter, op *operator, ready, agree time.Duration) {
	t.Helper()
	started := time.Now()
	if !waitFor(t, what+": every object Ready", op, started, ready, func(s state) []string { return s.notReady() }) {
		return
	}
	waitFor(t, what+": the objects and the policies in agreement", op, started, agree, func(s state) []string {
		return append(s.notReady(), disagreements(s, c, w)...)
	})
}

// waitFor polls the objects every second until problems finds none, and
// reports whether it did within bound of started.
func waitFor(t *testing.T, what string, op *operator, started time.Time, bound time.Duration, problems func(state) []string) bool {
	t.Helper()
	reported := time.Now()
	for {
		s := listObjects(t)
		found := problems(s)
		if len(found) == 0 {
			logf("%s (%d objects) after %s (bound %s)", what, s.count(), time.Since(started).Round(100*time.Millisecond), bound)
			return true
		}
		if why := op.Exited(); why != "" {
			t.Fatalf("%s: %s", what, why)
		}
		if time.Since(started) > bound {
			t.Errorf("%s: not after %s, %d problems:\n  %s", what, bound, len(found), strings.Join(found[:min(30, len(found))], "\n  "))
			return false
		}
		if time.Since(reported) >= 15*time.Second {
			reported = time.Now()
			logf("  %s, after %s: %d to go, such as %s", what, time.Since(started).Round(time.Second), len(found), found[0])
		}
		time.Sleep(time.Second)
	}
}
