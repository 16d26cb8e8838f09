#!/usr/bin/env bash
# Refresh the vendored official SMART JS client (npm `fhirclient`, Apache-2.0) that the
# sample app at /apps/sample/ uses. Running and testing the server need no npm: the built
# file is committed. Usage: scripts/refresh_fhirclient.sh [VERSION]   (default 2.6)
set -euo pipefail
version="${1:-2.6}"
dest="$(cd "$(dirname "$0")/.." && pwd)/fhir_server/site/static/vendor/fhirclient"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "fhirclient@${version}" >/dev/null && tar xzf fhirclient-*.tgz)
cp "$work/package/build/fhir-client.min.js" "$work/package/build/fhir-client.min.js.LICENSE.txt" \
   "$work/package/LICENSE" "$dest/"
node -e 'console.log(require(process.argv[1]).version)' "$work/package/package.json" > "$dest/VERSION"
echo "fhirclient $(cat "$dest/VERSION") -> $dest"
