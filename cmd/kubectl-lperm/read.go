package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"golang.org/x/time/rate"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// lambdaReader is the part of Lambda the plugin uses: it only reads.
type lambdaReader interface {
	lambda.ListFunctionsAPIClient
	lambda.ListVersionsByFunctionAPIClient
	lambda.ListAliasesAPIClient
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	GetFunctionUrlConfig(context.Context, *lambda.GetFunctionUrlConfigInput, ...func(*lambda.Options)) (*lambda.GetFunctionUrlConfigOutput, error)
}

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
	Text     string             // as GetPolicy returned it; "" when there is none
	Revision string
	Document policy.PolicyDocument
	// URLAuthType is the auth type of the function URL on Target ("" when it
	// has none, or when URLs were not asked for).
	URLAuthType string
}

// reader reads policies within Lambda's quotas: GetPolicy has its own
// bucket, the List and URL operations share the control-plane one (both 15
// per second per account and region; the defaults leave room for the
// operator).
type reader struct {
	lambda       lambdaReader
	getPolicy    *rate.Limiter
	controlPlane *rate.Limiter
	withURLs     bool
	progress     io.Writer // where a long run says how far it is
	workers      int
}

func newReader(client lambdaReader, getPolicyRPS, controlPlaneRPS float64, progress io.Writer) *reader {
	return &reader{lambda: client, progress: progress, workers: 4,
		getPolicy:    rate.NewLimiter(rate.Limit(getPolicyRPS), 1),
		controlPlane: rate.NewLimiter(rate.Limit(controlPlaneRPS), 1)}
}

// read returns the selected policies, sorted by resource ARN.
func (r *reader) read(ctx context.Context, sel selection) ([]policyRead, error) {
	functions := []string{sel.function}
	if sel.all {
		var err error
		if functions, err = r.functions(ctx); err != nil {
			return nil, err
		}
		fmt.Fprintf(r.progress, "kubectl-lperm: %d functions\n", len(functions))
	}

	var (
		mu       sync.Mutex
		policies []policyRead
		failures []error
		done     int
		wg       sync.WaitGroup
	)
	next := make(chan string)
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

// functions lists every function of the account and region by ARN.
func (r *reader) functions(ctx context.Context) ([]string, error) {
	var arns []string
	pages := lambda.NewListFunctionsPaginator(r.lambda, &lambda.ListFunctionsInput{})
	for pages.HasMorePages() {
		if err := r.controlPlane.Wait(ctx); err != nil {
			return nil, err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListFunctions: %w", err)
		}
		for _, f := range page.Functions {
			arns = append(arns, aws.ToString(f.FunctionArn))
		}
	}
	return arns, nil
}

// function reads the policies of one function: the unqualified function,
// each published version and each alias, or only the qualifier asked for.
func (r *reader) function(ctx context.Context, name, qualifier string) ([]policyRead, error) {
	versions, err := r.versions(ctx, name)
	if err != nil {
		return nil, err
	}
	base, err := policy.ParseFunctionName(versions[0])
	if err != nil || !base.Complete() {
		return nil, fmt.Errorf("%s: Lambda returned function ARN %q", name, versions[0])
	}
	base.Qualifier = ""
	targets := []policy.FunctionRef{base}
	for _, arn := range versions {
		if ref, err := policy.ParseFunctionName(arn); err == nil && ref.Qualifier != "" && ref.Qualifier != "$LATEST" {
			targets = append(targets, ref) // $LATEST's policy is the unqualified function's
		}
	}
	aliases, err := r.aliases(ctx, base.FunctionARN())
	if err != nil {
		return nil, err
	}
	for _, alias := range aliases {
		ref := base
		ref.Qualifier = alias
		targets = append(targets, ref)
	}
	if qualifier != "" {
		targets = slices.DeleteFunc(targets, func(t policy.FunctionRef) bool { return t.Qualifier != qualifier })
		if len(targets) == 0 {
			return nil, fmt.Errorf("%s has no version or alias %q", base.FunctionARN(), qualifier)
		}
	}

	var policies []policyRead
	for _, target := range targets {
		read, err := r.policy(ctx, target)
		if err != nil {
			return nil, err
		}
		if r.withURLs && !isVersion(target.Qualifier) {
			if read.URLAuthType, err = r.urlAuthType(ctx, target); err != nil {
				return nil, err
			}
		}
		policies = append(policies, read)
	}
	return policies, nil
}

// versions lists the function's version ARNs, $LATEST first.
func (r *reader) versions(ctx context.Context, function string) ([]string, error) {
	var arns []string
	pages := lambda.NewListVersionsByFunctionPaginator(r.lambda, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(function)})
	for pages.HasMorePages() {
		if err := r.controlPlane.Wait(ctx); err != nil {
			return nil, err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListVersionsByFunction %s: %w", function, err)
		}
		for _, v := range page.Versions {
			arns = append(arns, aws.ToString(v.FunctionArn))
		}
	}
	if len(arns) == 0 {
		return nil, fmt.Errorf("ListVersionsByFunction %s returned no version", function)
	}
	return arns, nil
}

func (r *reader) aliases(ctx context.Context, functionARN string) ([]string, error) {
	var names []string
	pages := lambda.NewListAliasesPaginator(r.lambda, &lambda.ListAliasesInput{FunctionName: aws.String(functionARN)})
	for pages.HasMorePages() {
		if err := r.controlPlane.Wait(ctx); err != nil {
			return nil, err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListAliases %s: %w", functionARN, err)
		}
		for _, a := range page.Aliases {
			names = append(names, aws.ToString(a.Name))
		}
	}
	return names, nil
}

// policy reads target's policy; a target without one has an empty policy.
func (r *reader) policy(ctx context.Context, target policy.FunctionRef) (policyRead, error) {
	read := policyRead{Target: target}
	if err := r.getPolicy.Wait(ctx); err != nil {
		return read, err
	}
	out, err := r.lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(target.FunctionARN()), Qualifier: qualifierOrNil(target)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return read, nil
	case err != nil:
		return read, fmt.Errorf("GetPolicy %s: %w", target.ResourceARN(), err)
	}
	read.Text, read.Revision = aws.ToString(out.Policy), aws.ToString(out.RevisionId)
	if read.Document, err = policy.ParsePolicy(read.Text); err != nil {
		return read, fmt.Errorf("GetPolicy %s: %w", target.ResourceARN(), err)
	}
	return read, nil
}

// urlAuthType is the auth type of target's function URL, "" without one.
func (r *reader) urlAuthType(ctx context.Context, target policy.FunctionRef) (string, error) {
	if err := r.controlPlane.Wait(ctx); err != nil {
		return "", err
	}
	out, err := r.lambda.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(target.FunctionARN()), Qualifier: qualifierOrNil(target)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("GetFunctionUrlConfig %s: %w", target.ResourceARN(), err)
	}
	return string(out.AuthType), nil
}

func qualifierOrNil(target policy.FunctionRef) *string {
	if target.Qualifier == "" {
		return nil
	}
	return aws.String(target.Qualifier)
}

// isVersion reports whether a qualifier is a version number: function URLs
// live on the unqualified function and on aliases only.
func isVersion(qualifier string) bool {
	return qualifier != "" && strings.Trim(qualifier, "0123456789") == ""
}
