package engine

import (
	"context"
	"sync"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// keyedLocks holds one mutex per key.
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// lock locks key and returns the unlock function.
func (k *keyedLocks) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*sync.Mutex{}
	}
	l, ok := k.locks[key]
	if !ok {
		l = &sync.Mutex{}
		k.locks[key] = l
	}
	k.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// functionCache remembers the account and partition of functions named
// without an ARN: a function's ARN never changes, so one lookup suffices.
type functionCache struct {
	byName sync.Map // "identity region/name" → policy.FunctionRef
	// Objects on one new function arrive together: one looks it up, the
	// others wait for its answer.
	lookups keyedLocks
}

func (c *functionCache) resolve(ctx context.Context, identity awslambda.Identity, lambda awslambda.Lambda, target policy.FunctionRef) (policy.FunctionRef, error) {
	key := identity.RoleARN + " " + target.Region + "/" + target.Name
	if fn, ok := c.byName.Load(key); ok {
		return withFunction(target, fn.(policy.FunctionRef)), nil
	}
	defer c.lookups.lock(key)()
	if fn, ok := c.byName.Load(key); ok {
		return withFunction(target, fn.(policy.FunctionRef)), nil
	}
	fn, err := lambda.ResolveFunction(ctx, policy.FunctionRef{Region: target.Region, Name: target.Name})
	if err != nil {
		return target, err
	}
	c.byName.Store(key, fn)
	return withFunction(target, fn), nil
}

func withFunction(target, fn policy.FunctionRef) policy.FunctionRef {
	target.Partition, target.AccountID = fn.Partition, fn.AccountID
	return target
}
