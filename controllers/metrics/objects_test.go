package metrics

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
)

func ready(status metav1.ConditionStatus, reason string, stalled bool) []metav1.Condition {
	c := []metav1.Condition{{Type: lambdav1alpha1.ConditionReady, Status: status, Reason: reason}}
	if stalled {
		c = append(c, metav1.Condition{Type: lambdav1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason})
	}
	return c
}

func TestObjectStates(t *testing.T) {
	a := objectKey{"LambdaPermission", types.NamespacedName{Namespace: "team-a", Name: "a"}}
	b := objectKey{"LambdaPermission", types.NamespacedName{Namespace: "team-a", Name: "b"}}
	account := objectKey{"LambdaPermissionAccount", types.NamespacedName{Name: "prod"}}
	type step struct {
		key    objectKey
		state  []metav1.Condition // nil with forget
		forget bool
	}
	cases := []struct {
		name  string
		names bool
		steps []step
		want  string
	}{{
		name: "one series per object, in its latest state", names: true,
		steps: []step{{key: a, state: nil}, {key: a, state: ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)}, {key: b, state: ready(metav1.ConditionFalse, lambdav1alpha1.ReasonPublicAccessDenied, true)}},
		want: `
lambda_permission_objects{kind="LambdaPermission",object_name="a",object_namespace="team-a",ready="True",reason="Synced",stalled="false"} 1
lambda_permission_objects{kind="LambdaPermission",object_name="b",object_namespace="team-a",ready="False",reason="PublicAccessDenied",stalled="true"} 1
`,
	}, {
		name: "not yet reported reads Unknown", names: true,
		steps: []step{{key: account, state: []metav1.Condition{}}},
		want: `
lambda_permission_objects{kind="LambdaPermissionAccount",object_name="prod",object_namespace="",ready="Unknown",reason="",stalled="false"} 1
`,
	}, {
		name: "a forgotten object's series goes", names: true,
		steps: []step{{key: a, state: ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)}, {key: b, state: ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)}, {key: a, forget: true}, {key: account, forget: true}},
		want: `
lambda_permission_objects{kind="LambdaPermission",object_name="b",object_namespace="team-a",ready="True",reason="Synced",stalled="false"} 1
`,
	}, {
		name: "without names, a series per namespace and state counts its objects", names: false,
		steps: []step{{key: a, state: ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)}, {key: b, state: ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)}, {key: b, state: ready(metav1.ConditionFalse, lambdav1alpha1.ReasonThrottled, false)}, {key: b, state: ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)}},
		want: `
lambda_permission_objects{kind="LambdaPermission",object_name="",object_namespace="team-a",ready="True",reason="Synced",stalled="false"} 2
`,
	}, {
		name: "without names, the series goes with its last object", names: false,
		steps: []step{{key: a, state: ready(metav1.ConditionFalse, lambdav1alpha1.ReasonThrottled, false)}, {key: b, state: ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)}, {key: a, state: ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)}, {key: b, forget: true}},
		want: `
lambda_permission_objects{kind="LambdaPermission",object_name="",object_namespace="team-a",ready="True",reason="Synced",stalled="false"} 1
`,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lambda_permission_objects", Help: "h"}, objectLabels)
			s := newObjectStates(gauge, tc.names)
			for _, st := range tc.steps {
				if st.forget {
					s.forget(st.key)
				} else {
					s.report(st.key, stateOf(st.state))
				}
			}
			want := "# HELP lambda_permission_objects h\n# TYPE lambda_permission_objects gauge" + tc.want
			if err := testutil.CollectAndCompare(gauge, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
		})
	}
}

// BenchmarkObjectsExposition prints what lambda_permission_objects costs a
// scrape at 10,000 objects over 100 namespaces: the series and the bytes of
// /metrics, with names (a series per object) and without (a series per
// namespace and state).
func BenchmarkObjectsExposition(b *testing.B) {
	for _, names := range []bool{true, false} {
		b.Run(fmt.Sprintf("names=%v", names), func(b *testing.B) {
			gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lambda_permission_objects", Help: "h"}, objectLabels)
			s := newObjectStates(gauge, names)
			for i := range 10000 {
				key := objectKey{"LambdaPermission", types.NamespacedName{Namespace: fmt.Sprintf("team-%02d", i%100), Name: fmt.Sprintf("function-%05d-s3", i)}}
				s.report(key, stateOf(ready(metav1.ConditionTrue, lambdav1alpha1.ReasonSynced, false)))
			}
			registry := prometheus.NewRegistry()
			registry.MustRegister(gauge)
			var size int
			for b.Loop() {
				families, err := registry.Gather()
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				for _, f := range families {
					if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
						b.Fatal(err)
					}
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(testutil.CollectAndCount(gauge)), "series")
			b.ReportMetric(float64(size), "bytes/scrape")
		})
	}
}
