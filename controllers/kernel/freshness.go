package kernel

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	lambdav1alpha1 "github.com/lambda-permission-operator/lambda-permission-operator/api/v1alpha1"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/writer"
)

// SyncRequester is an object the user can ask to check at once
// (SyncRequestedAnnotation), with the status that records it was done.
type SyncRequester interface {
	metav1.Object
	GetLastHandledSyncRequest() string
	SetLastHandledSyncRequest(string)
}

// Freshness is how old a view of a policy obj's reconcile may use at now:
// syncPeriod, unless obj carries a sync request not yet handled, which
// wants a read made after now.
func Freshness(obj SyncRequester, syncPeriod time.Duration, now time.Time) writer.Freshness {
	fresh := writer.Freshness{MaxAge: syncPeriod}
	if _, pending := SyncRequest(obj); pending {
		fresh.NotBefore = now
	}
	return fresh
}

// SyncRequest is obj's sync request, and whether it is yet to be handled.
// As Flux's reconcile.fluxcd.io/requestedAt, any new value is a request:
// comparing times instead would miss a request made in the same second as
// the last read.
func SyncRequest(obj SyncRequester) (request string, pending bool) {
	request = obj.GetAnnotations()[lambdav1alpha1.SyncRequestedAnnotation]
	return request, request != "" && request != obj.GetLastHandledSyncRequest()
}
