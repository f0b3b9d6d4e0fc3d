package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/translate"
)

const operatorPrefix = "lpo-"

var buckets = []string{"arn:aws:s3:::invoices", "arn:aws:s3:::receipts", "arn:aws:s3:::uploads"}

// bucketGrants are the grants of three buckets' notifications to orders,
// each as a LambdaPermission declares it.
func bucketGrants() []policy.Statement {
	var grants []policy.Statement
	for i, arn := range buckets {
		grants = append(grants, policy.DesiredStatement(orders, policy.Permission{StatementID: fmt.Sprintf("bucket-%d", i),
			Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceArn: arn, SourceAccount: orders.AccountID}))
	}
	return grants
}

// compactedBuckets is the statement the operator writes for bucketGrants
// with compaction on, as it writes it.
func compactedBuckets(t *testing.T) policy.Compacted {
	t.Helper()
	compacted := policy.Compact(bucketGrants(), operatorPrefix)
	if len(compacted) != 1 || compacted[0].Dimension != policy.BySourceArn || len(compacted[0].Members) != len(buckets) {
		t.Fatalf("Compact gave %+v, want one statement listing the %d buckets", compacted, len(buckets))
	}
	return compacted[0]
}

// cluster is a fake API server holding objects, as the plugin lists them.
func cluster(t *testing.T, objects ...runtime.Object) map[string]bool {
	t.Helper()
	var served []runtime.Object
	for _, obj := range objects {
		fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		served = append(served, &unstructured.Unstructured{Object: fields})
	}
	k8s := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		lambdav1alpha1.GroupVersion.WithResource("lambdapermissions"):      "LambdaPermissionList",
		lambdav1alpha1.GroupVersion.WithResource("lambdaresourcepolicies"): "LambdaResourcePolicyList",
	}, served...)
	managed, err := managedIn(context.Background(), k8s)
	if err != nil {
		t.Fatal(err)
	}
	return managed
}

// A compacted statement is audited grant by grant: of three buckets, the
// one no LambdaPermission holds (status.compacted) is unmanaged, and the
// two others are not, though status.statement of theirs is the whole list.
func TestAuditCompactedStatementPerGrant(t *testing.T) {
	c := compactedBuckets(t)
	text := c.Statement.Render()
	var objects []runtime.Object
	for i, m := range c.Members[:2] {
		objects = append(objects, &lambdav1alpha1.LambdaPermission{
			TypeMeta:   metav1.TypeMeta{APIVersion: lambdav1alpha1.GroupVersion.String(), Kind: "LambdaPermission"},
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: fmt.Sprintf("bucket-%d", i)},
			Status: lambdav1alpha1.LambdaPermissionStatus{StatementID: m.Sid, Statement: text,
				Compacted: &lambdav1alpha1.CompactedGrant{StatementID: c.Statement.Sid, Dimension: string(c.Dimension), Value: m.Value}},
		})
	}
	findings := audit([]policyRead{policyOf(t, orders, text)}, cluster(t, objects...))
	want := []finding{{Resource: orders.ResourceARN(), Sid: c.Statement.Sid, Value: c.Members[2].Value, Kind: findingUnmanaged}}
	if len(findings) != 1 || findings[0].Detail == "" {
		t.Fatalf("findings %+v, want %+v with a detail", findings, want)
	}
	if got := findings[0]; got.Resource != want[0].Resource || got.Sid != want[0].Sid || got.Value != want[0].Value || got.Kind != want[0].Kind {
		t.Errorf("finding %+v, want %+v", got, want[0])
	}
	if findings[0].Value != buckets[2] {
		t.Errorf("the unmanaged grant is %q, want %q (the bucket no object holds)", findings[0].Value, buckets[2])
	}

	// Both outputs name the statement and the grant.
	var table, js bytes.Buffer
	if err := renderFindings(&table, findings, "table"); err != nil {
		t.Fatal(err)
	}
	if err := renderFindings(&js, findings, "json"); err != nil {
		t.Fatal(err)
	}
	var decoded []map[string]string
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || len(decoded) != 1 || decoded[0]["sid"] != c.Statement.Sid || decoded[0]["value"] != buckets[2] {
		t.Errorf("json %s (%v): want sid %q and value %q", js.String(), err, c.Statement.Sid, buckets[2])
	}
	rows := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(rows) != 2 || !strings.Contains(rows[0], "VALUE") || !strings.Contains(rows[1], c.Statement.Sid+"  "+buckets[2]) {
		t.Errorf("table:\n%s\nwant a VALUE column and the Sid then the bucket", table.String())
	}
}

// Each account of a Principal.AWS list is checked on its own: a function
// URL grant to two accounts, of which one has its lambda:InvokeFunction
// statement, is missing it for the other only; and each account is
// unmanaged on its own until something manages the statement.
func TestAuditPrincipalListPerGrant(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:111122223333:function:orders"
	partnersURL := `{"Sid":"partners-url","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::777788889999:root"]},` +
		`"Action":"lambda:InvokeFunctionUrl","Resource":"` + arn + `","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"AWS_IAM"}}}`
	invoke := stored(orders, policy.Permission{StatementID: "partner-a-invoke", Action: "lambda:InvokeFunction", Principal: "444455556666", InvokedViaFunctionURL: true})
	p := policyOf(t, orders, partnersURL, invoke)
	p.URLAuthType = "AWS_IAM"

	for _, tc := range []struct {
		name    string
		managed map[string]bool
		want    []string // sid, value and kind of each finding
	}{
		{"no cluster", nil, []string{"partners-url arn:aws:iam::777788889999:root url-missing-invoke"}},
		{"nothing managed", map[string]bool{}, []string{
			"partners-url arn:aws:iam::444455556666:root unmanaged",
			"partners-url arn:aws:iam::777788889999:root url-missing-invoke",
			"partners-url arn:aws:iam::777788889999:root unmanaged",
			"partner-a-invoke  unmanaged",
		}},
		{"one account held by a LambdaPermission", map[string]bool{
			memberKey(arn, "partners-url", policy.ByPrincipal, "444455556666"): true, // as the operator lists an account
			managedKey(arn, "partner-a-invoke"):                                true,
		}, []string{
			"partners-url arn:aws:iam::777788889999:root url-missing-invoke",
			"partners-url arn:aws:iam::777788889999:root unmanaged",
		}},
		{"the statement managed whole", map[string]bool{managedKey(arn, "partners-url"): true, managedKey(arn, "partner-a-invoke"): true},
			[]string{"partners-url arn:aws:iam::777788889999:root url-missing-invoke"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range audit([]policyRead{p}, tc.managed) {
				got = append(got, f.Sid+" "+f.Value+" "+f.Kind)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// importedPermissions are the LambdaPermissions of items, and the comments
// of the statements not imported.
func importedPermissions(items []manifestItem) (permissions []*lambdav1alpha1.LambdaPermission, comments [][]string, skipped []string) {
	for _, item := range items {
		if obj, ok := item.object.(*lambdav1alpha1.LambdaPermission); ok {
			permissions = append(permissions, obj)
			comments = append(comments, item.comments)
		} else if item.object == nil {
			skipped = append(skipped, strings.Join(item.comments, "\n"))
		}
	}
	return permissions, comments, skipped
}

// A statement listing several values in one respect imports as one
// LambdaPermission per value, each declaring exactly that grant; one
// listing values in two respects is a comment saying why.
func TestImportListedStatements(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:111122223333:function:orders"
	operatorCompacted := compactedBuckets(t).Statement
	for _, tc := range []struct {
		name      string
		statement string
		want      []string // the comment above the first object, or the skipped one's
		unwanted  string
		objects   int
	}{
		{"compacted by the operator", operatorCompacted.Render(), []string{
			fmt.Sprintf("Statement %q on %s lists 3 source ARNs: imported as one LambdaPermission per grant.", operatorCompacted.Sid, arn),
			`Sid prefix "lpo-"`, "the objects adopt it with no write",
		}, "remove it", 3},
		{"source ARNs by hand", `{"Sid":"uploads","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn +
			`","Condition":{"ArnLike":{"AWS:SourceArn":["arn:aws:s3:::a","arn:aws:s3:::b"]}}}`, []string{
			`Statement "uploads" on ` + arn + " lists 2 source ARNs: imported as one LambdaPermission per grant.",
			`never removes "uploads"`, "remove it once the objects are Ready",
		}, "no write", 2},
		{"accounts by hand", `{"Sid":"partners","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::777788889999:root","arn:aws:iam::444455556666:root"]},` +
			`"Action":"lambda:InvokeFunction","Resource":"` + arn + `"}`, []string{"lists 2 AWS principals", `never removes "partners"`}, "no write", 2},
		{"actions by hand", `{"Sid":"ops","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["lambda:InvokeFunction","lambda:GetFunction"],"Resource":"` + arn + `"}`,
			[]string{"lists 2 actions"}, "", 2},
		{"source accounts by hand", `{"Sid":"events","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn +
			`","Condition":{"StringEquals":{"AWS:SourceAccount":["444455556666","777788889999"]}}}`, []string{"lists 2 source accounts"}, "", 2},
		{"a cross product", `{"Sid":"grid","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":["lambda:InvokeFunction","lambda:GetFunction"],"Resource":"` + arn +
			`","Condition":{"ArnLike":{"AWS:SourceArn":["arn:aws:s3:::a","arn:aws:s3:::b","arn:aws:s3:::c"]}}}`, []string{
			`Not imported: statement "grid" on ` + arn + " lists 3 source ARNs and 2 actions: it grants all 6 combinations, a cross product",
		}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policyOf(t, orders, tc.statement)
			permissions, comments, skipped := importedPermissions(importManifest([]policyRead{p}, importOptions{}))
			if len(permissions) != tc.objects || len(skipped) != 1-min(tc.objects, 1) {
				t.Fatalf("%d LambdaPermissions and %d comments, want %d and %d: %q", len(permissions), len(skipped), tc.objects, 1-min(tc.objects, 1), skipped)
			}
			said := strings.Join(skipped, "\n")
			if tc.objects > 0 {
				said = strings.Join(comments[0], "\n")
			}
			for _, want := range tc.want {
				if !strings.Contains(said, want) {
					t.Errorf("comments\n%s\nlack %q", said, want)
				}
			}
			if tc.unwanted != "" && strings.Contains(said, tc.unwanted) {
				t.Errorf("comments\n%s\nsay %q", said, tc.unwanted)
			}
			if tc.objects == 0 {
				return
			}
			// Object i declares exactly grant i of the statement.
			listed := p.Document.Statements[0].Statement
			grants, _, ok := grantsOf(listed, func(string) string { return listed.Sid })
			if !ok || len(grants) != len(permissions) {
				t.Fatalf("the statement has %d grants, imported as %d objects", len(grants), len(permissions))
			}
			for i, obj := range permissions {
				got := policy.DesiredStatement(orders, translate.PermissionOf(obj.Spec, obj.Spec.StatementID))
				if !policy.SameGrant(got, grants[i].statement) {
					t.Errorf("%s declares %s, grant %d is %s", obj.Name, got.Render(), i, grants[i].statement.Render())
				}
				if i > 0 && strings.Contains(strings.Join(comments[i], " "), "imported as one LambdaPermission per grant") {
					t.Errorf("%s repeats the statement's header: %q", obj.Name, comments[i])
				}
				if !strings.Contains(strings.Join(comments[i], " "), grants[i].value) {
					t.Errorf("%s's comments %q do not name its value %s", obj.Name, comments[i], grants[i].value)
				}
			}
			// An operator-compacted statement holds every object's grant: with
			// compaction on, the operator finds each in place and writes nothing.
			if _, operators := policy.CompactedSidPrefix(listed.Sid); operators {
				for _, obj := range permissions {
					got := policy.DesiredStatement(orders, translate.PermissionOf(obj.Spec, obj.Spec.StatementID))
					if held, ok := p.Document.Holds(got, operatorPrefix); !ok || held.Statement.Sid != listed.Sid {
						t.Errorf("%s: the compacted statement does not hold its grant (%+v)", obj.Name, held)
					}
				}
			}
		})
	}
}

// The objects of a listed statement have valid, distinct names and Sids
// that are the same in every import, even for a Sid at Lambda's limit.
func TestImportListedNamesAndSids(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:111122223333:function:orders"
	longSid := strings.Repeat("s", lambdav1alpha1.MaxStatementIDLength)
	listed := func(sid string) string {
		return `{"Sid":"` + sid + `","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + arn +
			`","Condition":{"ArnLike":{"AWS:SourceArn":["arn:aws:s3:::a","arn:aws:s3:::b","arn:aws:s3:::c"]}}}`
	}
	p := policyOf(t, orders, listed("uploads"), listed(longSid), compactedBuckets(t).Statement.Render())
	imported := func() []string {
		permissions, _, skipped := importedPermissions(importManifest([]policyRead{p}, importOptions{}))
		if len(permissions) != 9 || len(skipped) != 0 {
			t.Fatalf("%d LambdaPermissions, %d not imported (%q); want 9, 0", len(permissions), len(skipped), skipped)
		}
		var out []string
		for _, obj := range permissions {
			sid := obj.Spec.StatementID
			if len(sid) > lambdav1alpha1.MaxStatementIDLength || strings.Trim(sid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
				t.Errorf("statementId %q is not a Sid Lambda takes", sid)
			}
			if errs := validation.IsDNS1123Subdomain(obj.Name); len(errs) > 0 || len(obj.Name) > maxObjectName {
				t.Errorf("name %q: %v", obj.Name, errs)
			}
			out = append(out, obj.Name+" "+sid)
		}
		return out
	}
	first, second := imported(), imported()
	if !slices.Equal(first, second) {
		t.Errorf("names and Sids differ between imports:\n%q\n%q", first, second)
	}
	names, sids := map[string]bool{}, map[string]bool{}
	for _, pair := range first {
		name, sid, _ := strings.Cut(pair, " ")
		names[name], sids[sid] = true, true
	}
	if len(names) != 9 || len(sids) != 9 {
		t.Errorf("%d distinct names and %d distinct Sids for 9 grants: %q", len(names), len(sids), first)
	}
	if !strings.HasPrefix(first[0], "orders-uploads-") || !strings.Contains(first[0], " uploads-") {
		t.Errorf("%q does not say which statement it comes from", first[0])
	}
}
