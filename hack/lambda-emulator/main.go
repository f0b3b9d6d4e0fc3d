// Command lambda-emulator serves the in-memory AWS Lambda emulator over HTTP.
//
//	go run ./hack/lambda-emulator --addr 127.0.0.1:9001 --region us-east-2 \
//	    --account-id 123456789012 --quota GetPolicy=15 --quota ControlPlane=15 \
//	    --access-key AKIAOTHERACCOUNT0001=210987654321 \
//	    --role arn:aws:iam::210987654321:role/operator,externalId=xyz,trust=123456789012 \
//	    --fault '*:throttle=0.05' --fault GetPolicy:drop=0.1 \
//	    --fault-latency 'AddPermission=50ms±20ms' --fault-seed 42 \
//	    --block-public-policy 210987654321
//
// Point an SDK at it with AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:9001 (and
// AWS_ENDPOINT_URL_STS, the same URL, for AssumeRole and GetCallerIdentity).
// Any static credentials work; the access key id decides the account:
// --access-key keys act in their account, any other key in --account-id,
// and credentials from AssumeRole in the role's account.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lambda-permission-operator/lambda-permission-operator/internal/testing/emulator"
)

// quotaFlag collects repeated --quota NAME=RPS flags.
type quotaFlag map[string]float64

func (q quotaFlag) String() string {
	if len(q) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(q))
	for name, rate := range q {
		parts = append(parts, name+"="+strconv.FormatFloat(rate, 'g', -1, 64))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func (q quotaFlag) Set(value string) error {
	name, rate, ok := strings.Cut(value, "=")
	if !ok {
		return fmt.Errorf("want NAME=RPS, got %q", value)
	}
	rps, err := strconv.ParseFloat(rate, 64)
	if err != nil {
		return fmt.Errorf("quota %s: %w", name, err)
	}
	q[name] = rps
	return nil
}

// accessKeyFlag collects repeated --access-key KEY=ACCOUNT flags.
type accessKeyFlag map[string]string

func (a accessKeyFlag) String() string {
	parts := make([]string, 0, len(a))
	for key, account := range a {
		parts = append(parts, key+"="+account)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func (a accessKeyFlag) Set(value string) error {
	key, account, ok := strings.Cut(value, "=")
	if !ok || key == "" || account == "" {
		return fmt.Errorf("want KEY=ACCOUNT, got %q", value)
	}
	a[key] = account
	return nil
}

// accountsFlag collects repeated --block-public-policy ACCOUNT flags.
type accountsFlag []string

func (a *accountsFlag) String() string {
	if len(*a) == 0 {
		return "none"
	}
	return strings.Join(*a, ",")
}

func (a *accountsFlag) Set(value string) error {
	if value == "" {
		return errors.New("want a 12-digit account id")
	}
	*a = append(*a, value)
	return nil
}

// roleFlag collects repeated --role ARN[,externalId=X][,trust=A1:A2][,maxSession=DURATION]
// flags. A comma-separated part that is not one of those options belongs to
// the part before it, as role names and external ids may contain commas.
type roleFlag []emulator.Role

func (r *roleFlag) String() string {
	parts := make([]string, 0, len(*r))
	for _, role := range *r {
		parts = append(parts, role.ARN)
	}
	return strings.Join(parts, " ")
}

func (r *roleFlag) Set(value string) error {
	role, err := parseRole(value)
	if err != nil {
		return err
	}
	*r = append(*r, role)
	return nil
}

func parseRole(value string) (emulator.Role, error) {
	var role emulator.Role
	values := map[string]*string{}
	var trust, maxSession string
	last := &role.ARN
	for i, part := range strings.Split(value, ",") {
		name, v, _ := strings.Cut(part, "=")
		target := map[string]*string{"externalId": &role.ExternalID, "trust": &trust, "maxSession": &maxSession}[name]
		switch {
		case i == 0:
			role.ARN = part
		case target != nil && values[name] == nil:
			*target, values[name], last = v, target, target
		default:
			*last += "," + part
		}
	}
	if trust != "" {
		role.TrustedAccounts = strings.Split(trust, ":")
	}
	if maxSession != "" {
		d, err := time.ParseDuration(maxSession)
		if err != nil {
			return role, fmt.Errorf("role %s: maxSession: %w", role.ARN, err)
		}
		role.MaxSessionDuration = d
	}
	return role, nil
}

// faultFlags fills Faults.Operations from the repeated --fault
// OP:KIND=RATE and --fault-latency OP=DURATION[±JITTER] flags.
type faultFlags struct{ faults *emulator.Faults }

func (f faultFlags) operation(op string) emulator.OperationFaults {
	if f.faults.Operations == nil {
		f.faults.Operations = map[string]emulator.OperationFaults{}
	}
	return f.faults.Operations[op]
}

// faultFlag is --fault OP:KIND=RATE.
type faultFlag struct{ faultFlags }

func (f faultFlag) String() string { return "" }

func (f faultFlag) Set(value string) error {
	spec, rateText, ok := strings.Cut(value, "=")
	op, kind, ok2 := strings.Cut(spec, ":")
	if !ok || !ok2 || op == "" {
		return fmt.Errorf("want OP:KIND=RATE, got %q", value)
	}
	rate, err := strconv.ParseFloat(rateText, 64)
	if err != nil {
		return fmt.Errorf("fault %s: %w", spec, err)
	}
	o := f.operation(op)
	if !o.SetRate(kind, rate) {
		return fmt.Errorf("fault %s: unknown kind %q (valid: %s)", spec, kind, strings.Join(emulator.FaultKinds, ", "))
	}
	f.faults.Operations[op] = o
	return nil
}

// faultLatencyFlag is --fault-latency OP=DURATION[±JITTER] ("+-" works
// for "±").
type faultLatencyFlag struct{ faultFlags }

func (f faultLatencyFlag) String() string { return "" }

func (f faultLatencyFlag) Set(value string) error {
	op, spec, ok := strings.Cut(value, "=")
	if !ok || op == "" {
		return fmt.Errorf("want OP=DURATION[±JITTER], got %q", value)
	}
	latencyText, jitterText, hasJitter := strings.Cut(strings.ReplaceAll(spec, "+-", "±"), "±")
	latency, err := time.ParseDuration(latencyText)
	if err != nil {
		return fmt.Errorf("fault latency %s: %w", op, err)
	}
	var jitter time.Duration
	if hasJitter {
		if jitter, err = time.ParseDuration(jitterText); err != nil {
			return fmt.Errorf("fault latency %s: jitter: %w", op, err)
		}
	}
	o := f.operation(op)
	o.Latency, o.LatencyJitter = latency, jitter
	f.faults.Operations[op] = o
	return nil
}

// faultsString summarizes faults for the startup log.
func faultsString(f emulator.Faults) string {
	if len(f.Operations) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(f.Operations))
	for op, o := range f.Operations {
		var kinds []string
		for _, kind := range emulator.FaultKinds {
			if rate := o.Rate(kind); rate > 0 {
				kinds = append(kinds, kind+"="+strconv.FormatFloat(rate, 'g', -1, 64))
			}
		}
		if o.Latency > 0 || o.LatencyJitter > 0 {
			kinds = append(kinds, "latency="+o.Latency.String()+"±"+o.LatencyJitter.String())
		}
		parts = append(parts, op+":"+strings.Join(kinds, ":"))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",") + " seed " + strconv.FormatInt(f.Seed, 10)
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	quotas := quotaFlag{}
	addr := flag.String("addr", "127.0.0.1:9001", "listen address (host:port)")
	region := flag.String("region", "us-east-1", "region of the emulated endpoint")
	account := flag.String("account-id", "123456789012", "default account: of requests whose access key is not an --access-key")
	flag.Var(quotas, "quota", "rate quota NAME=RPS per account, repeatable; NAME is one of "+strings.Join(emulator.QuotaBuckets, ", "))
	accessKeys := accessKeyFlag{}
	flag.Var(accessKeys, "access-key", "KEY=ACCOUNT: requests signed with access key id KEY act in ACCOUNT, repeatable")
	var roles roleFlag
	flag.Var(&roles, "role", "ARN[,externalId=X][,trust=ACCOUNT1:ACCOUNT2][,maxSession=DURATION]: a role STS AssumeRole can assume, repeatable")
	var faults emulator.Faults
	flag.Var(faultFlag{faultFlags{&faults}}, "fault", "OP:KIND=RATE: inject a fault with probability RATE in [0,1], repeatable; OP is an operation or * for all, KIND one of "+strings.Join(emulator.FaultKinds, ", "))
	flag.Var(faultLatencyFlag{faultFlags{&faults}}, "fault-latency", "OP=DURATION[±JITTER]: add latency to OP (or * for all), repeatable; \"+-\" may stand for \"±\"")
	flag.Int64Var(&faults.Seed, "fault-seed", 0, "seed of the fault injection's random source (same seed and request order, same faults)")
	flag.IntVar(&faults.RetryAfterSeconds, "retry-after-seconds", 1, "Retry-After of injected throttle faults")
	var blockPublic accountsFlag
	flag.Var(&blockPublic, "block-public-policy", "ACCOUNT: AddPermission and PutResourcePolicy refuse public statements in ACCOUNT with PublicPolicyException (emulator-only switch), repeatable")
	flag.Parse()

	cfg := emulator.Config{Region: *region, AccountID: *account, Quotas: quotas, AccessKeys: accessKeys, Roles: roles, Faults: faults,
		BlockPublicPolicy: blockPublic}
	if err := cfg.Validate(); err != nil {
		return err
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	server := &http.Server{Handler: emulator.New(cfg), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	log.Printf("lambda emulator listening on http://%s (region %s, default account %s, access keys %v, roles %v, quotas %v, faults %s, block public policy %s)",
		listener.Addr(), *region, *account, accessKeys, roles.String(), quotas, faultsString(faults), blockPublic.String())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
