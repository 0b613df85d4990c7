#!/usr/bin/env bash
# Build the BPMN editor's browser assets: install bpmn-js from the npm registry (pinned in
# package.json / package-lock.json) and copy its UMD bundles and CSS/fonts into app/static/vendor/.
# Idempotent: does nothing when the vendored files already match the installed version.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=app/static/vendor
STAMP="$VENDOR/.bpmn-js-version"
WANT=$(sed -n 's/.*"bpmn-js": *"\([^"]*\)".*/\1/p' package.json)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -f "$VENDOR/bpmn-modeler.production.min.js" ]; then
  echo "bpmn-js $WANT assets already built in $VENDOR"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: the BPMN editor (/admin/processes) needs its assets; install Node.js/npm and run $0" >&2
  exit 1
fi
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
DIST=node_modules/bpmn-js/dist
mkdir -p "$VENDOR"
cp "$DIST/bpmn-modeler.production.min.js" "$DIST/bpmn-navigated-viewer.production.min.js" "$VENDOR/"
rm -rf "$VENDOR/bpmn-assets"
cp -R "$DIST/assets" "$VENDOR/bpmn-assets"
cp node_modules/bpmn-js/LICENSE "$VENDOR/bpmn-js.LICENSE" 2>/dev/null || true
echo "$WANT" > "$STAMP"
echo "bpmn-js $WANT assets copied to $VENDOR"
