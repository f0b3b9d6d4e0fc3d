package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

// Operation names: the keys of Stats.Calls and of Faults.Operations.
const (
	OpCreateFunction   = "CreateFunction"
	OpGetFunction      = "GetFunction"
	OpDeleteFunction   = "DeleteFunction"
	OpPublishVersion   = "PublishVersion"
	OpCreateAlias      = "CreateAlias"
	OpGetAlias         = "GetAlias"
	OpDeleteAlias      = "DeleteAlias"
	OpAddPermission    = "AddPermission"
	OpGetPolicy        = "GetPolicy"
	OpRemovePermission = "RemovePermission"
	// The 2026 whole-document policy operations (§16).
	OpPutResourcePolicy    = "PutResourcePolicy"
	OpGetResourcePolicy    = "GetResourcePolicy"
	OpDeleteResourcePolicy = "DeleteResourcePolicy"
	// Listing and function URLs (§17).
	OpListFunctions           = "ListFunctions"
	OpListVersionsByFunction  = "ListVersionsByFunction"
	OpListAliases             = "ListAliases"
	OpCreateFunctionUrlConfig = "CreateFunctionUrlConfig"
	OpGetFunctionUrlConfig    = "GetFunctionUrlConfig"
	OpDeleteFunctionUrlConfig = "DeleteFunctionUrlConfig"
	OpAssumeRole              = "AssumeRole"        // STS
	OpGetCallerIdentity       = "GetCallerIdentity" // STS
	// AllOperations is the Faults.Operations key that applies to every
	// operation without an entry of its own.
	AllOperations = "*"
)

// Operations lists the operations the emulator serves, Lambda then STS.
var Operations = []string{
	OpCreateFunction, OpGetFunction, OpDeleteFunction, OpPublishVersion,
	OpCreateAlias, OpGetAlias, OpDeleteAlias,
	OpAddPermission, OpGetPolicy, OpRemovePermission,
	OpPutResourcePolicy, OpGetResourcePolicy, OpDeleteResourcePolicy,
	OpListFunctions, OpListVersionsByFunction, OpListAliases,
	OpCreateFunctionUrlConfig, OpGetFunctionUrlConfig, OpDeleteFunctionUrlConfig,
	OpAssumeRole, OpGetCallerIdentity,
}

// Fault kinds: the JSON names of the OperationFaults rates, the values of
// the command's --fault flag, and the keys of Stats.Faults.
const (
	FaultServiceError   = "serviceError"
	FaultThrottle       = "throttle"
	FaultUpdateConflict = "updateConflict"
	FaultDrop           = "drop"
	FaultDropAfterApply = "dropAfterApply"
	// FaultLatency counts requests that were delayed (Stats.Faults only).
	FaultLatency = "latency"
)

// FaultKinds lists the rated fault kinds in the order they are drawn.
var FaultKinds = []string{FaultServiceError, FaultThrottle, FaultUpdateConflict, FaultDrop, FaultDropAfterApply}

// functionOperations take a {FunctionName} path label, and can get an
// UpdateConflict fault; the value says whether they take a Qualifier.
var functionOperations = map[string]bool{
	OpGetFunction: true, OpDeleteFunction: true, OpPublishVersion: false,
	OpCreateAlias: false, OpGetAlias: false, OpDeleteAlias: false,
	OpAddPermission: true, OpGetPolicy: true, OpRemovePermission: true,
}

// resourceARNOperations take a {ResourceArn} path label (§16.1); the value
// says whether they can get an UpdateConflict fault: only the writes, which
// list ResourceConflictException (§16.3).
var resourceARNOperations = map[string]bool{
	OpPutResourcePolicy: true, OpGetResourcePolicy: false, OpDeleteResourcePolicy: true,
}

// urlOperations are the function URL operations (§17.4); the value says
// whether they can get an UpdateConflict fault: only Create and Delete list
// ResourceConflictException. ListFunctions, ListVersionsByFunction and
// ListAliases list none, and never get one (§17.5).
var urlOperations = map[string]bool{
	OpCreateFunctionUrlConfig: true, OpGetFunctionUrlConfig: false, OpDeleteFunctionUrlConfig: true,
}

// canConflict reports whether an operation can get an UpdateConflict fault.
func canConflict(operation string) bool {
	_, onFunction := functionOperations[operation]
	return onFunction || resourceARNOperations[operation] || urlOperations[operation]
}

// msgInternalError is the message of an injected ServiceException.
const msgInternalError = "An internal error occurred. Retry the request."

// msgUpdateInProgress is the 409 of a function with an update in progress,
// unlike the duplicate-Sid 409.
const msgUpdateInProgress = "The operation cannot be performed at this time. An update is in progress for resource: "

// Faults configures reproducible fault injection (see doc.go for the JSON
// form served at /_emulator/faults). The zero value injects nothing.
type Faults struct {
	// Seed seeds the one pseudo-random source all requests draw from; it is
	// reseeded whenever the faults are set (0 is a seed like any other).
	// The same seed, faults and request order give the same faults.
	Seed int64 `json:"seed"`
	// RetryAfterSeconds is the Retry-After of a Throttle fault (default 1).
	RetryAfterSeconds int `json:"retryAfterSeconds"`
	// Operations maps an operation name (see Operations) or "*" (every
	// operation) to its faults. An operation's own entry replaces "*"
	// entirely: {"GetPolicy":{}} exempts GetPolicy from "*".
	Operations map[string]OperationFaults `json:"operations"`
}

// OperationFaults are one operation's fault rates, each a probability in
// [0,1], and its added latency. Per request, one draw decides the latency
// jitter, then one draw per kind in FaultKinds order; the first kind whose
// draw is below its rate is injected (so a later kind's effective rate is
// lowered by the earlier ones).
type OperationFaults struct {
	// ServiceError answers 500 ServiceException; nothing is applied.
	ServiceError float64 `json:"serviceError,omitempty"`
	// Throttle answers 429 TooManyRequestsException (Reason
	// CallerRateLimitExceeded, Retry-After: Faults.RetryAfterSeconds) like a
	// quota throttle; nothing is applied.
	Throttle float64 `json:"throttle,omitempty"`
	// UpdateConflict answers 409 ResourceConflictException "The operation
	// cannot be performed at this time. An update is in progress for
	// resource: <function arn>"; nothing is applied. Only the function,
	// version, alias and policy operations with a {FunctionName} path label
	// (not CreateFunction, not STS, not the List operations),
	// PutResourcePolicy, DeleteResourcePolicy, CreateFunctionUrlConfig and
	// DeleteFunctionUrlConfig can get it.
	UpdateConflict float64 `json:"updateConflict,omitempty"`
	// Drop closes the connection without a response; nothing is applied.
	Drop float64 `json:"drop,omitempty"`
	// DropAfterApply applies the request, then closes the connection
	// without a response: the client cannot know that its write happened.
	DropAfterApply float64 `json:"dropAfterApply,omitempty"`
	// Latency is added before the request is handled; LatencyJitter
	// spreads it uniformly over Latency±LatencyJitter (never below 0).
	Latency       time.Duration `json:"-"`
	LatencyJitter time.Duration `json:"-"`
}

// Rate returns the rate of a kind from FaultKinds (0 for any other).
func (o OperationFaults) Rate(kind string) float64 {
	switch kind {
	case FaultServiceError:
		return o.ServiceError
	case FaultThrottle:
		return o.Throttle
	case FaultUpdateConflict:
		return o.UpdateConflict
	case FaultDrop:
		return o.Drop
	case FaultDropAfterApply:
		return o.DropAfterApply
	}
	return 0
}

// SetRate sets the rate of a kind from FaultKinds; it reports false for
// any other kind.
func (o *OperationFaults) SetRate(kind string, rate float64) bool {
	switch kind {
	case FaultServiceError:
		o.ServiceError = rate
	case FaultThrottle:
		o.Throttle = rate
	case FaultUpdateConflict:
		o.UpdateConflict = rate
	case FaultDrop:
		o.Drop = rate
	case FaultDropAfterApply:
		o.DropAfterApply = rate
	default:
		return false
	}
	return true
}

// operationFaultsJSON is the wire form: durations as Go duration strings.
type operationFaultsJSON struct {
	ServiceError   float64 `json:"serviceError,omitempty"`
	Throttle       float64 `json:"throttle,omitempty"`
	UpdateConflict float64 `json:"updateConflict,omitempty"`
	Drop           float64 `json:"drop,omitempty"`
	DropAfterApply float64 `json:"dropAfterApply,omitempty"`
	Latency        string  `json:"latency,omitempty"`
	LatencyJitter  string  `json:"latencyJitter,omitempty"`
}

// MarshalJSON writes the durations as strings such as "20ms".
func (o OperationFaults) MarshalJSON() ([]byte, error) {
	w := operationFaultsJSON{
		ServiceError: o.ServiceError, Throttle: o.Throttle, UpdateConflict: o.UpdateConflict,
		Drop: o.Drop, DropAfterApply: o.DropAfterApply,
	}
	if o.Latency != 0 {
		w.Latency = o.Latency.String()
	}
	if o.LatencyJitter != 0 {
		w.LatencyJitter = o.LatencyJitter.String()
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads durations as strings such as "20ms" and rejects
// unknown members, so that a misspelt kind is not silently ignored.
func (o *OperationFaults) UnmarshalJSON(data []byte) error {
	var w operationFaultsJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	out := OperationFaults{
		ServiceError: w.ServiceError, Throttle: w.Throttle, UpdateConflict: w.UpdateConflict,
		Drop: w.Drop, DropAfterApply: w.DropAfterApply,
	}
	for _, d := range []struct {
		name string
		text string
		to   *time.Duration
	}{{"latency", w.Latency, &out.Latency}, {"latencyJitter", w.LatencyJitter, &out.LatencyJitter}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		*d.to = v
	}
	*o = out
	return nil
}

// Validate reports unknown operations, rates outside [0,1], negative
// durations and an UpdateConflict rate on an operation that cannot have it.
func (f Faults) Validate() error {
	if f.RetryAfterSeconds < 0 {
		return fmt.Errorf("faults: retryAfterSeconds must not be negative, got %d", f.RetryAfterSeconds)
	}
	names := make([]string, 0, len(f.Operations))
	for name := range f.Operations {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		o := f.Operations[name]
		if name != AllOperations && !slices.Contains(Operations, name) {
			return fmt.Errorf("faults: unknown operation %q (valid: %q or one of %v)", name, AllOperations, Operations)
		}
		for _, kind := range FaultKinds {
			if r := o.Rate(kind); math.IsNaN(r) || r < 0 || r > 1 {
				return fmt.Errorf("faults: %s: %s rate %v is outside [0,1]", name, kind, r)
			}
		}
		if !canConflict(name) && name != AllOperations && o.UpdateConflict > 0 {
			return fmt.Errorf("faults: %s: updateConflict applies only to operations on a function that can conflict", name)
		}
		if o.Latency < 0 || o.LatencyJitter < 0 {
			return fmt.Errorf("faults: %s: latency and latencyJitter must not be negative", name)
		}
	}
	return nil
}

// normalized returns a deep copy with the defaults filled in.
func (f Faults) normalized() Faults {
	out := Faults{Seed: f.Seed, RetryAfterSeconds: f.RetryAfterSeconds, Operations: make(map[string]OperationFaults, len(f.Operations))}
	if out.RetryAfterSeconds == 0 {
		out.RetryAfterSeconds = 1
	}
	for name, o := range f.Operations {
		out.Operations[name] = o
	}
	return out
}

// faultDecision is what happens to one request.
type faultDecision struct {
	latency    time.Duration
	kind       string // "" or one of FaultKinds
	retryAfter int
}

// faultInjector holds the faults and the one random source, both guarded
// by mu, so a seed and a request order give the same decisions.
type faultInjector struct {
	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
}

func newFaultInjector(f Faults) *faultInjector {
	i := &faultInjector{}
	i.set(f)
	return i
}

func (i *faultInjector) set(f Faults) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.faults = f.normalized()
	i.rng = rand.New(rand.NewSource(f.Seed))
}

func (i *faultInjector) get() Faults {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.faults.normalized()
}

// decide draws one request's faults. While any faults are configured,
// every request makes the same draws (latency, then one per kind) whatever
// its operation's faults, so the Nth request's fate depends only on the
// seed, N and its operation's rates.
func (i *faultInjector) decide(operation string) faultDecision {
	i.mu.Lock()
	defer i.mu.Unlock()
	if len(i.faults.Operations) == 0 {
		return faultDecision{}
	}
	o, ok := i.faults.Operations[operation]
	if !ok {
		o = i.faults.Operations[AllOperations]
	}
	d := faultDecision{retryAfter: i.faults.RetryAfterSeconds}
	jitter := (2*i.rng.Float64() - 1) * float64(o.LatencyJitter)
	d.latency = max(0, o.Latency+time.Duration(jitter))
	for _, kind := range FaultKinds {
		rate := o.Rate(kind)
		if kind == FaultUpdateConflict && !canConflict(operation) {
			rate = 0
		}
		if u := i.rng.Float64(); d.kind == "" && u < rate {
			d.kind = kind
		}
	}
	return d
}

// SetFaults replaces the fault configuration and reseeds the random source
// with f.Seed. It returns f.Validate's error and then changes nothing.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faults.set(f)
	return nil
}

// Faults returns the fault configuration in effect (a copy, with
// RetryAfterSeconds defaulted).
func (s *Server) Faults() Faults { return s.faults.get() }

// delay sleeps for the decided latency, counting it. It reports false when
// the client went away meanwhile.
func (s *Server) delay(r *http.Request, operation string, d faultDecision) bool {
	if d.latency <= 0 {
		return true
	}
	s.stats.recordFault(operation, FaultLatency)
	timer := time.NewTimer(d.latency)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// errUpdateInProgress resolves the request's function for an UpdateConflict
// fault. injected is false when the request names no existing function
// (or fails validation, or is in another account): then err is that
// ordinary error, as AWS checks those before a conflict. The caller holds
// s.mu.
func (s *Server) errUpdateInProgress(c *call, r *http.Request, operation string) (err *apiError, injected bool) {
	var fn *function
	if _, ok := resourceARNOperations[operation]; ok {
		fn, err = s.functionFromResourceArn(c, r)
	} else if _, ok := urlOperations[operation]; ok {
		fn, err = s.functionFromURLPath(c, r, operation)
	} else {
		fn, _, err = s.functionFromPath(c, r, functionOperations[operation])
	}
	if err != nil {
		return err, false
	}
	return errConflict(msgUpdateInProgress + s.functionARN(fn.account, fn.name)), true
}

func errService(msg string) *apiError {
	return &apiError{http.StatusInternalServerError, codeService, msg, 0}
}

// dropConnection closes the client's connection without writing a
// response. Without a Hijacker (HTTP/2) the stream is aborted instead.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
