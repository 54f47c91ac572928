#!/usr/bin/env bash
# Packages, the unprivileged cluster user, build and install: what demo, test and bench all need first.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
source "$REPO_ROOT/test/harness/lib.sh"
setup_machine
