#!/usr/bin/env bash
# bench/live.sh: how long a live diagnosis takes against an account that
# answers every request 50 ms late, how many AWS calls it sends, how many of
# them it cannot overlap (the depth, against the floor its evidence needs)
# and how many it has in flight at once, for four cases: the README's seed
# case (`RequestFunction ProcessorFunction:live`), a role caller, a function
# whose role has 10 managed policies of 5 versions and 10 inline ones, and
# a user in 10 groups with 3 managed policies (one shared) and 2 inline
# each.
#
# Offline: moto_server on a free loopback port holds the account, built
# through the AWS API; a proxy in front of it adds the latency, answers
# iam:SimulatePrincipalPolicy (which moto lacks) and times every request.
# See bench/README.md for how to read the figures.
#
#   bench/live.sh                 # 5 runs per case, +50ms per request
#   RUNS=9 DELAY=100ms VERBOSE=1 bench/live.sh
#   CASE=user bench/live.sh       # only the cases whose name contains "user"
#   WHY_DENIED=/path/to/why-denied bench/live.sh   # measure another build
#
# Needs go and moto_server (pip install 'moto[server]'). Not part of
# `make test`.
set -euo pipefail

RUNS=${RUNS:-5}
DELAY=${DELAY:-50ms}
VERBOSE=${VERBOSE:-}
CASE=${CASE:-}
WHY_DENIED=${WHY_DENIED:-}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf 'live.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

command -v go >/dev/null || die "go not found in PATH"
command -v moto_server >/dev/null || die "moto_server not found in PATH: pip install 'moto[server]'"

work=$(mktemp -d "${TMPDIR:-/tmp}/why-denied-live.XXXXXX")
moto_pid=
proxy_pid=
step_pid=

# stop ends a process started by spawn, and its children: TERM to its
# process group, KILL after 5 seconds.
stop() {
	local pid=$1
	[[ -n $pid ]] || return 0
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop "$step_pid"
	stop "$proxy_pid"
	stop "$moto_pid"
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# spawn runs a command in a process group of its own (when setsid exists),
# so that stop also reaches any child it starts. Run it with &: $! is then
# the command's own pid and process group.
spawn() {
	if command -v setsid >/dev/null; then
		exec setsid "$@"
	fi
	exec "$@"
}

# step runs one step to its end. It runs in the background and is waited
# for, because bash runs a trap only after a foreground command ends, and a
# signal to this script must stop everything at once.
step() {
	local rc=0
	spawn "$@" &
	step_pid=$!
	wait "$step_pid" || rc=$?
	step_pid=
	return "$rc"
}

# Nothing of the caller's AWS setup reaches moto (which uses botocore
# itself) or why-denied: the clients get fake keys, an empty config and a
# HOME of their own; IMDS is off so the SDK never waits for it.
while read -r name; do
	unset "$name"
done < <(compgen -e | grep '^AWS_' || true)
mkdir -p "$work/home/.aws"
: >"$work/home/.aws/config"
: >"$work/home/.aws/credentials"
client_env=(env HOME="$work/home"
	AWS_CONFIG_FILE="$work/home/.aws/config"
	AWS_SHARED_CREDENTIALS_FILE="$work/home/.aws/credentials"
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
	AWS_EC2_METADATA_DISABLED=true)

log "building why-denied and the bench helper"
if [[ -n $WHY_DENIED ]]; then
	[[ -x $WHY_DENIED ]] || die "WHY_DENIED=$WHY_DENIED is not an executable"
	cp "$WHY_DENIED" "$work/why-denied"
else
	step timeout 600 go build -o "$work/why-denied" ./cmd/why-denied
fi
step timeout 600 go build -o "$work/live" ./bench/live
live=$work/live

# The free port is found by binding and releasing it, so another process
# can take it before moto does; a new port on the next attempt settles that.
for attempt in 1 2 3; do
	port=$("$live" freeport)
	moto_url=http://127.0.0.1:$port
	spawn moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
	moto_pid=$!
	if step "$live" wait -url "$moto_url/moto-api/" -pid "$moto_pid" -timeout 30s; then
		break
	fi
	stop "$moto_pid"
	moto_pid=
	if [[ $attempt == 3 ]]; then
		cat "$work/moto.log" >&2
		die "moto_server did not start"
	fi
done
log "moto_server on $moto_url"

# Built straight against moto: setting up is not measured.
step "${client_env[@]}" timeout 120 "$live" scenario -endpoint "$moto_url" >&2

spawn "$live" proxy -backend "$moto_url" -delay "$DELAY" -url-file "$work/proxy.url" >"$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 100); do
	[[ -s $work/proxy.url ]] && break
	kill -0 "$proxy_pid" 2>/dev/null || break
	sleep 0.1
done
if [[ ! -s $work/proxy.url ]]; then
	cat "$work/proxy.log" >&2
	die "the proxy did not start within 10s (its output is above)"
fi
proxy_url=$(<"$work/proxy.url")
log "proxy on $proxy_url (+$DELAY per request)"

step "${client_env[@]}" timeout 900 "$live" run -bin "$work/why-denied" -endpoint "$proxy_url" \
	-runs "$RUNS" -delay "$DELAY" -case "$CASE" ${VERBOSE:+-v}
