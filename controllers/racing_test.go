//go:build integration

package controllers_test

import (
	"context"
	"maps"
	"sync"

	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/awslambda"
	"github.com/lambda-permission-operator/lambda-permission-operator/controllers/policy"
)

// racingLambda is the controller's port to Lambda with one twist: a test can
// have another writer change the policy just before the controller's next
// RemovePermission, or AddPermission or PutResourcePolicy, on a function, to
// make real 412 and 409 answers happen at the worst moment.
type racingLambda struct {
	clients *awslambda.Clients
	// inFlight is held for reading by every call in progress, so that
	// Quiesced can run between calls.
	inFlight     sync.RWMutex
	mu           sync.Mutex
	callsTo      map[string]int            // calls the controller made about each function, by name
	writesTo     map[string]int            // its AddPermission, RemovePermission, PutResourcePolicy and DeleteResourcePolicy calls, by function name
	writesBy     map[string]map[string]int // the same by function name and operation
	beforeRemove map[string]func()
	beforeAdd    map[string]func()
	held         map[string]chan struct{} // calls about these functions wait until it is closed
}

func (l *racingLambda) For(id awslambda.Identity) awslambda.Lambda {
	return racingPort{Lambda: l.clients.For(id), hooks: l}
}

func (l *racingLambda) Caller(ctx context.Context, id awslambda.Identity) (string, string, error) {
	l.inFlight.RLock()
	defer l.inFlight.RUnlock()
	return l.clients.Caller(ctx, id)
}

// Quiesced runs f while no call of the operator to AWS is in progress: every
// call that reached AWS has also returned to the operator, and no new one
// starts until f returns.
func (l *racingLambda) Quiesced(f func()) {
	l.inFlight.Lock()
	defer l.inFlight.Unlock()
	f()
}

// Hold makes the operator's calls about functions wait until release is
// called: what it asks of them meanwhile piles up.
func (l *racingLambda) Hold(functions ...string) (release func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		l.held = map[string]chan struct{}{}
	}
	gate := make(chan struct{})
	for _, fn := range functions {
		l.held[fn] = gate
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			for _, fn := range functions {
				delete(l.held, fn)
			}
			l.mu.Unlock()
			close(gate)
		})
	}
}

func (l *racingLambda) waitIfHeld(function string) {
	l.mu.Lock()
	gate := l.held[function]
	l.mu.Unlock()
	if gate != nil {
		<-gate
	}
}

// racingPort is one identity's port, running the armed hooks.
type racingPort struct {
	awslambda.Lambda
	hooks *racingLambda
}

func (l *racingLambda) BeforeNextRemove(function string, f func()) {
	l.arm(&l.beforeRemove, function, f)
}
func (l *racingLambda) BeforeNextAdd(function string, f func()) { l.arm(&l.beforeAdd, function, f) }

func (l *racingLambda) arm(hooks *map[string]func(), function string, f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if *hooks == nil {
		*hooks = map[string]func(){}
	}
	(*hooks)[function] = f
}

// CallsTo counts the controller's calls about a function: any at all means
// it did not refuse before calling AWS.
func (l *racingLambda) CallsTo(function string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.callsTo[function]
}

// WritesTo counts the controller's AddPermission and RemovePermission calls
// on a function.
func (l *racingLambda) WritesTo(function string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writesTo[function]
}

// WritesByOperation counts the controller's writes to a function's
// policies by operation.
func (l *racingLambda) WritesByOperation(function string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.writesBy[function])
}

func (l *racingLambda) wrote(function, operation string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.writesTo == nil {
		l.writesTo, l.writesBy = map[string]int{}, map[string]map[string]int{}
	}
	l.writesTo[function]++
	if l.writesBy[function] == nil {
		l.writesBy[function] = map[string]int{}
	}
	l.writesBy[function][operation]++
}

// called counts a call about function and returns the hook armed for it, if any.
func (l *racingLambda) called(hooks map[string]func(), function string) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.callsTo == nil {
		l.callsTo = map[string]int{}
	}
	l.callsTo[function]++
	f := hooks[function]
	delete(hooks, function)
	return f
}

// enter starts the operator's call about function: it waits while the
// function is held, counts the call, runs the hook armed for it in hooks
// and counts a write of operation, if any. The call is in flight (see
// Quiesced) until done is called.
func (l *racingLambda) enter(function string, hooks map[string]func(), operation string) (done func()) {
	l.waitIfHeld(function)
	l.inFlight.RLock()
	if f := l.called(hooks, function); f != nil {
		f()
	}
	if operation != "" {
		l.wrote(function, operation)
	}
	return l.inFlight.RUnlock
}

func (l racingPort) GetPolicy(ctx context.Context, ref policy.FunctionRef) (awslambda.Policy, error) {
	defer l.hooks.enter(ref.Name, nil, "")()
	return l.Lambda.GetPolicy(ctx, ref)
}

func (l racingPort) ResolveFunction(ctx context.Context, ref policy.FunctionRef) (policy.FunctionRef, error) {
	defer l.hooks.enter(ref.Name, nil, "")()
	return l.Lambda.ResolveFunction(ctx, ref)
}

func (l racingPort) RemovePermission(ctx context.Context, ref policy.FunctionRef, sid, revisionID string) error {
	defer l.hooks.enter(ref.Name, l.hooks.beforeRemove, "RemovePermission")()
	return l.Lambda.RemovePermission(ctx, ref, sid, revisionID)
}

func (l racingPort) PutResourcePolicy(ctx context.Context, ref policy.FunctionRef, document, revisionID string) (awslambda.Policy, error) {
	defer l.hooks.enter(ref.Name, l.hooks.beforeAdd, "PutResourcePolicy")()
	return l.Lambda.PutResourcePolicy(ctx, ref, document, revisionID)
}

func (l racingPort) DeleteResourcePolicy(ctx context.Context, ref policy.FunctionRef, revisionID string) error {
	defer l.hooks.enter(ref.Name, nil, "DeleteResourcePolicy")()
	return l.Lambda.DeleteResourcePolicy(ctx, ref, revisionID)
}

func (l racingPort) AddPermission(ctx context.Context, ref policy.FunctionRef, p policy.Permission) (string, error) {
	defer l.hooks.enter(ref.Name, l.hooks.beforeAdd, "AddPermission")()
	return l.Lambda.AddPermission(ctx, ref, p)
}
