package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// CallLog writes one line per AWS call as it completes, and a total at the
// end (the --debug flag): what was read, how long it took, how often it was
// retried and what AWS answered, so that a user can see why a run is slow
// or what the tool read. A line names the call and the identifiers it was
// given (function, role, user, group, policy names and ARNs) and never its
// other input or its answer: credentials are not in either, but policy
// documents are (the simulator's input, every GetPolicy answer). It is
// safe for concurrent use: the reads of one diagnosis run in parallel.
type CallLog struct {
	mu      sync.Mutex
	w       io.Writer
	start   time.Time
	calls   int
	failed  int
	retries int
	slowest string
	slowD   time.Duration
}

// NewCallLog returns a CallLog writing to w (standard error, typically).
// The total counts the time from now.
func NewCallLog(w io.Writer) *CallLog {
	return &CallLog{w: w, start: time.Now()}
}

// debugPrefix starts every line, as the command starts its error line, so
// that a log of a run tells the tool's lines from others'.
const debugPrefix = "why-denied: debug: "

// debugFields are the input fields a line shows: they say what was read.
// Anything else (a simulator's policy list, a pagination marker) is left
// out by construction rather than by a list of what to hide.
var debugFields = []string{"FunctionName", "Qualifier", "RoleName", "UserName", "GroupName", "PolicyArn", "PolicyName", "VersionId", "PolicySourceArn", "ResourceArn"}

// apiOption installs the log in an operation's middleware stack, in the
// Initialize step: it sees the call once, with its retries and backoff
// inside, as the user waits for it.
func (l *CallLog) apiOption(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("WhyDeniedDebugLog",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			middleware.InitializeOutput, middleware.Metadata, error,
		) {
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			l.call(strings.ToLower(middleware.GetServiceID(ctx))+":"+middleware.GetOperationName(ctx),
				identifiers(in.Parameters), time.Since(start), md, err)
			return out, md, err
		}), middleware.Before)
}

// call writes the line of one completed call.
func (l *CallLog) call(op, ids string, d time.Duration, md middleware.Metadata, err error) {
	retries := 0
	if r, ok := retry.GetAttemptResults(md); ok && len(r.Results) > 1 {
		retries = len(r.Results) - 1
	}
	answer := "HTTP " + fmt.Sprint(httpStatus(md, err))
	if code := apiErrorCode(err); code != "" {
		answer += " " + code
	}
	if httpStatus(md, err) == 0 {
		answer = "no answer"
		if err != nil {
			answer += " (" + answerCause(err) + ")"
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	l.retries += retries
	if err != nil {
		l.failed++
	}
	if d > l.slowD {
		l.slowest, l.slowD = op, d
	}
	fmt.Fprintf(l.w, "%s%s%s: %s in %s, %s\n", debugPrefix, op, ids, answer, roundDuration(d), plural(retries, "retry", "retries"))
}

// credentials writes how long one side's credentials took to obtain: an
// SSO or assume-role profile calls AWS for them before any read.
func (l *CallLog) credentials(side, profile string, d time.Duration, err error) {
	what := "the default credential chain"
	if profile != "" {
		what = "profile " + fmt.Sprintf("%q", profile)
	}
	result := "obtained"
	if err != nil {
		result = "failed"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%scredentials for the %s side (%s): %s in %s\n", debugPrefix, side, what, result, roundDuration(d))
}

// WriteTotal writes the total: the calls, those that ended in an error
// (a 404 for a function without a resource policy is one) and the retries, the time since NewCallLog and the slowest call.
func (l *CallLog) WriteTotal() {
	l.mu.Lock()
	defer l.mu.Unlock()
	slowest := ""
	if l.slowest != "" {
		slowest = fmt.Sprintf("; slowest %s, %s", l.slowest, roundDuration(l.slowD))
	}
	fmt.Fprintf(l.w, "%stotal: %s (%d with an error, %s) in %s%s\n", debugPrefix,
		plural(l.calls, "AWS call", "AWS calls"), l.failed, plural(l.retries, "retry", "retries"), roundDuration(time.Since(l.start)), slowest)
}

// identifiers renders the debugFields an operation's input sets, as
// ` FunctionName="fn"`; values are quoted, so that a name holding a
// control character cannot write to the terminal.
func identifiers(params any) string {
	v := reflect.ValueOf(params)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	var b strings.Builder
	for _, name := range debugFields {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
			continue
		}
		fmt.Fprintf(&b, " %s=%q", name, f.Elem().String())
	}
	return b.String()
}

// httpStatus is the status of the last attempt's answer, 0 when none came.
func httpStatus(md middleware.Metadata, err error) int {
	if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && resp != nil && resp.Response != nil {
		return resp.StatusCode
	}
	if re, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		return re.HTTPStatusCode()
	}
	return 0
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// answerCause says in a few words why a call got no answer.
func answerCause(err error) string {
	if _, cause, ok := unreachable(err); ok {
		return cause
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	if _, ok := errors.AsType[*ReadOnlyError](err); ok {
		return "refused by the read-only guard"
	}
	return "error"
}
