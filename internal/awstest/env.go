package awstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// FakeCredentials points the SDK's default chain at moto's fake
// credentials and region, and away from the developer's own AWS setup
// (~/.aws files, AWS_PROFILE, IMDS), for the rest of the test.
func FakeCredentials(t testing.TB) {
	t.Helper()
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
}

// NoCredentials leaves the SDK without any credentials, as on a machine
// where nobody logged in. IMDS is disabled: otherwise the SDK would wait
// for an instance metadata service that is not there.
func NoCredentials(t testing.TB) {
	t.Helper()
	isolate(t)
	unsetenv(t, "AWS_ACCESS_KEY_ID")
	unsetenv(t, "AWS_SECRET_ACCESS_KEY")
}

// Profiles writes a shared credentials file with one profile per entry and
// points the SDK at it, for tests that read each side of a request with its
// own profile.
func Profiles(t testing.TB, profiles map[string]aws.Credentials) {
	t.Helper()
	var b strings.Builder
	for name, c := range profiles {
		fmt.Fprintf(&b, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", name, c.AccessKeyID, c.SecretAccessKey)
		if c.SessionToken != "" {
			fmt.Fprintf(&b, "aws_session_token = %s\n", c.SessionToken)
		}
	}
	path := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("writing credentials file: %v", err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", path)
	// Profiles replace the environment's keys, which would win otherwise.
	unsetenv(t, "AWS_ACCESS_KEY_ID")
	unsetenv(t, "AWS_SECRET_ACCESS_KEY")
}

// RoleProfile adds a profile to a fresh shared config file that assumes
// roleARN with source's credentials, as a role_arn profile does for people
// who switch roles. The SDK then calls sts:AssumeRole itself while loading
// the configuration.
func RoleProfile(t testing.TB, name, roleARN, source string) {
	t.Helper()
	text := fmt.Sprintf("[profile %s]\nrole_arn = %s\nsource_profile = %s\nregion = %s\n", name, roleARN, source, Region)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("writing config file: %v", err)
	}
	t.Setenv("AWS_CONFIG_FILE", path)
}

// isolate empties every setting the SDK would otherwise pick up from the
// machine, and sets the test region.
func isolate(t testing.TB) {
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatalf("writing empty AWS %s file: %v", name, err)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, name := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		unsetenv(t, name)
	}
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_DEFAULT_REGION", Region)
}

// unsetenv removes a variable for the rest of the test. An empty value is
// not the same as none: Python's botocore, for one, takes AWS_PROFILE=""
// as a profile named "".
func unsetenv(t testing.TB, name string) {
	t.Setenv(name, "") // registers the restore, and forbids t.Parallel
	if err := os.Unsetenv(name); err != nil {
		t.Fatalf("unsetting %s: %v", name, err)
	}
}
