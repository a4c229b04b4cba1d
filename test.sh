#!/usr/bin/env bash
# Runs every test: installs Azurite from the lockfile and Debian's chromium (for the admin page's browser tests) when
# missing, builds, and runs the xunit suite (which starts its own Azurite and the in-process sandbox). Ends with a line
# "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x node_modules/.bin/azurite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# The admin page's browser tests drive Debian's Chromium (Playwright never downloads a browser here).
if [ -z "${LUMO_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests..."
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

results=TestResults
rm -rf "$results"
status=0
dotnet test Lumo.sln --nologo --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@" || status=$?

trx=$(find "$results" -name '*.trx' | head -1)
if [ -n "$trx" ]; then
  passed=$(grep -o 'passed="[0-9]*"' "$trx" | head -1 | grep -o '[0-9]*')
  failed=$(grep -o 'failed="[0-9]*"' "$trx" | head -1 | grep -o '[0-9]*')
  echo "${passed:-0} passed, ${failed:-0} failed"
  # A CI run on a clean clone that is thrown away afterwards would take its failures with it: keep the results of a
  # red run where the next session can read them.
  if [ "${failed:-0}" != 0 ]; then
    kept="${TMPDIR:-/tmp}/lumo-tests-failed-$(date -u +%Y%m%dT%H%M%SZ).trx"
    cp "$trx" "$kept" && echo "Results of this red run kept in $kept"
  fi
else
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
