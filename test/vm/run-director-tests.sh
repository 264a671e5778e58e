#!/usr/bin/env bash
# Builds vipd and the director-pair test binary (test/vm/directors) and runs the tests inside the
# kernel VM: two vipd directors (VRRP + LVS-DR + sync daemon) in network namespaces in front of three
# real servers, with real client traffic through a kill -9 failover.
#
# usage: test/vm/run-director-tests.sh [go test flags for the binary, default: -test.v -test.run Kernel]
# Exit status: the tests'; 77 when qemu cannot run here (see run.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOFLAGS=${GOFLAGS:--mod=mod}
work=$(mktemp -d "${TMPDIR:-/tmp}/vipd-directors.XXXXXX")
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/vipd" ./cmd/vipd
CGO_ENABLED=0 go test -c -o "$work/directors.test" ./test/vm/directors
if [ $# -eq 0 ]; then set -- -test.v -test.run Kernel; fi
test/vm/run.sh -t "${VIPD_VM_TIMEOUT:-300}" -f "$work/vipd" "$work/directors.test" "$@"
