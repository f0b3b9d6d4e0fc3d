package awslambda

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Identity is who the operator acts as in AWS: its own credentials (the zero
// Identity) or a role it assumes in another account.
type Identity struct {
	RoleARN     string
	ExternalID  string
	SessionName string
}

// annotate adds to a classified failure who the call was made as.
func (id Identity) annotate(err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.Role, e.ExternalID = id.RoleARN, id.ExternalID != ""
	}
	return err
}

// Provider hands out a Lambda port per identity.
type Provider interface {
	// For returns the port acting as id.
	For(id Identity) Lambda
	// Caller returns the account and ARN that id acts as (STS
	// GetCallerIdentity), failing when the role cannot be assumed.
	Caller(ctx context.Context, id Identity) (account, arn string, err error)
}

// Clients implements Provider: one Client per identity, assumed-role
// credentials cached and refreshed before they expire.
type Clients struct {
	base    Config
	config  aws.Config // the operator's own, observed (see Config.Observe)
	limits  Limits
	options []func(*lambda.Options)

	mu      sync.Mutex
	configs map[Identity]aws.Config
	byID    map[Identity]*Client
	stsFor  map[Identity]*sts.Client
	callers map[Identity][2]string // an identity's account and ARN never change
}

// NewClients returns a Provider from c, whose AWS configuration is normally
// config.LoadDefaultConfig, so that AWS_ENDPOINT_URL_LAMBDA and
// AWS_ENDPOINT_URL_STS are honoured.
func NewClients(c Config) *Clients {
	return &Clients{base: c, config: c.observed(c.AWS, ownAccount()), limits: c.Limits, options: c.LambdaOptions,
		configs: map[Identity]aws.Config{}, byID: map[Identity]*Client{}, stsFor: map[Identity]*sts.Client{},
		callers: map[Identity][2]string{}}
}

func (c *Clients) For(id Identity) Lambda {
	c.mu.Lock()
	defer c.mu.Unlock()
	client, ok := c.byID[id]
	if !ok {
		client = newClient(id, c.configFor(id), c.limits, c.options)
		c.byID[id] = client
	}
	return client
}

// configFor is the operator's own configuration, or a copy whose
// credentials come from AssumeRole made with the operator's own; one per
// identity, so its credentials cache is shared by all its clients.
// The caller holds c.mu.
func (c *Clients) configFor(id Identity) aws.Config {
	if id.RoleARN == "" {
		return c.config
	}
	if cfg, ok := c.configs[id]; ok {
		return cfg
	}
	// The role's calls, and the AssumeRole behind its credentials (made
	// with the operator's own), count in the role's account.
	ownCredentials := c.base.observed(c.base.AWS, roleAccount(id.RoleARN))
	cfg := ownCredentials.Copy()
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(ownCredentials), id.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = id.SessionName
		if id.ExternalID != "" {
			o.ExternalID = aws.String(id.ExternalID)
		}
	})
	cfg.Credentials = aws.NewCredentialsCache(provider)
	c.configs[id] = cfg
	return cfg
}

// Caller asks STS once per identity and remembers the answer.
func (c *Clients) Caller(ctx context.Context, id Identity) (string, string, error) {
	c.mu.Lock()
	if known, ok := c.callers[id]; ok {
		c.mu.Unlock()
		return known[0], known[1], nil
	}
	client, ok := c.stsFor[id]
	if !ok {
		client = sts.NewFromConfig(c.configFor(id))
		c.stsFor[id] = client
	}
	c.mu.Unlock()
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", id.annotate(Classify("GetCallerIdentity", err))
	}
	account, arn := aws.ToString(out.Account), aws.ToString(out.Arn)
	c.mu.Lock()
	c.callers[id] = [2]string{account, arn}
	c.mu.Unlock()
	return account, arn, nil
}
