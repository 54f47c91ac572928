#!/usr/bin/env bash
# `make screenshots`: the set-up (packages, the cluster user, build, install), then the browser test's fixture
# (test/t/MultidbWeb.pm) and test/browser/screenshots.py: a PNG of each screen of the web UI at 1366x900 and
# 390x844 in screenshots/ (gitignored), each path printed. Screens the UI does not have yet are skipped with a
# message.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../harness/lib.sh
source "$REPO_ROOT/test/harness/lib.sh"

ensure_packages "${DEMO_PACKAGES[@]}" postgresql-15-cron libipc-run-perl rsync chromium chromium-driver python3-selenium
ensure_pg_user
build_and_install
make_work_dir

# The cluster user writes the PNGs; they end up owned like the checkout.
out="$REPO_ROOT/screenshots"
mkdir -p "$out"
if is_root; then chown "$MULTIDB_OS_USER": "$out"; fi
status=0
run_web_fixture screenshots.py --out "$out" || status=$?
if is_root; then chown -R --reference="$REPO_ROOT" "$out"; fi
exit "$status"
