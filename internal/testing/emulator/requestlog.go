package emulator

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// LogRequests writes one line per request next answers to out: when it
// came (RFC 3339, nanoseconds), method, path and query, status, and how
// long the answer took. The demo keeps it as the emulator's log; the
// benchmark's BENCH_TIMELINE reads where a run's time went between calls.
func LogRequests(next http.Handler, out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		recorder := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(recorder, r)
		_, _ = fmt.Fprintf(out, "%s %s %s %d %s\n", started.Format(time.RFC3339Nano), r.Method, r.URL.RequestURI(),
			recorder.status, time.Since(started).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
