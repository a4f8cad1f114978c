#!/usr/bin/env bash
# Fetches the official AsyncAPI JSON Schemas (npm package @asyncapi/specs) into DEST (default
# .crmhub/asyncapi-specs), which tests/unit/test_asyncapi.py validates crmhub's AsyncAPI document against.
# Idempotent: nothing happens when DEST already holds this version (DEST/.version). Needs npm.
set -euo pipefail
VERSION=6.11.1
DEST=${1:-.crmhub/asyncapi-specs}
if [ -f "$DEST/.version" ] && [ "$(cat "$DEST/.version")" = "$VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "asyncapi-specs: npm is needed to fetch @asyncapi/specs@$VERSION" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@asyncapi/specs@$VERSION" >/dev/null)
tar -xzf "$tmp/asyncapi-specs-$VERSION.tgz" -C "$tmp"
test -f "$tmp/package/schemas/3.0.0-without-\$id.json"
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$tmp/package" "$DEST"
echo "$VERSION" > "$DEST/.version"
echo "asyncapi-specs: @asyncapi/specs@$VERSION in $DEST"
