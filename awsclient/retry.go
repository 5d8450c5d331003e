package awsclient

import (
	"errors"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Attempts per call. Every evidence read is needed for a verdict, so it
// gets more tries than the SDK's default of 3: IAM's control plane
// throttles bursts, and one diagnosis sends a burst. The simulator is
// optional evidence, so it keeps the SDK's default: when it keeps failing,
// the local evaluation should not wait for it.
const (
	readAttempts      = 5
	simulatorAttempts = 3
)

// defaultMaxBackoff caps the wait between attempts when there is no
// Timeout to size it from. It is the cap that the default --timeout of 30s
// gives too.
const defaultMaxBackoff = 2 * time.Second

// retryPolicy is how every call is retried within Options.Timeout.
type retryPolicy struct {
	// maxBackoff caps the standard retryer's exponential backoff with
	// jitter (throttling errors start at 1s, other errors at 50ms).
	maxBackoff time.Duration
	// attemptTimeout bounds one attempt, so that a connection that hangs
	// is retried instead of eating the whole Timeout. Zero: no bound.
	attemptTimeout time.Duration
}

// retryPolicyFor sizes the retries to fit the time allowed: four backoffs
// at most take 4/15 of it (8s of the default 30s), and an attempt that
// hangs is abandoned after a third of it, which leaves room for two more.
// A Timeout of zero keeps the SDK's attempt behaviour (no bound).
func retryPolicyFor(timeout time.Duration) retryPolicy {
	if timeout <= 0 {
		return retryPolicy{maxBackoff: defaultMaxBackoff}
	}
	return retryPolicy{
		maxBackoff:     min(timeout/15, retry.DefaultMaxBackoff),
		attemptTimeout: timeout / 3,
	}
}

// retryer is the SDK's standard retryer with readAttempts attempts and the
// policy's backoff cap. It retries what the standard retryer retries
// (throttling codes, HTTP 429 and 5xx, connection resets, timeouts) and,
// in addition, a response body cut short: every call this package sends is
// a read, so sending it again is always safe.
func (p retryPolicy) retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = readAttempts
		o.MaxBackoff = p.maxBackoff
		o.Retryables = append(o.Retryables, retry.IsErrorRetryableFunc(truncatedResponse))
	})
}

// httpClient bounds each attempt of the SDK's default HTTP client, keeping
// its transport settings (a custom CA bundle, for one). A client of another
// type is left as it is.
func (p retryPolicy) httpClient(c aws.HTTPClient) aws.HTTPClient {
	b, ok := c.(*awshttp.BuildableClient)
	if !ok || p.attemptTimeout <= 0 {
		return c
	}
	return b.WithTimeout(p.attemptTimeout)
}

// truncatedResponse reports a response whose body ended before its
// Content-Length: the connection broke while the answer was being read.
func truncatedResponse(err error) aws.Ternary {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}
