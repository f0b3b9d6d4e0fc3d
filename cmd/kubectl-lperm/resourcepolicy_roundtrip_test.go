//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/harness"
	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/repo"
)

// putWithDeny appends a Deny statement to the policy of function (or its
// qualifier) and puts the whole document back with PutResourcePolicy, as a
// whole-document writer (Terraform's aws_lambda_resource_policy, say) would.
func putWithDeny(t *testing.T, function, qualifier string) {
	t.Helper()
	ctx := context.Background()
	live := readPolicy(t, function, qualifier)
	doc, err := policy.ParsePolicy(live.text)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := policy.ParseFunctionName("arn:aws:lambda:" + region + ":" + account + ":function:" + function)
	if err != nil {
		t.Fatal(err)
	}
	ref.Qualifier = qualifier
	var statements []string
	for _, st := range doc.Statements {
		statements = append(statements, st.Raw)
	}
	statements = append(statements, fmt.Sprintf(`{"Sid":"deny-outside-org","Effect":"Deny","Principal":"*","Action":"lambda:*",`+
		`"Resource":%q,"Condition":{"StringNotEquals":{"aws:PrincipalOrgID":["o-a1b2c3d4e5","o-f6g7h8i9j0"]},"Bool":{"aws:PrincipalIsAWSService":"false"}}}`,
		ref.ResourceARN()))
	text := `{"Version":"2012-10-17","Id":"default","Statement":[` + strings.Join(statements, ",") + `]}`
	if _, err := outside.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{ResourceArn: aws.String(ref.ResourceARN()),
		Policy: aws.String(text), RevisionId: aws.String(live.revision)}); err != nil {
		t.Fatalf("PutResourcePolicy %s: %v", ref.ResourceARN(), err)
	}
}

// withAdmissionPolicy installs config/admission/resource-policy.yaml, the
// ValidatingAdmissionPolicy on LambdaResourcePolicy statements, and waits
// until it refuses a bad one, so that what is applied next passes it too.
func withAdmissionPolicy(t *testing.T, namespace string) {
	t.Helper()
	file := filepath.Join(repo.Root(), "config", "admission", "resource-policy.yaml")
	if _, err := os.Stat(file); err != nil {
		t.Logf("no admission policy checked: %v", err)
		return
	}
	kubectlRun(t, "", "apply", "-f", file)
	t.Cleanup(func() {
		_, _ = exec.Command(kubectl, "--kubeconfig", kubeconfig, "delete", "-f", file).CombinedOutput()
	})
	bad := "apiVersion: lambda.permissions.dev/v1alpha1\nkind: LambdaResourcePolicy\nmetadata: {name: bad, namespace: " + namespace + "}\n" +
		"spec: {functionName: bad, policy: {Statement: [{Sid: a, Effect: Allow, Principal: 5, Action: lambda:InvokeFunction}]}}\n"
	harness.Eventually(t, "the admission policy in force", func() string {
		apply := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "--dry-run=server", "-f", "-")
		apply.Stdin = strings.NewReader(bad)
		if out, err := apply.CombinedOutput(); err == nil || !strings.Contains(string(out), "ValidatingAdmissionPolicy") {
			return fmt.Sprintf("a Principal of 5 is not refused yet (%v): %s", err, out)
		}
		return ""
	})
}

func kubectlRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s\nstdin:\n%s", strings.Join(args, " "), err, out, stdin)
	}
	return string(out)
}

// policySynced says why obj is not yet Ready and Synced with nothing
// pending at its generation, or "".
func policySynced(obj *lambdav1alpha1.LambdaResourcePolicy) string {
	c := meta.FindStatusCondition(obj.Status.Conditions, lambdav1alpha1.ConditionReady)
	switch {
	case c == nil || c.Status != metav1.ConditionTrue || c.Reason != lambdav1alpha1.ReasonSynced || c.ObservedGeneration != obj.Generation:
		return fmt.Sprintf("%s: not Ready/Synced at generation %d: %v", obj.Name, obj.Generation, obj.Status.Conditions)
	case obj.Status.PendingChange != nil:
		return fmt.Sprintf("%s: pendingChange %+v", obj.Name, *obj.Status.PendingChange)
	}
	return ""
}

// The migration recipe "Observe first": the whole policies of a function
// and its version and alias, written by AddPermission (every recorded kind)
// and by PutResourcePolicy (a Deny), imported as LambdaResourcePolicies and
// applied, are found exactly as declared with no write; switched to Manage,
// they still write nothing. The operator runs with the guardrails allowing
// public grants and services without a source (TestMain), as the recorded
// cases hold both.
func TestImportResourcePolicyObservesThenManagesWithoutAWrite(t *testing.T) {
	const function, namespace = "whole", "whole-policies"
	statements := estate(t, function)
	putWithDeny(t, function, "")
	putWithDeny(t, function, "1")
	statements += 2
	qualifiers := map[string]string{"whole": "", "whole.1": "1", "whole.live": "live"} // object name: qualifier
	before := map[string]livePolicy{}
	counts := map[string]int{}
	total := 0
	for name, q := range qualifiers {
		before[name] = readPolicy(t, function, q)
		doc, err := policy.ParsePolicy(before[name].text)
		if err != nil {
			t.Fatal(err)
		}
		counts[name] = len(doc.Statements)
		total += counts[name]
	}
	if total != statements {
		t.Fatalf("the policies hold %d statements, want %d", total, statements)
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatal(err)
	}
	withAdmissionPolicy(t, namespace)

	manifest := lperm(t, exitOK, "import", "--resource-policy", "--function", function, "--namespace", namespace)
	if n := strings.Count(manifest, "\nkind: LambdaResourcePolicy\n"); n != 3 || strings.Contains(manifest, "Cannot be declared") ||
		strings.Count(manifest, "managementPolicy: Observe") != 3 || strings.Count(manifest, "deletionPolicy: Retain") != 3 {
		t.Fatalf("want 3 LambdaResourcePolicies, Observe and Retain, declaring every statement:\n%s", manifest)
	}
	writesBefore := writes()
	kubectlRun(t, manifest, "apply", "-f", "-")

	// Observe: each policy is found exactly as declared.
	var list lambdav1alpha1.LambdaResourcePolicyList
	harness.Eventually(t, "every LambdaResourcePolicy Ready, Synced, nothing pending", func() string {
		if err := k8s.List(context.Background(), &list, client.InNamespace(namespace)); err != nil {
			return err.Error()
		}
		if len(list.Items) != len(qualifiers) {
			return fmt.Sprintf("%d LambdaResourcePolicies, want %d", len(list.Items), len(qualifiers))
		}
		for i := range list.Items {
			if msg := policySynced(&list.Items[i]); msg != "" {
				return msg
			}
		}
		return ""
	})
	for _, obj := range list.Items {
		q, ok := qualifiers[obj.Name]
		if !ok || obj.Spec.Qualifier != q {
			t.Errorf("object %s on qualifier %q; want one of %v", obj.Name, obj.Spec.Qualifier, qualifiers)
			continue
		}
		if int(obj.Status.StatementCount) != counts[obj.Name] || obj.Status.PolicyRevisionID != before[obj.Name].revision || obj.Status.LastChange != nil {
			t.Errorf("%s: status %d statements at revision %q, last change %+v; want %d at %q, none",
				obj.Name, obj.Status.StatementCount, obj.Status.PolicyRevisionID, obj.Status.LastChange, counts[obj.Name], before[obj.Name].revision)
		}
	}
	checkNoWrite := func(when string) {
		t.Helper()
		if n := writes() - writesBefore; n != 0 {
			t.Errorf("%s: %d writes (AddPermission, RemovePermission, PutResourcePolicy, DeleteResourcePolicy), want 0: %v", when, n, emu.Stats().Calls)
		}
		for name, was := range before {
			if now := readPolicy(t, function, qualifiers[name]); now != was {
				t.Errorf("%s: the policy of %s changed:\nwas %+v\nnow %+v", when, name, was, now)
			}
		}
	}
	checkNoWrite("applying the import")

	// audit: while the objects only observe, nothing is managed.
	unmanagedOnFunction := func() (onFunction, all int) {
		var findings []finding
		out := lperm(t, exitOK, "audit", "--function", function, "-o", "json", "--kubeconfig", kubeconfig)
		if err := json.Unmarshal([]byte(out), &findings); err != nil {
			t.Fatalf("audit -o json: %v\n%s", err, out)
		}
		for _, f := range findings {
			if f.Kind == findingUnmanaged {
				all++
				if strings.HasSuffix(f.Resource, ":function:"+function) {
					onFunction++
				}
			}
		}
		return onFunction, all
	}
	if onFunction, all := unmanagedOnFunction(); onFunction != counts["whole"] || all != total {
		t.Errorf("audit under Observe: %d unmanaged on the function, %d in all; want %d, %d", onFunction, all, counts["whole"], total)
	}

	// Manage: the policy is already exact, so nothing is written either.
	kubectlRun(t, "", "patch", "lrp", "whole", "-n", namespace, "--type", "merge", "-p", `{"spec":{"managementPolicy":"Manage"}}`)
	var managed lambdav1alpha1.LambdaResourcePolicy
	harness.Eventually(t, "the Managed object Ready, Synced", func() string {
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: "whole"}, &managed); err != nil {
			return err.Error()
		}
		if managed.Spec.ManagementPolicy != lambdav1alpha1.ManagementPolicyManage || managed.Status.ObservedGeneration != managed.Generation {
			return fmt.Sprintf("managementPolicy %s, generation %d observed at %d", managed.Spec.ManagementPolicy, managed.Generation, managed.Status.ObservedGeneration)
		}
		return policySynced(&managed)
	})
	if managed.Status.LastChange != nil || managed.Status.PolicyRevisionID != before["whole"].revision {
		t.Errorf("Manage: last change %+v at revision %q; want none at %q", managed.Status.LastChange, managed.Status.PolicyRevisionID, before["whole"].revision)
	}
	checkNoWrite("switching to Manage")

	// A sync asked for reads the policy afresh: under Manage, it still
	// finds it exact.
	asked := time.Now().UTC().Format(time.RFC3339Nano)
	kubectlRun(t, "", "annotate", "--overwrite", "lrp", "whole", "-n", namespace, lambdav1alpha1.SyncRequestedAnnotation+"="+asked)
	harness.Eventually(t, "the asked-for sync", func() string {
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: "whole"}, &managed); err != nil {
			return err.Error()
		}
		if handled := managed.Status.LastHandledSyncRequest; handled != asked {
			return fmt.Sprintf("last handled sync request %q, asked %q", handled, asked)
		}
		return policySynced(&managed)
	})
	checkNoWrite("a sync under Manage")
	if onFunction, all := unmanagedOnFunction(); onFunction != 0 || all != total-counts["whole"] {
		t.Errorf("audit under Manage: %d unmanaged on the function, %d in all; want 0, %d (the version's and alias's still observe)", onFunction, all, total-counts["whole"])
	}
}
