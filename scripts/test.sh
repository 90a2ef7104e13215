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

echo "== cargo fuzz (short mode: ${FUZZ_SECONDS:=20} s per target)"
# Each target starts from its committed seeds (fuzz/corpus/TARGET) and writes
# what it finds to a scratch corpus, so the checkout stays clean. Longer runs:
# FUZZ_SECONDS=3600 ./scripts/test.sh, or cargo +nightly fuzz run TARGET.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
  for target in $(cargo +nightly fuzz list); do
    scratch="$(mktemp -d)"
    status=0
    cargo +nightly fuzz run --sanitizer none "$target" "$scratch" "fuzz/corpus/$target" -- \
      -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=1024 -timeout=10 >"$scratch.log" 2>&1 || status=$?
    grep -E '^(Done|==[0-9]+== ERROR|SUMMARY)' "$scratch.log" | sed "s/^/$target: /" || true
    if [ "$status" -ne 0 ]; then
      tail -40 "$scratch.log"
      echo "fuzz target $target failed (the input is in fuzz/artifacts/$target)"
      exit 1
    fi
    rm -rf "$scratch" "$scratch.log"
  done
else
  echo "no nightly toolchain (rustup toolchain install nightly): fuzzing skipped"
fi
