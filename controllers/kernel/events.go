package kernel

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// Recorder records Events about the objects the operator reconciles. The
// zero Recorder records nothing (tests of decisions need none).
type Recorder struct {
	events.EventRecorder
}

// Event records one Event about obj: what happened (reason), the AWS
// operation or step it concerns (action), and a message.
func (r Recorder) Event(obj runtime.Object, eventType, reason, action, format string, args ...any) {
	if r.EventRecorder != nil {
		r.Eventf(obj, nil, eventType, reason, action, format, args...)
	}
}
