package kernel

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// Freshness is how old a view of a policy obj's reconcile may use: syncPeriod,
// unless the user asked for a check since (SyncRequestedAnnotation).
func Freshness(obj metav1.Object, syncPeriod time.Duration) writer.Freshness {
	return writer.Freshness{MaxAge: syncPeriod, NotBefore: SyncRequestedAt(obj)}
}

// SyncRequestedAt is when the user last asked for a check of obj, or the
// zero time.
func SyncRequestedAt(obj metav1.Object) time.Time {
	at, err := time.Parse(time.RFC3339Nano, obj.GetAnnotations()[lambdav1alpha1.SyncRequestedAnnotation])
	if err != nil {
		return time.Time{}
	}
	return at
}
