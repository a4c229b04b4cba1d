#!/usr/bin/env bash
# Re-makes the admin page screenshots in docs/screenshots (shown in the README) by running the browser tests, which
# save a screenshot of each main page on the way when LUMO_SCREENSHOTS names a folder. Same set-up as ./test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
LUMO_SCREENSHOTS="$PWD/docs/screenshots" ./test.sh --filter "FullyQualifiedName~Lumo.Tests.AdminPage"
