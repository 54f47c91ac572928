#!/usr/bin/env bash
# The set-up alone (packages, the unprivileged cluster user, build, install): what `make bench` runs
# before the benchmarks. `make demo` and `make test` do the same through lib.sh's setup_machine.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
source "$REPO_ROOT/test/harness/lib.sh"
setup_machine
