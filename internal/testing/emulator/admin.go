package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// routeAdmin registers the emulator's own endpoints under /_emulator/.
// They are neither throttled, faulted nor counted.
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
	s.mux.HandleFunc("GET /_emulator/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeAdminJSON(w, http.StatusOK, s.Faults())
	})
	s.mux.HandleFunc("PUT /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		faults, err := decodeFaults(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			err = s.SetFaults(faults)
		}
		if err != nil {
			writeAdminJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
			return
		}
		writeAdminJSON(w, http.StatusOK, s.Faults())
	})
	s.mux.HandleFunc("DELETE /_emulator/faults", func(w http.ResponseWriter, _ *http.Request) {
		_ = s.SetFaults(Faults{}) // the zero value is valid
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("/_emulator/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(jsonObject(stringMember("message", "unknown emulator endpoint "+r.Method+" "+r.URL.Path))))
	})
}

// decodeFaults reads a PUT /_emulator/faults body: one JSON object, no
// unknown members.
func decodeFaults(body io.Reader) (Faults, error) {
	var f Faults
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Faults{}, fmt.Errorf("faults: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Faults{}, errors.New("faults: invalid JSON: data after the object")
	}
	return f, nil
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	body, err := jsonValue(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
