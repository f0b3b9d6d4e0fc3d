package emulator

import "net/http"

// routeAdmin registers the emulator's own endpoints under /_emulator/.
// They are neither throttled nor counted.
func (s *Server) routeAdmin() {
	s.mux.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, _ *http.Request) {
		body, err := jsonValue(s.Stats())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	s.mux.HandleFunc("DELETE /_emulator/stats", func(w http.ResponseWriter, _ *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("/_emulator/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(jsonObject(stringMember("message", "unknown emulator endpoint "+r.Method+" "+r.URL.Path))))
	})
}
