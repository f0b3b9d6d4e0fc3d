// Package awslambda is the operator's port to AWS Lambda: the policy calls
// (GetPolicy, AddPermission, RemovePermission, and the whole-document
// PutResourcePolicy and DeleteResourcePolicy) and a function lookup, in the policy package's terms, with every
// failure classified (see Kind). It talks to Lambda only through
// aws-sdk-go-v2 and the SDK's standard configuration, so credentials,
// IRSA, Pod Identity and AWS_ENDPOINT_URL_LAMBDA all work as users expect.
package awslambda

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// Lambda is what the controller needs from AWS Lambda.
type Lambda interface {
	// ResolveFunction fills in the account and partition of ref from the
	// function's ARN, and fails with NotFound when the function, version or
	// alias does not exist.
	ResolveFunction(ctx context.Context, ref policy.FunctionRef) (policy.FunctionRef, error)
	// GetPolicy reads the policy of ref. A function without a policy has an
	// empty Policy, not an error.
	GetPolicy(ctx context.Context, ref policy.FunctionRef) (Policy, error)
	// AddPermission adds one statement and returns it as Lambda stored it.
	AddPermission(ctx context.Context, ref policy.FunctionRef, p policy.Permission) (string, error)
	// RemovePermission removes the statement sid, if the policy is still at
	// revisionID.
	RemovePermission(ctx context.Context, ref policy.FunctionRef, sid, revisionID string) error
	// PutResourcePolicy replaces ref's whole policy with document, if the
	// policy is still at revisionID (empty: there is no policy yet), and
	// returns the policy as Lambda stored it, at its new revision.
	PutResourcePolicy(ctx context.Context, ref policy.FunctionRef, document, revisionID string) (Policy, error)
	// DeleteResourcePolicy deletes ref's whole policy, if it is still at
	// revisionID.
	DeleteResourcePolicy(ctx context.Context, ref policy.FunctionRef, revisionID string) error
}

// Policy is a function's policy and the revision it was read at.
type Policy struct {
	Document   policy.PolicyDocument
	RevisionID string // empty when the function has no policy
}

// Client implements Lambda for one identity (so one account), with one SDK
// client and one set of rate limits per region.
type Client struct {
	identity Identity // who the calls are made as, for the failures to name
	config   aws.Config
	limits   Limits
	options  []func(*lambda.Options)

	mu       sync.Mutex
	byRegion map[string]regional
}

type regional struct {
	api      *lambda.Client
	limiters *limiters
}

// New returns a Client acting with c's own credentials, that keeps below
// c's limits in each region.
func New(c Config) *Client {
	return newClient(Identity{}, c.observed(c.AWS, ownAccount()), c.Limits, c.LambdaOptions)
}

func newClient(id Identity, cfg aws.Config, limits Limits, options []func(*lambda.Options)) *Client {
	return &Client{identity: id, config: cfg, limits: limits, options: options, byRegion: map[string]regional{}}
}

// classify is Classify, with the identity the call was made as.
func (c *Client) classify(operation string, err error) error {
	return c.identity.annotate(Classify(operation, err))
}

func (c *Client) region(region string) regional {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.byRegion[region]
	if !ok {
		options := append([]func(*lambda.Options){func(o *lambda.Options) { o.Region = region }}, c.options...)
		r = regional{api: lambda.NewFromConfig(c.config, options...), limiters: newLimiters(c.limits)}
		c.byRegion[region] = r
	}
	return r
}

// functionName is what the calls send: the ARN when it is known, which also
// pins the account, else the bare name in the caller's account.
func functionName(ref policy.FunctionRef) *string {
	if ref.Complete() {
		return aws.String(ref.FunctionARN())
	}
	return aws.String(ref.Name)
}

func qualifier(ref policy.FunctionRef) *string {
	if ref.Qualifier == "" {
		return nil
	}
	return aws.String(ref.Qualifier)
}

func (c *Client) ResolveFunction(ctx context.Context, ref policy.FunctionRef) (policy.FunctionRef, error) {
	r := c.region(ref.Region)
	if err := wait(ctx, r.limiters.getFunction, "GetFunction"); err != nil {
		return ref, err
	}
	out, err := r.api.GetFunction(ctx, &lambda.GetFunctionInput{
		FunctionName: functionName(ref),
		Qualifier:    qualifier(ref),
	})
	if err != nil {
		return ref, c.classify("GetFunction", err)
	}
	if out.Configuration == nil || out.Configuration.FunctionArn == nil {
		return ref, &Error{Operation: "GetFunction", Kind: Unavailable, Err: errors.New("response has no FunctionArn")}
	}
	fn, err := policy.ParseFunctionName(*out.Configuration.FunctionArn)
	if err != nil || !fn.Complete() {
		return ref, &Error{Operation: "GetFunction", Kind: Unavailable,
			Err: fmt.Errorf("unexpected FunctionArn %q", *out.Configuration.FunctionArn)}
	}
	fn.Qualifier = ref.Qualifier // GetFunction may answer with the version an alias points to
	return fn, nil
}

func (c *Client) GetPolicy(ctx context.Context, ref policy.FunctionRef) (Policy, error) {
	r := c.region(ref.Region)
	if err := wait(ctx, r.limiters.getPolicy, "GetPolicy"); err != nil {
		return Policy{}, err
	}
	out, err := r.api.GetPolicy(ctx, &lambda.GetPolicyInput{
		FunctionName: functionName(ref),
		Qualifier:    qualifier(ref),
	})
	if err != nil {
		err = c.classify("GetPolicy", err)
		// Lambda answers 404 for "no policy" and for "no function" alike;
		// AddPermission or ResolveFunction tell the two apart when it matters.
		if KindOf(err) == NotFound {
			return Policy{}, nil
		}
		return Policy{}, err
	}
	doc, err := policy.ParsePolicy(aws.ToString(out.Policy))
	if err != nil {
		return Policy{}, &Error{Operation: "GetPolicy", Kind: Unavailable, Err: err}
	}
	return Policy{Document: doc, RevisionID: aws.ToString(out.RevisionId)}, nil
}

// AddPermission sends no RevisionId: a new Sid is already protected by the
// duplicate-Sid 409, and a RevisionId would make every unrelated change to
// the policy (other statements, other writers) fail the call with 412.
func (c *Client) AddPermission(ctx context.Context, ref policy.FunctionRef, p policy.Permission) (string, error) {
	in := &lambda.AddPermissionInput{
		FunctionName:        functionName(ref),
		Qualifier:           qualifier(ref),
		StatementId:         aws.String(p.StatementID),
		Action:              aws.String(p.Action),
		Principal:           aws.String(p.Principal),
		SourceArn:           optional(p.SourceArn),
		SourceAccount:       optional(p.SourceAccount),
		PrincipalOrgID:      optional(p.PrincipalOrgID),
		EventSourceToken:    optional(p.EventSourceToken),
		FunctionUrlAuthType: types.FunctionUrlAuthType(p.FunctionURLAuthType),
	}
	if p.InvokedViaFunctionURL {
		in.InvokedViaFunctionUrl = aws.Bool(true)
	}
	r := c.region(ref.Region)
	if err := waitControlPlane(ctx, r, "AddPermission"); err != nil {
		return "", err
	}
	out, err := r.api.AddPermission(ctx, in)
	if err != nil {
		return "", c.classify("AddPermission", err)
	}
	return aws.ToString(out.Statement), nil
}

func (c *Client) RemovePermission(ctx context.Context, ref policy.FunctionRef, sid, revisionID string) error {
	r := c.region(ref.Region)
	if err := waitControlPlane(ctx, r, "RemovePermission"); err != nil {
		return err
	}
	_, err := r.api.RemovePermission(ctx, &lambda.RemovePermissionInput{
		FunctionName: functionName(ref),
		Qualifier:    qualifier(ref),
		StatementId:  aws.String(sid),
		RevisionId:   optional(revisionID),
	})
	return c.classify("RemovePermission", err)
}

// PutResourcePolicy and DeleteResourcePolicy name the resource by its
// complete ARN, qualifier included (SPEC §16.2), and count against the
// control-plane quota like AddPermission (SPEC §16.9).
func (c *Client) PutResourcePolicy(ctx context.Context, ref policy.FunctionRef, document, revisionID string) (Policy, error) {
	r := c.region(ref.Region)
	if err := waitControlPlane(ctx, r, "PutResourcePolicy"); err != nil {
		return Policy{}, err
	}
	out, err := r.api.PutResourcePolicy(ctx, &lambda.PutResourcePolicyInput{
		ResourceArn: aws.String(ref.ResourceARN()),
		Policy:      aws.String(document),
		RevisionId:  optional(revisionID),
	})
	if err != nil {
		return Policy{}, c.classify("PutResourcePolicy", err)
	}
	doc, err := policy.ParsePolicy(aws.ToString(out.Policy))
	if err != nil {
		return Policy{}, &Error{Operation: "PutResourcePolicy", Kind: Unavailable, Err: err}
	}
	return Policy{Document: doc, RevisionID: aws.ToString(out.RevisionId)}, nil
}

func (c *Client) DeleteResourcePolicy(ctx context.Context, ref policy.FunctionRef, revisionID string) error {
	r := c.region(ref.Region)
	if err := waitControlPlane(ctx, r, "DeleteResourcePolicy"); err != nil {
		return err
	}
	_, err := r.api.DeleteResourcePolicy(ctx, &lambda.DeleteResourcePolicyInput{
		ResourceArn: aws.String(ref.ResourceARN()),
		RevisionId:  optional(revisionID),
	})
	return c.classify("DeleteResourcePolicy", err)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
