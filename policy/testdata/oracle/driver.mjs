// Test-only driver for policy/differential_test.go.
//
// Reads evaluation cases as JSON lines on stdin (the corpus case format of
// policy/testdata/README.md, plus an "id" field), evaluates each with
// @cloud-copilot/iam-simulate, and writes one JSON line per case on stdout:
//
//   {"id": "...", "decision": "allowed"|"implicitDeny"|"explicitDeny", "error": "..."}
//
// "error" is set (and "decision" absent) when the simulator rejects or fails
// on a case; the other cases of the batch still run. "ignoredContextKeys"
// lists context keys the simulator dropped because its data does not define
// them for the action. ORACLE_DETAIL=1 adds each layer's result ("detail").
//
// The simulator is installed by the test into a scratch folder next to a copy
// of this file (AGPL-3.0: a test tool only, never part of the build). By hand:
//
//   cd policy/testdata/oracle && npm install --no-audit --no-fund && node driver.mjs < cases.jsonl
//
// How a case maps onto the simulator's input (see toSimulation):
//
//   request.principal     -> request.principal, as is (session ARN, user ARN,
//                            federated user ARN, service principal);
//                            "anonymous" -> the simulator's anonymous marker
//                            ({type: 'Anonymous'}). For a federated user the
//                            simulator derives the IAM user as user/NAME from
//                            federated-user/NAME; the generator names the
//                            federated user after its IAM user, so
//                            principalArn says the same. The simulator has no field
//                            for principalArn: it matches a role ARN in a
//                            resource policy to an assumed-role session by
//                            account and role name (the last path segment),
//                            so a role with a path matches when the policy
//                            names it by its full ARN, as IAM requires.
//   request.resource      -> request.resource.resource; resourceAccount (or
//                            the ARN's account) -> request.resource.accountId
//   request.context       -> request.contextVariables
//   policies.identity     -> identityPolicies
//   policies.resource     -> resourcePolicy
//   permissionsBoundary   -> permissionBoundaryPolicies (one policy)
//   policies.session      -> sessionPolicy (one document; several are merged)
//   policies.scps / rcps  -> serviceControlPolicies / resourceControlPolicies,
//                            one entry per level, root first; RCPFullAWSAccess
//                            is left to the simulator, which adds it itself
//   options.managementAccount or serviceLinkedRole, or a principalArn under
//   /aws-service-role/ (where IAM creates service-linked roles)
//                         -> no SCPs and no RCPs (the simulator has no notion
//                            of either)
//   an anonymous caller   -> no SCPs: the simulator rejects SCPs for an
//                            unsigned request (an anonymous caller belongs to
//                            no account, so no SCP governs it); RCPs stay
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate'
import { createInterface } from 'node:readline'

const decisions = {
  Allowed: 'allowed',
  ImplicitlyDenied: 'implicitDeny',
  ExplicitlyDenied: 'explicitDeny'
}

function accountOf(arn) {
  const parts = String(arn).split(':')
  return parts.length >= 6 && parts[0] === 'arn' ? parts[4] : ''
}

const docs = (list, prefix) =>
  (list || []).map((policy, i) => ({ name: `${prefix}-${i}`, policy }))

// orgLevels maps our list of levels (root first, account last; each a list of
// documents) to the simulator's per-level policy sets.
const orgLevels = (levels, prefix) =>
  (levels || []).map((level, i) => ({
    orgIdentifier: `${prefix}-level-${i}`,
    policies: docs(level, `${prefix}-${i}`)
  }))

const one = (v) => v === '*' || (Array.isArray(v) && v.length === 1 && v[0] === '*')

// isRCPFullAWSAccess reports the statement of the AWS managed RCP
// RCPFullAWSAccess (Allow, Principal *, Action *, Resource *).
const isRCPFullAWSAccess = (s) =>
  s.Effect === 'Allow' &&
  !s.Condition &&
  (one(s.Principal) || (s.Principal && one(s.Principal.AWS) && Object.keys(s.Principal).length === 1)) &&
  one(s.Action) &&
  one(s.Resource)

// The simulator attaches RCPFullAWSAccess to every RCP level itself and
// rejects Allow statements in RCPs it is given (AWS allows Allow only in that
// managed policy), so its statement is taken out of the documents we pass.
const withoutRCPFullAWSAccess = (levels) =>
  (levels || []).map((level) =>
    level
      .map((d) => ({ ...d, Statement: [d.Statement].flat().filter((s) => !isRCPFullAWSAccess(s)) }))
      .filter((d) => d.Statement.length > 0)
  )

// toSimulation maps one corpus case onto the simulator's input.
export function toSimulation(c) {
  const req = c.request || {}
  const pol = c.policies || {}
  const opt = c.options || {}
  // The management account and service-linked roles are outside SCPs and
  // RCPs; the simulator has no notion of either, so those layers are left out.
  const serviceLinked = String(req.principalArn || '').includes(':role/aws-service-role/')
  const orgExempt = !!(opt.managementAccount || opt.serviceLinkedRole || serviceLinked)
  const anonymous = req.principal === 'anonymous'
  const sim = {
    request: {
      principal: anonymous ? anonymousPrincipal : req.principal,
      action: req.action,
      resource: {
        resource: req.resource,
        accountId: req.resourceAccount || accountOf(req.resource)
      },
      contextVariables: req.context || {}
    },
    identityPolicies: docs(pol.identity, 'identity'),
    serviceControlPolicies: orgExempt || anonymous ? [] : orgLevels(pol.scps, 'scp'),
    resourceControlPolicies: orgExempt ? [] : orgLevels(withoutRCPFullAWSAccess(pol.rcps), 'rcp')
  }
  if (pol.resource) sim.resourcePolicy = pol.resource
  if (pol.permissionsBoundary) {
    sim.permissionBoundaryPolicies = [{ name: 'boundary', policy: pol.permissionsBoundary }]
  }
  // The simulator takes one session policy; several session policies (inline
  // and managed) are merged into one document, statement by statement, which
  // keeps their meaning when they share a Version.
  const session = pol.session || []
  if (session.length === 1) {
    sim.sessionPolicy = session[0]
  } else if (session.length > 1) {
    const versions = new Set(session.map((d) => d.Version))
    if (versions.size > 1) {
      throw new Error('session policies with different Version elements cannot be merged into one document')
    }
    sim.sessionPolicy = { Version: session[0].Version, Statement: session.flatMap((d) => [d.Statement].flat()) }
  }
  return sim
}

// detail (ORACLE_DETAIL=1) adds each layer's result to the output, for
// investigating disagreements by hand.
const detail = !!process.env.ORACLE_DETAIL

function summarize(a) {
  if (!a) return undefined
  const matched = (an) =>
    an && {
      result: an.result,
      allow: (an.allowStatements || []).map((s) => `${s.policyId}#${s.explain?.identifier}:${s.principalMatch}`),
      deny: (an.denyStatements || []).map((s) => `${s.policyId}#${s.explain?.identifier}:${s.principalMatch}`)
    }
  return {
    blockedBy: a.blockedBy,
    sameAccount: a.sameAccount,
    identity: matched(a.identityAnalysis),
    resource: matched(a.resourceAnalysis),
    boundary: matched(a.permissionBoundaryAnalysis),
    session: matched(a.sessionAnalysis),
    scp: a.scpAnalysis && { result: a.scpAnalysis.result, levels: a.scpAnalysis.ouAnalysis.map((o) => o.result) },
    rcp: a.rcpAnalysis && { result: a.rcpAnalysis.result, levels: a.rcpAnalysis.ouAnalysis.map((o) => o.result) }
  }
}

async function evaluate(c) {
  const out = { id: c.id }
  try {
    const res = await runSimulation(toSimulation(c), { simulationMode: 'Strict' })
    if (res.resultType === 'error') {
      out.error = JSON.stringify(res.errors)
    } else {
      const d = decisions[res.overallResult]
      if (d) {
        out.decision = d
        const ignored = res.result?.ignoredContextKeys
        if (ignored && ignored.length > 0) out.ignoredContextKeys = ignored
        if (detail) out.detail = summarize(res.result?.analysis)
      } else {
        out.error = `unexpected result ${JSON.stringify(res.overallResult)}`
      }
    }
  } catch (e) {
    out.error = String(e && e.stack ? e.stack : e)
  }
  return out
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
const out = []
for await (const line of lines) {
  if (line.trim() === '') continue
  let c
  try {
    c = JSON.parse(line)
  } catch (e) {
    out.push(JSON.stringify({ id: null, error: `bad input line: ${e}` }))
    continue
  }
  out.push(JSON.stringify(await evaluate(c)))
  if (out.length >= 512) {
    process.stdout.write(out.join('\n') + '\n')
    out.length = 0
  }
}
if (out.length > 0) process.stdout.write(out.join('\n') + '\n')
