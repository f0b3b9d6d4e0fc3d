package emulator

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Config configures a Server.
type Config struct {
	// Region is the emulated endpoint's region (default "us-east-1"). ARNs
	// naming another region get 404 (§4.7).
	Region string
	// AccountID is the default account (default "123456789012"): requests
	// signed with an access key that AccessKeys does not map, or unsigned,
	// act in it, and bare names in Policy resolve in it.
	AccountID string
	// AccessKeys maps access key ids (from the SigV4 Authorization header)
	// to 12-digit accounts. Every function, version, alias and policy
	// belongs to one account, and bare function names resolve in the
	// caller's. See also Server.AccessKeyFor.
	AccessKeys map[string]string
	// Roles can be assumed with STS AssumeRole; see Server.AddRole.
	Roles []Role
	// Quotas maps a bucket name (see QuotaBuckets) to requests per second,
	// for each account (AWS's quotas are per account and region). Absent or
	// 0 means unlimited.
	Quotas map[string]float64
	// Now is the clock for quotas, timestamps and the expiry of credentials
	// issued by AssumeRole (default time.Now).
	Now func() time.Time
	// Faults injects errors, dropped connections and latency, reproducibly
	// for a seed; see Server.SetFaults to change them at run time.
	Faults Faults
	// BlockPublicPolicy lists the 12-digit accounts whose BlockPublicPolicy
	// switch is on (an emulator-only setting, §16.8): there AddPermission and
	// PutResourcePolicy refuse a public statement with
	// PublicPolicyException. See also Server.SetBlockPublicPolicy. Default:
	// no account blocks.
	BlockPublicPolicy []string
}

// Validate reports configuration mistakes, such as an unknown quota bucket.
func (c Config) Validate() error {
	for name, rate := range c.Quotas {
		if !slices.Contains(QuotaBuckets, name) {
			return fmt.Errorf("unknown quota bucket %q (valid: %v)", name, QuotaBuckets)
		}
		if rate < 0 {
			return fmt.Errorf("quota %s must not be negative, got %v", name, rate)
		}
	}
	for key, account := range c.AccessKeys {
		if key == "" || !accountIDPattern.MatchString(account) {
			return fmt.Errorf("access key %q: account %q is not a 12-digit account id", key, account)
		}
	}
	for _, role := range c.Roles {
		if err := role.validate(); err != nil {
			return err
		}
	}
	for _, account := range c.BlockPublicPolicy {
		if !accountIDPattern.MatchString(account) {
			return fmt.Errorf("block public policy: account %q is not a 12-digit account id", account)
		}
	}
	return c.Faults.Validate()
}

// Server is an http.Handler emulating the Lambda API. It is safe for
// concurrent use; every operation runs under one mutex, so state changes
// are atomic and strongly consistent.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	quotas *quotaLimiter
	stats  *statsRecorder
	iam    *iam
	faults *faultInjector

	mu          sync.Mutex
	accounts    map[string]map[string]*function // account -> name -> function
	blockPublic map[string]bool                 // accounts whose BlockPublicPolicy switch is on (§16.8)
}

// New returns an empty emulator. It panics if cfg.Validate fails.
func New(cfg Config) *Server {
	if err := cfg.Validate(); err != nil {
		panic("emulator: " + err.Error())
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "123456789012"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:      cfg,
		mux:      http.NewServeMux(),
		quotas:   newQuotaLimiter(cfg.Quotas, cfg.Now),
		stats:    newStatsRecorder(),
		iam:      newIAM(cfg),
		faults:   newFaultInjector(cfg.Faults),
		accounts: map[string]map[string]*function{},

		blockPublic: map[string]bool{},
	}
	for _, account := range cfg.BlockPublicPolicy {
		s.blockPublic[account] = true
	}
	s.routes()
	return s
}

// operationHandler runs one API operation with the state lock held. body is
// the whole request body.
type operationHandler func(c *call, r *http.Request, body []byte) (*response, *apiError)

// call is who makes a request and the IAM action it needs.
type call struct {
	who    *identity
	action string // "lambda:" + operation
}

// response is a successful reply.
type response struct {
	status int
	body   string // JSON, or "" for no body
}

// routes registers the operations with the routes from the SDK schemas
// (§1, §16.1, §17). ServeMux matches the decoded path, so %3A and %24 in ARNs
// are handled, and so is a raw ":". The withdrawn 2024-09-16 routes are not
// served (§16.1).
func (s *Server) routes() {
	const fn = "/2015-03-31/functions/{FunctionName}"
	const resourcePolicy = "/2026-07-09/resource-policy/{ResourceArn}"
	const urlPath = "/2021-10-31/functions/{FunctionName}/url"
	s.handle("POST /2015-03-31/functions", "CreateFunction", BucketControlPlane, s.createFunction)
	// The SDK sends no trailing slash; the API reference writes one (§17.1).
	s.handle("GET /2015-03-31/functions", "ListFunctions", BucketControlPlane, s.listFunctions)
	s.handle("GET /2015-03-31/functions/{$}", "ListFunctions", BucketControlPlane, s.listFunctions)
	s.handle("GET "+fn, "GetFunction", BucketGetFunction, s.getFunction)
	s.handle("DELETE "+fn, "DeleteFunction", BucketControlPlane, s.deleteFunction)
	s.handle("POST "+fn+"/versions", "PublishVersion", BucketControlPlane, s.publishVersion)
	s.handle("GET "+fn+"/versions", "ListVersionsByFunction", BucketControlPlane, s.listVersionsByFunction)
	s.handle("POST "+fn+"/aliases", "CreateAlias", BucketControlPlane, s.createAlias)
	s.handle("GET "+fn+"/aliases", "ListAliases", BucketControlPlane, s.listAliases)
	s.handle("GET "+fn+"/aliases/{Name}", "GetAlias", BucketControlPlane, s.getAlias)
	s.handle("DELETE "+fn+"/aliases/{Name}", "DeleteAlias", BucketControlPlane, s.deleteAlias)
	s.handle("POST "+fn+"/policy", "AddPermission", BucketControlPlane, s.addPermission)
	s.handle("GET "+fn+"/policy", "GetPolicy", BucketGetPolicy, s.getPolicy)
	s.handle("DELETE "+fn+"/policy/{StatementId}", "RemovePermission", BucketControlPlane, s.removePermission)
	// The whole-document operations share the control-plane bucket (§16.9).
	s.handle("PUT "+resourcePolicy, "PutResourcePolicy", BucketControlPlane, s.putResourcePolicy)
	s.handle("GET "+resourcePolicy, "GetResourcePolicy", BucketControlPlane, s.getResourcePolicy)
	s.handle("DELETE "+resourcePolicy, "DeleteResourcePolicy", BucketControlPlane, s.deleteResourcePolicy)
	// The listing and function URL operations are control-plane calls too (§17.5).
	s.handle("POST "+urlPath, "CreateFunctionUrlConfig", BucketControlPlane, s.createFunctionURLConfig)
	s.handle("GET "+urlPath, "GetFunctionUrlConfig", BucketControlPlane, s.getFunctionURLConfig)
	s.handle("DELETE "+urlPath, "DeleteFunctionUrlConfig", BucketControlPlane, s.deleteFunctionURLConfig)

	s.routeAdmin()
	s.mux.HandleFunc("/{$}", s.serveSTS)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errUnknownOperation(r.Method, r.URL.Path))
	})
}

// handle wraps an operation with identification, counting, throttling,
// fault injection and error rendering. The credentials decide the account;
// expired or invalid session credentials are refused first, then
// throttling, as at AWS's front door. Refused and throttled calls count as
// calls and as errors of the caller's account. Faults (Config.Faults) are
// drawn for the requests that pass the front door, after the body is read.
func (s *Server) handle(pattern, operation, bucket string, h operationHandler) {
	if !slices.Contains(Operations, operation) {
		panic("emulator: operation " + operation + " is missing from Operations")
	}
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-RequestId", uuid.NewString())
		who, failure := s.identify(r)
		s.stats.recordCall(who.account, operation)
		fail := func(e *apiError) {
			s.stats.recordError(who.account, operation, e.code)
			writeError(w, e)
		}
		switch failure {
		case authExpired:
			fail(errExpiredToken())
			return
		case authInvalidToken:
			fail(errUnrecognizedClient())
			return
		case authBadSignature:
			fail(errInvalidSignature())
			return
		}
		if retryAfter, ok := s.quotas.take(who.account, bucket); !ok {
			fail(errTooManyRequests(retryAfter))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 70<<20))
		if err != nil {
			fail(errInvalidRequestContent("Could not read request body: " + err.Error()))
			return
		}
		c := &call{who: who, action: "lambda:" + operation}
		fault := s.faults.decide(operation)
		if !s.delay(r, operation, fault) {
			return
		}
		switch fault.kind {
		case FaultServiceError:
			s.stats.recordFault(operation, fault.kind)
			fail(errService(msgInternalError))
			return
		case FaultThrottle:
			s.stats.recordFault(operation, fault.kind)
			fail(errTooManyRequests(fault.retryAfter))
			return
		case FaultUpdateConflict:
			s.mu.Lock()
			apiErr, injected := s.errUpdateInProgress(c, r, operation)
			s.mu.Unlock()
			if injected {
				s.stats.recordFault(operation, fault.kind)
			}
			fail(apiErr)
			return
		case FaultDrop:
			s.stats.recordFault(operation, fault.kind)
			dropConnection(w)
			return
		}
		s.mu.Lock()
		resp, apiErr := h(c, r, body)
		s.mu.Unlock()
		if fault.kind == FaultDropAfterApply {
			// Applied (or refused) but never answered: not in Errors.
			s.stats.recordFault(operation, fault.kind)
			dropConnection(w)
			return
		}
		if apiErr != nil {
			fail(apiErr)
			return
		}
		if resp.body == "" {
			w.WriteHeader(resp.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.status)
		_, _ = io.WriteString(w, resp.body)
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Stats returns a copy of the call and error counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes the counters.
func (s *Server) ResetStats() { s.stats.reset() }

// TakeStats returns the counters and zeroes them at one instant, so that
// consecutive takes count every call exactly once (Stats then ResetStats
// loses the calls that end between the two).
func (s *Server) TakeStats() Stats { return s.stats.take() }

// Policy returns the stored policy document and its RevisionId for a
// function and qualifier ("" or "$LATEST" for the unqualified policy),
// whichever operations wrote it: exactly what GetPolicy and
// GetResourcePolicy return (§16.5). The
// function is a bare name in the default account (Config.AccountID) or a
// full or partial ARN in any account. ok is false when there is no policy.
// It is not counted as a call.
func (s *Server) Policy(functionName, qualifier string) (policy, revisionID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, parsed := parseFunctionName(functionName)
	if !parsed || (ref.region != "" && ref.region != s.cfg.Region) {
		return "", "", false
	}
	if qualifier == "" {
		qualifier = ref.qualifier
	}
	account := ref.account
	if account == "" {
		account = s.cfg.AccountID
	}
	target, failure := s.lookupPolicy(account, ref.name, qualifier)
	if failure != lookupOK || !target.policy.exists() {
		return "", "", false
	}
	return target.policy.document(), target.policy.revisionID, true
}
