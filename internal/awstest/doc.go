// Package awstest runs why-denied's AWS code against a real AWS API
// emulator: moto_server (moto 5) on a free loopback port, a reverse proxy in
// front of it that answers iam:SimulatePrincipalPolicy (which moto does not
// implement) from recorded responses or by evaluating each request, builders that create roles, users,
// functions, versions, aliases and permissions through the AWS API, a
// recorder of the operations a client sent, and a fault proxy that makes
// chosen operations fail as AWS or the network can (throttling, server
// errors, resets, truncated or slow answers, AccessDenied).
//
// The simulator stand-in (SimulatorProxy.Evaluate) reads the simulated
// principal's policies from moto and decides with the project's own engine,
// package policy. Its job is therefore to reproduce the simulator's
// interface as AWS documents it, the part the code under test must handle
// right: only the ContextEntries sent are in the request (no principal tags,
// no aws:PrincipalArn, no region, no time), every key the relevant
// statements use and the request lacks is listed in MissingContextValues, a
// ResourcePolicy counts only for an IAM user caller, and the permissions
// boundary and the organization's SCPs are reported in their own decision
// details. It is not an independent judge of policy semantics: where the
// engine is wrong, the stand-in is wrong the same way. The differential
// test against an independent evaluator (package policy) does that job.
//
// Moto is close to AWS but not equal. What moto 5.2.1 does, as observed
// while writing these tests (the code under test must not depend on any of
// it, since real AWS behaves otherwise):
//
//   - sts:GetCallerIdentity answers account 123456789012 and the ARN
//     arn:aws:sts::123456789012:user/moto for any unknown access key.
//     Credentials from sts:AssumeRole into another account's role (which
//     need not exist) are mapped to that account: a cheap second account.
//   - iam:GetRolePolicy, GetUserPolicy and GetGroupPolicy return the
//     document URL-encoded, like AWS; iam:GetPolicyVersion returns it as
//     plain JSON, unlike AWS (which URL-encodes it too).
//   - AWS managed policies (arn:aws:iam::aws:policy/...) do not exist unless
//     the server runs with MOTO_IAM_LOAD_MANAGED_POLICIES=true; the
//     scenarios use customer managed policies instead.
//   - Users have no permissions boundary: PutUserPermissionsBoundary
//     answers HTTP 500 (not implemented) and CreateUser ignores the
//     PermissionsBoundary parameter. Roles support boundaries.
//   - iam:SimulatePrincipalPolicy is not implemented: the server answers
//     HTTP 500 with an HTML page (hence SimulatorProxy).
//   - lambda:CreateFunction needs an existing role ARN and a zip, but no
//     Docker; only Invoke would start a container.
//   - lambda:GetFunctionConfiguration accepts Qualifier (version, alias,
//     $LATEST) and full ARNs, but answers HTTP 500 for the partial ARN
//     ACCOUNT:function:NAME and "not found" for function:NAME. With an alias
//     qualifier it returns the FunctionArn of the version the alias points
//     to (…:function:NAME:1).
//   - lambda:AddPermission with FunctionUrlAuthType stores it as an element
//     of the statement ("FunctionUrlAuthType": "NONE"), which AWS never
//     returns (it writes a StringEquals lambda:FunctionUrlAuthType
//     condition) and the policy language rejects: tests that need a URL
//     permission give the function its document as AWS writes it
//     (SimulatorProxy.ResourcePolicy).
//   - lambda:AddPermission stores one policy per function, whatever the
//     Qualifier: GetPolicy returns the same document for every qualifier
//     ($LATEST, a version, an alias, even one that does not exist), and
//     statements added with a Qualifier carry the qualified Resource. AWS
//     keeps one policy per qualifier.
//   - lambda:AddPermission with an account ID as Principal stores the bare
//     ID ("Principal": "123456789012"); AWS stores
//     {"AWS": "arn:aws:iam::123456789012:root"}.
//   - lambda:GetPolicy for a function without permissions answers 404
//     ResourceNotFoundException, like AWS; so does GetFunctionUrlConfig for
//     a function without a URL.
//   - moto_server uses botocore itself: AWS_* variables meant for the
//     client under test (an empty AWS_PROFILE, say) make it fail with HTTP
//     500, so StartMoto runs it without them.
//   - Unknown functions: 404 ResourceNotFoundException; unknown roles and
//     users: NoSuchEntity. Like AWS.
//   - Organizations (TestMotoOrganizationsQuirks): organizations, OUs,
//     accounts, SCPs and their attachments are modelled, FullAWSAccess is
//     attached to the root and to every new OU and account, and
//     DescribeOrganization answers from a member account (and
//     AWSOrganizationsNotInUseException outside any), like AWS. Unlike AWS,
//     a member account that is not a delegated administrator is not
//     refused the tree and the policies: moto looks in the member's own,
//     empty organization and answers AccountNotFoundException
//     (ListParents, ListPoliciesForTarget), PolicyNotFoundException
//     (DescribePolicy), an empty list (ListPolicies) or the root
//     (ListRoots), where AWS answers AccessDeniedException; tests inject
//     AWS's refusal with FaultProxy. moto detaches an entity's last SCP
//     (AWS refuses: ConstraintViolationException) and accepts a policy
//     that is not JSON; it never applies SCPs to any request.
package awstest
