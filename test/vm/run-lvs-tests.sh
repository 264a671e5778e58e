#!/usr/bin/env bash
# Builds the lvs test binary and runs its kernel tests (TestKernel…: the reconcile table against the
# real IPVS table, NAT/DR traffic, the sync daemon, the 1,000 × 10 scale figures) inside the kernel VM.
#
# usage: test/vm/run-lvs-tests.sh [go test flags for the binary, default: -test.v -test.run Kernel]
# Exit status: the tests'; 77 when qemu cannot run here (see run.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOFLAGS=${GOFLAGS:--mod=mod}
bin=$(mktemp "${TMPDIR:-/tmp}/lvs.test.XXXXXX")
trap 'rm -f "$bin"' EXIT
CGO_ENABLED=0 go test -c -o "$bin" ./lvs/
if [ $# -eq 0 ]; then set -- -test.v -test.run Kernel; fi
test/vm/run.sh -t "${VIPD_VM_TIMEOUT:-900}" "$bin" "$@"
