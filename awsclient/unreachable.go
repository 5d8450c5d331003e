package awsclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// unreachable recognizes a request that got no answer because the endpoint
// could not be reached: it returns the endpoint (scheme and host, without
// the operation's path) and the cause in a few words. Only failures to
// connect count: refused, no such host, no route, a TLS certificate not
// trusted, a proxy that failed. A connection that broke mid-answer is a
// failed call, not an unreachable endpoint.
func unreachable(err error) (endpoint, cause string, ok bool) {
	ue, isURL := errors.AsType[*url.Error](err)
	if !isURL {
		return "", "", false
	}
	endpoint = ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		endpoint = u.Scheme + "://" + u.Host
	}
	var (
		dns     *net.DNSError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		verify  *tls.CertificateVerificationError
	)
	op, _ := errors.AsType[*net.OpError](err)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		cause = "connection refused"
	case errors.As(err, &dns):
		cause = "no such host"
		if !dns.IsNotFound {
			cause = "the DNS lookup failed"
		}
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		cause = "no route to the host"
	case errors.As(err, &host):
		cause = "its TLS certificate is for another host name"
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &verify):
		cause = "its TLS certificate is not trusted"
	case op != nil && op.Op == "proxyconnect":
		cause = "the proxy refused or failed the connection"
	case op != nil && op.Op == "dial" && errors.Is(err, context.DeadlineExceeded):
		return "", "", false // the deadline: a *TimeoutError says so
	case op != nil && op.Op == "dial" && op.Timeout():
		cause = "the connection timed out"
	case op != nil && op.Op == "dial":
		cause = "the connection failed"
	default:
		return "", "", false
	}
	return endpoint, cause, true
}

// unreachableHint says what to check for a cause unreachable gave.
func unreachableHint(cause string) string {
	switch cause {
	case "no such host":
		return "--endpoint-url, --region, the network or the proxy"
	case "its TLS certificate is not trusted", "its TLS certificate is for another host name":
		return "--endpoint-url, the proxy, or AWS_CA_BUNDLE for a proxy that re-signs TLS"
	}
	return "--endpoint-url, the network or the proxy"
}

// rejectedCredentials marks an error with which AWS refused the
// credentials themselves (expired, unknown key, bad signature), with where
// those credentials came from, so that the message can name the profile
// and its fix. It wraps the SDK's error and changes nothing else.
type rejectedCredentials struct {
	profile    string
	ssoProfile string
	err        error
}

func (e *rejectedCredentials) Error() string { return e.err.Error() }
func (e *rejectedCredentials) Unwrap() error { return e.err }

func (e *rejectedCredentials) who() string {
	if e.profile == "" {
		return "the default credential chain"
	}
	return "profile " + e.profile
}

// markRejectedCredentials returns an API option that wraps an operation's
// error in a *rejectedCredentials when AWS refused the credentials.
func markRejectedCredentials(profile, ssoProfile string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("WhyDeniedRejectedCredentials",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil && (&CallError{Err: err}).credentialsProblem() {
					err = &rejectedCredentials{profile: profile, ssoProfile: ssoProfile, err: err}
				}
				return out, md, err
			}), middleware.After)
	}
}

// credentialSource reads, from the loaded configuration, the profile
// AWS_PROFILE names (when --profile named none), and the profile to run
// `aws sso login` with when the credentials come from IAM Identity Center:
// the profile itself, or the source_profile a role profile assumes its
// role with. Keys in the environment win over any profile, and then
// neither is said.
func credentialSource(cfg aws.Config) (envProfile, ssoProfile string) {
	for _, src := range cfg.ConfigSources {
		if env, ok := src.(config.EnvConfig); ok {
			if env.Credentials.HasKeys() {
				return "", ""
			}
			envProfile = env.SharedConfigProfile
		}
	}
	for _, src := range cfg.ConfigSources {
		sc, ok := src.(config.SharedConfig)
		if !ok {
			continue
		}
		for p := &sc; p != nil; p = p.Source {
			if p.SSOSessionName != "" || p.SSOStartURL != "" {
				return envProfile, p.Profile
			}
		}
	}
	return envProfile, ""
}
