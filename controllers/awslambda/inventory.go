package awslambda

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// Inventory is the read-only part of Lambda that takes stock of an account
// and region: its functions, their versions, aliases, policies and function
// URLs. kubectl-lperm reads through it; it writes nothing.
//
// Every call is paced by the Client's limits: GetPolicy by its own, and the
// list operations and GetFunctionUrlConfig by the control-plane one, the
// quota AWS counts them against ("the rest of the control plane", 15 per
// second per account and region, SPEC §8 and §17.5). Each page of a list is
// one call. A reference without a region is in the AWS configuration's.
type Inventory interface {
	// ListFunctions lists the functions of the identity's account in region,
	// unqualified and complete (ListFunctions, every page).
	ListFunctions(ctx context.Context, region string) ([]policy.FunctionRef, error)
	// ListVersions lists the versions of fn, $LATEST first, each complete and
	// qualified with its version (ListVersionsByFunction, every page). fn's
	// qualifier is not sent.
	ListVersions(ctx context.Context, fn policy.FunctionRef) ([]policy.FunctionRef, error)
	// ListAliases lists the aliases of fn, each complete and qualified with
	// its name (ListAliases, every page). fn's qualifier is not sent.
	ListAliases(ctx context.Context, fn policy.FunctionRef) ([]policy.FunctionRef, error)
	// GetPolicy reads the policy of ref; see Lambda.
	GetPolicy(ctx context.Context, ref policy.FunctionRef) (Policy, error)
	// FunctionURLAuthType is the AuthType (AWS_IAM or NONE) of ref's
	// function URL, or "" when it has none (GetFunctionUrlConfig). Function
	// URLs live on the unqualified function and on aliases.
	FunctionURLAuthType(ctx context.Context, ref policy.FunctionRef) (string, error)
}

var _ Inventory = (*Client)(nil)

// in is the regional client of region, or of the configuration's region
// when region is empty.
func (c *Client) in(region string) regional {
	if region == "" {
		region = c.config.Region
	}
	return c.region(region)
}

func (c *Client) ListFunctions(ctx context.Context, region string) ([]policy.FunctionRef, error) {
	const operation = "ListFunctions"
	pages := lambda.NewListFunctionsPaginator(c.in(region).api, &lambda.ListFunctionsInput{})
	return readPages(ctx, c.in(region), operation, pages, func(page *lambda.ListFunctionsOutput) ([]policy.FunctionRef, error) {
		var functions []policy.FunctionRef
		for _, f := range page.Functions {
			ref, err := completeARN(operation, "FunctionArn", aws.ToString(f.FunctionArn))
			if err != nil {
				return nil, err
			}
			// Without FunctionVersion ALL, the list names $LATEST by the
			// unqualified ARN; the function is what is asked for.
			ref.Qualifier = ""
			functions = append(functions, ref)
		}
		return functions, nil
	})
}

func (c *Client) ListVersions(ctx context.Context, fn policy.FunctionRef) ([]policy.FunctionRef, error) {
	const operation = "ListVersionsByFunction"
	pages := lambda.NewListVersionsByFunctionPaginator(c.in(fn.Region).api, &lambda.ListVersionsByFunctionInput{FunctionName: functionName(fn)})
	return readPages(ctx, c.in(fn.Region), operation, pages, func(page *lambda.ListVersionsByFunctionOutput) ([]policy.FunctionRef, error) {
		var versions []policy.FunctionRef
		for _, v := range page.Versions {
			ref, err := completeARN(operation, "FunctionArn", aws.ToString(v.FunctionArn))
			if err != nil {
				return nil, err
			}
			if ref.Qualifier == "" {
				ref.Qualifier = aws.ToString(v.Version)
			}
			versions = append(versions, ref)
		}
		return versions, nil
	})
}

func (c *Client) ListAliases(ctx context.Context, fn policy.FunctionRef) ([]policy.FunctionRef, error) {
	const operation = "ListAliases"
	pages := lambda.NewListAliasesPaginator(c.in(fn.Region).api, &lambda.ListAliasesInput{FunctionName: functionName(fn)})
	return readPages(ctx, c.in(fn.Region), operation, pages, func(page *lambda.ListAliasesOutput) ([]policy.FunctionRef, error) {
		var aliases []policy.FunctionRef
		for _, a := range page.Aliases {
			ref, err := completeARN(operation, "AliasArn", aws.ToString(a.AliasArn))
			if err != nil {
				return nil, err
			}
			if name := aws.ToString(a.Name); ref.Qualifier != name {
				return nil, &Error{Operation: operation, Kind: Unavailable,
					Err: fmt.Errorf("alias %q has AliasArn %q", name, aws.ToString(a.AliasArn))}
			}
			aliases = append(aliases, ref)
		}
		return aliases, nil
	})
}

// pager is an SDK paginator of one list operation.
type pager[P any] interface {
	HasMorePages() bool
	NextPage(ctx context.Context, optFns ...func(*lambda.Options)) (P, error)
}

// readPages reads every page of operation's list, each paced under the
// control-plane limit, and what refs finds in each.
func readPages[P any](ctx context.Context, r regional, operation string, pages pager[P], refs func(P) ([]policy.FunctionRef, error)) ([]policy.FunctionRef, error) {
	var all []policy.FunctionRef
	for pages.HasMorePages() {
		if err := wait(ctx, r.limiters.controlPlane, operation); err != nil {
			return nil, err
		}
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, Classify(operation, err)
		}
		found, err := refs(page)
		if err != nil {
			return nil, err
		}
		all = append(all, found...)
	}
	return all, nil
}

func (c *Client) FunctionURLAuthType(ctx context.Context, ref policy.FunctionRef) (string, error) {
	const operation = "GetFunctionUrlConfig"
	r := c.in(ref.Region)
	if err := wait(ctx, r.limiters.controlPlane, operation); err != nil {
		return "", err
	}
	out, err := r.api.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{
		FunctionName: functionName(ref),
		Qualifier:    qualifier(ref),
	})
	if err != nil {
		err = Classify(operation, err)
		// 404 for "no URL" and for "no function" alike, as with GetPolicy.
		if KindOf(err) == NotFound {
			return "", nil
		}
		return "", err
	}
	return string(out.AuthType), nil
}

// completeARN reads an ARN Lambda returned in member of operation's answer;
// one that does not name a function completely is Lambda's failure.
func completeARN(operation, member, arn string) (policy.FunctionRef, error) {
	ref, err := policy.ParseFunctionName(arn)
	if err != nil || !ref.Complete() {
		return policy.FunctionRef{}, &Error{Operation: operation, Kind: Unavailable, Err: fmt.Errorf("unexpected %s %q", member, arn)}
	}
	return ref, nil
}
