package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// selection is which policies to read: one function (with its versions and
// aliases, or one qualifier of it), or every function of the account and
// region.
type selection struct {
	function  string // name, partial ARN or ARN
	qualifier string
	all       bool
}

// policyRead is one function's, version's or alias's policy.
type policyRead struct {
	Target   policy.FunctionRef // complete
	Revision string             // "" when there is no policy
	Document policy.PolicyDocument
	// URLAuthType is the auth type of the function URL on Target ("" when it
	// has none, or when URLs were not asked for).
	URLAuthType string
}

// reader reads policies through the AWS port's inventory, which keeps
// within Lambda's quotas: GetPolicy has its own limit, the List and URL
// operations share the control-plane one (both 15 per second per account
// and region; the plugin's defaults leave room for the operator).
type reader struct {
	lambda   awslambda.Inventory
	region   string // where a function named without a region is
	withURLs bool
	progress io.Writer // where a long run says how far it is
	workers  int
}

func newReader(inventory awslambda.Inventory, region string, progress io.Writer) *reader {
	return &reader{lambda: inventory, region: region, progress: progress, workers: 4}
}

// read returns the selected policies, sorted by resource ARN.
func (r *reader) read(ctx context.Context, sel selection) ([]policyRead, error) {
	var functions []policy.FunctionRef
	if sel.all {
		var err error
		if functions, err = r.lambda.ListFunctions(ctx, r.region); err != nil {
			return nil, err
		}
		fmt.Fprintf(r.progress, "kubectl-lperm: %d functions\n", len(functions))
	} else {
		fn, err := policy.ParseFunctionName(sel.function)
		if err != nil {
			return nil, fmt.Errorf("--function: %w", err)
		}
		functions = []policy.FunctionRef{fn.WithDefaults(r.region, "")}
	}

	var (
		mu       sync.Mutex
		policies []policyRead
		failures []error
		done     int
		wg       sync.WaitGroup
	)
	next := make(chan policy.FunctionRef)
	for range min(r.workers, len(functions)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fn := range next {
				read, err := r.function(ctx, fn, sel.qualifier)
				mu.Lock()
				policies = append(policies, read...)
				if err != nil {
					failures = append(failures, err)
				}
				done++
				if sel.all && (done%10 == 0 || done == len(functions)) {
					fmt.Fprintf(r.progress, "kubectl-lperm: read %d of %d functions\n", done, len(functions))
				}
				mu.Unlock()
			}
		}()
	}
	for _, fn := range functions {
		next <- fn
	}
	close(next)
	wg.Wait()
	if err := errors.Join(failures...); err != nil {
		return nil, err
	}
	slices.SortFunc(policies, func(a, b policyRead) int { return strings.Compare(a.Target.ResourceARN(), b.Target.ResourceARN()) })
	return policies, nil
}

// function reads the policies of one function: the unqualified function,
// each published version and each alias, or only the qualifier asked for.
// A qualifier in the function's name is not one: Lambda lists the
// function's versions whatever follows the name.
func (r *reader) function(ctx context.Context, fn policy.FunctionRef, qualifier string) ([]policyRead, error) {
	name := fn.Name
	if fn.Complete() {
		name = fn.FunctionARN()
	}
	versions, err := r.lambda.ListVersions(ctx, fn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("ListVersionsByFunction %s returned no version", name)
	}
	base := versions[0]
	base.Qualifier = ""
	targets := []policy.FunctionRef{base}
	for _, v := range versions {
		if v.Qualifier != "" && v.Qualifier != "$LATEST" {
			targets = append(targets, v) // $LATEST's policy is the unqualified function's
		}
	}
	aliases, err := r.lambda.ListAliases(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base.FunctionARN(), err)
	}
	targets = append(targets, aliases...)
	if qualifier != "" {
		targets = slices.DeleteFunc(targets, func(t policy.FunctionRef) bool { return t.Qualifier != qualifier })
		if len(targets) == 0 {
			return nil, fmt.Errorf("%s has no version or alias %q", base.FunctionARN(), qualifier)
		}
	}

	var policies []policyRead
	for _, target := range targets {
		current, err := r.lambda.GetPolicy(ctx, target)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", target.ResourceARN(), err)
		}
		read := policyRead{Target: target, Revision: current.RevisionID, Document: current.Document}
		if r.withURLs && !isVersion(target.Qualifier) {
			if read.URLAuthType, err = r.lambda.FunctionURLAuthType(ctx, target); err != nil {
				return nil, fmt.Errorf("%s: %w", target.ResourceARN(), err)
			}
		}
		policies = append(policies, read)
	}
	return policies, nil
}

// isVersion reports whether a qualifier is a version number: function URLs
// live on the unqualified function and on aliases only.
func isVersion(qualifier string) bool {
	return qualifier != "" && strings.Trim(qualifier, "0123456789") == ""
}
