// Command lambda-emulator serves the in-memory AWS Lambda emulator over HTTP.
//
//	go run ./hack/lambda-emulator --addr 127.0.0.1:9001 --region us-east-2 \
//	    --account-id 123456789012 --quota GetPolicy=15 --quota ControlPlane=15 \
//	    --access-key AKIAOTHERACCOUNT0001=210987654321 \
//	    --role arn:aws:iam::210987654321:role/operator,externalId=xyz,trust=123456789012
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

	"github.com/lambda-permission-operator/lambda-permission-operator/hack/lambda-emulator/emulator"
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
	flag.Parse()

	cfg := emulator.Config{Region: *region, AccountID: *account, Quotas: quotas, AccessKeys: accessKeys, Roles: roles}
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
	log.Printf("lambda emulator listening on http://%s (region %s, default account %s, access keys %v, roles %v, quotas %v)",
		listener.Addr(), *region, *account, accessKeys, roles.String(), quotas)

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
