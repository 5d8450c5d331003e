package awsclient

import (
	"context"
	"errors"
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

// limiter bounds the number of AWS calls in flight, so that a user in many
// groups does not trip IAM's request throttling.
type limiter chan struct{}

func newLimiter(n int) limiter { return make(limiter, n) }

// do runs one call while holding a slot. Only leaf calls hold a slot, never
// a function that waits for other calls, so the limiter cannot deadlock.
func do[T any](ctx context.Context, l limiter, call func() (T, error)) (T, error) {
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	defer func() { <-l }()
	return call()
}
