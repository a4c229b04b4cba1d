#!/usr/bin/env bash
# Runs the whole system locally: Azurite, the LINE/Klaviyo sandbox (seeded), and the function app in standalone
# mode with a seeded demo workspace. Needs only the .NET SDK and Node.js. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
STATE="$ROOT/.lumo-local"
APP_URL=http://127.0.0.1:7071
SANDBOX_URL=http://127.0.0.1:7072
mkdir -p "$STATE"

log() { printf '\033[1;34m[lumo]\033[0m %s\n' "$*"; }

if [ ! -x node_modules/.bin/azurite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "Installing Azurite from package-lock.json (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
[ -f local.settings.json ] || { cp local.settings.sample.json local.settings.json; log "Created local.settings.json from the sample"; }
ADMIN_KEY=$(node -e 'console.log(require("./local.settings.json").Values.Lumo__Admin__Key)')

log "Building"
dotnet build Lumo.sln -c Debug --nologo -v quiet

pids=()
cleanup() {
  trap - EXIT INT TERM
  log "Stopping"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return; sleep 0.25
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

wait_for() { # url, name
  for _ in $(seq 1 120); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done
  echo "$2 did not start; see $STATE/*.log" >&2; exit 1
}

log "Starting Azurite (data in .lumo-local/azurite)"
node_modules/.bin/azurite --silent --skipApiVersionCheck --loose --location "$STATE/azurite" \
  --blobPort 10000 --queuePort 10001 --tablePort 10002 > "$STATE/azurite.log" 2>&1 &
pids+=($!)
wait_for http://127.0.0.1:10002/devstoreaccount1 Azurite

log "Starting the sandbox (LINE Messaging API, LINE Login, Klaviyo) with demo data"
dotnet Lumo.Sandbox/bin/Debug/net10.0/Lumo.Sandbox.dll --urls "$SANDBOX_URL" --seed-demo > "$STATE/sandbox.log" 2>&1 &
pids+=($!)
wait_for "$SANDBOX_URL/" Sandbox

log "Starting the function app in standalone mode"
dotnet Lumo.Functions/bin/Debug/net10.0/Lumo.Functions.dll > "$STATE/functions.log" 2>&1 &
pids+=($!)
wait_for "$APP_URL/" "Function app"

# The demo workspace is kept in Azurite's folder, so it is created once and found again on later runs.
if ! curl -s -H "x-functions-key: $ADMIN_KEY" "$APP_URL/api/manage/workspaces" | grep -q '"Demo store"'; then
  log "Seeding the demo workspace"
  ws=$(curl -sf -H "x-functions-key: $ADMIN_KEY" -H 'content-type: application/json' "$APP_URL/api/manage/workspaces" \
       -d '{"name":"Demo store","klaviyo":{"privateApiKey":"pk_demo_0123456789abcdef0123456789"}}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')
  acct=$(curl -sf -H "x-functions-key: $ADMIN_KEY" -H 'content-type: application/json' "$APP_URL/api/manage/workspaces/$ws/accounts" \
       -d '{"name":"Lumo Demo Store (Japan)","channelId":"2000000001","channelSecret":"0123456789abcdef0123456789abcdef","channelAccessToken":"demo-channel-access-token"}' \
       | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')
  # ID linkage through the sandbox's LINE Login channel, linking tokens for the demo segment's profiles (written
  # now, not at the next quarter hour), and one QR code to try it with.
  curl -sf -o /dev/null -X PUT -H "x-functions-key: $ADMIN_KEY" -H 'content-type: application/json' "$APP_URL/api/manage/workspaces/$ws/accounts/$acct/id-linkage" \
       -d '{"loginChannelId":"2000000002","loginChannelSecret":"fedcba9876543210fedcba9876543210","linkingTokens":{"segmentId":"DEMOSEG"}}'
  curl -sf -o /dev/null -X POST -H "x-functions-key: $ADMIN_KEY" "$APP_URL/api/manage/workspaces/$ws/accounts/$acct/id-linkage/linking-tokens"
  curl -sf -o /dev/null -H "x-functions-key: $ADMIN_KEY" -H 'content-type: application/json' "$APP_URL/api/manage/workspaces/$ws/accounts/$acct/qr-codes" \
       -d '{"name":"Demo email QR code","signals":["email"]}'
fi

cat <<MSG

  Lumo for Klaviyo is running locally (standalone mode: this process fires timers and drains queues).

  Admin page        $APP_URL/api/console   (sign in with the admin key: $ADMIN_KEY)
  Function app      $APP_URL            (logs: .lumo-local/functions.log)
  Admin API         $APP_URL/api/manage/workspaces   header  x-functions-key: $ADMIN_KEY
  Admin OpenAPI     $APP_URL/api/manage/openapi.json
  Health            $APP_URL/api/health
  Sandbox           $SANDBOX_URL            (what LINE and Klaviyo received: $SANDBOX_URL/sandbox/...)
  Azurite           127.0.0.1:10000-10002   (data: .lumo-local/azurite)

  Try:
    curl -s -H 'x-functions-key: $ADMIN_KEY' $APP_URL/api/manage/workspaces
    curl -s $SANDBOX_URL/sandbox/klaviyo/accounts/DemoKlaviyo/profiles

  Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
