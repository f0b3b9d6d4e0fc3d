// Command lambda-emulator serves the in-memory AWS Lambda emulator over HTTP.
//
//	go run ./hack/lambda-emulator --addr 127.0.0.1:9001 --region us-east-2 \
//	    --account-id 123456789012 --quota GetPolicy=15 --quota ControlPlane=15
//
// Point an SDK at it with AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:9001 and
// any static credentials.
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

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	quotas := quotaFlag{}
	addr := flag.String("addr", "127.0.0.1:9001", "listen address (host:port)")
	region := flag.String("region", "us-east-1", "region of the emulated endpoint")
	account := flag.String("account-id", "123456789012", "account id owning the functions")
	flag.Var(quotas, "quota", "rate quota NAME=RPS, repeatable; NAME is one of "+strings.Join(emulator.QuotaBuckets, ", "))
	flag.Parse()

	cfg := emulator.Config{Region: *region, AccountID: *account, Quotas: quotas}
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
	log.Printf("lambda emulator listening on http://%s (region %s, account %s, quotas %v)", listener.Addr(), *region, *account, quotas)

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
