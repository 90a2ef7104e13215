#!/usr/bin/env bash
# Runs every check and test of the project on a fresh machine: installs what
# the tests need, then formatting, lints and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

echo "== helm and kubectl (for the chart and manifest tests)"
PATH="$(./scripts/install-tools.sh):$PATH"
export PATH
helm version --short
kubectl version --client

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test"
cargo test --locked
