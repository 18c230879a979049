#!/bin/sh
# An on-exit hook: posts how the child ended to a webhook (Slack, Mattermost, Discord, ntfy, or your
# own endpoint), as JSON. Use it as:
#
#   WEBHOOK_URL=https://hooks.example.com/T000/B000 \
#     keepalive --on-exit ./examples/on-exit-webhook.sh -- node app.js
#
# keepalive runs it after every exit with the outcome in its environment: KEEPALIVE_OUTCOME
# (exited, killed, crashed, hung, unhealthy, oom-killed, over-memory, not-started), KEEPALIVE_NEXT
# (restart, give-up, end), KEEPALIVE_MESSAGE (the log line), KEEPALIVE_EVENT (the exit as the JSON log
# writes it) and more. Exits in a crash loop are coalesced: KEEPALIVE_MISSED says how many this call
# was not told of. curl's own time limit stays under keepalive's --on-exit-timeout (10s by default).
set -eu
: "${WEBHOOK_URL:?set WEBHOOK_URL to the address to post to}"

# Only what is news: a clean restart after a planned one is not worth a message.
case "$KEEPALIVE_OUTCOME:$KEEPALIVE_NEXT" in
  exited:end) [ "$KEEPALIVE_STATUS" = 0 ] && exit 0 ;;
esac

text="$(hostname): $KEEPALIVE_MESSAGE"
if [ "${KEEPALIVE_MISSED:-0}" != 0 ]; then text="$text ($KEEPALIVE_MISSED earlier exits not reported)"; fi

# {"text": ...} is what Slack-style webhooks read; "event" carries every fact for anything else.
body=$(printf '{"text":%s,"event":%s}' "$(printf '%s' "$text" | node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0, "utf8")))')" "$KEEPALIVE_EVENT")

exec curl --fail --silent --show-error --max-time 8 --retry 2 --retry-max-time 8 \
  --header 'Content-Type: application/json' --data "$body" "$WEBHOOK_URL"
