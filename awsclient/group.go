package awsclient

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// group runs functions concurrently and keeps all their errors. Unlike
// errgroup it does not cancel the others on the first error: the calls are
// short, and waiting for all of them lets Wait report the most telling
// error (a typo'd function name rather than the canceled call next to it).
type group struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (g *group) Go(f func() error) {
	g.wg.Go(func() {
		if err := f(); err != nil {
			g.mu.Lock()
			g.errs = append(g.errs, err)
			g.mu.Unlock()
		}
	})
}

// Wait waits for every function and returns the most relevant error.
func (g *group) Wait() error {
	g.wg.Wait()
	return mostRelevant(g.errs)
}

// mostRelevant picks the error a user should see first: bad input, then
// something not found, then credentials, then failed calls, then calls cut
// short by the deadline (all of them, in one *TimeoutError), then calls
// that were stopped before they were sent. Among equals the earliest wins.
func mostRelevant(errs []error) error {
	var best error
	bestRank := 0
	for _, err := range errs {
		if r := errorRank(err); best == nil || r < bestRank {
			best, bestRank = err, r
		}
	}
	if te, ok := errors.AsType[*TimeoutError](best); ok {
		all := &TimeoutError{After: te.After, Err: te.Err}
		for _, err := range errs {
			if other, ok := errors.AsType[*TimeoutError](err); ok {
				all.merge(other)
			}
		}
		return all
	}
	return best
}

func errorRank(err error) int {
	var (
		input   *InputError
		nf      *NotFoundError
		cred    *CredentialsError
		ro      *ReadOnlyError
		timeout *TimeoutError
	)
	switch {
	case errors.As(err, &input):
		return 0
	case errors.As(err, &nf):
		return 1
	case errors.As(err, &cred):
		return 2
	case errors.As(err, &ro):
		return 3
	case errors.As(err, &timeout):
		return 5
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 6
	default:
		return 4
	}
}

// priority orders the calls waiting for a slot of the limiter.
type priority int

const (
	// leaf calls answer and start nothing: inline policy documents, policy
	// versions, the function URL, the target's role.
	leaf priority = iota
	// unlocks calls start others when they answer (GetFunctionConfiguration,
	// GetRole, GetUser, the List* calls, GetPolicy): under the cap they go
	// first, so that the next round starts as early as it can.
	unlocks
	priorities
)

// limiter bounds the number of AWS calls in flight, so that a user in many
// groups does not trip IAM's request throttling. A call that finds every
// slot taken waits in the queue of its priority; a freed slot goes to the
// oldest call of the highest priority.
type limiter struct {
	mu    sync.Mutex
	free  int
	queue [priorities][]chan struct{}
}

func newLimiter(n int) *limiter { return &limiter{free: n} }

func (l *limiter) acquire(ctx context.Context, p priority) error {
	l.mu.Lock()
	if l.free > 0 {
		l.free--
		l.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	l.queue[p] = append(l.queue[p], turn)
	l.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	if i := slices.Index(l.queue[p], turn); i >= 0 {
		l.queue[p] = slices.Delete(l.queue[p], i, i+1)
		l.mu.Unlock()
		return ctx.Err()
	}
	l.mu.Unlock()
	l.release() // the slot came with the cancellation: pass it on
	return ctx.Err()
}

func (l *limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p := priorities - 1; p >= 0; p-- {
		if q := l.queue[p]; len(q) > 0 {
			l.queue[p] = q[1:]
			close(q[0])
			return
		}
	}
	l.free++
}

// do runs one call while holding a slot. Only leaf calls hold a slot, never
// a function that waits for other calls, so the limiter cannot deadlock.
func do[T any](ctx context.Context, l *limiter, p priority, call func() (T, error)) (T, error) {
	if err := l.acquire(ctx, p); err != nil {
		var zero T
		return zero, err
	}
	defer l.release()
	return call()
}
