#!/bin/sh
# A worker that beats on keepalive's notify channel after every job:
#   npx keepalive --heartbeat 3s -- examples/worker.sh
# Freeze it from another terminal (kill -STOP <pid>) and watch keepalive declare it hung, kill it and
# start a new one, as Erlang's heart does with a suspended VM.
: "${KEEPALIVE_NOTIFY_FD:?run me under keepalive: npx keepalive --heartbeat 3s -- examples/worker.sh}"
echo "worker: pid $$, beating on fd $KEEPALIVE_NOTIFY_FD"
echo READY=1 >&"$KEEPALIVE_NOTIFY_FD"
job=0
while :; do
  job=$((job + 1))
  sleep 1 # the job
  echo "STATUS=finished job $job" >&"$KEEPALIVE_NOTIFY_FD"
  echo >&"$KEEPALIVE_NOTIFY_FD" # the heartbeat: an empty line
done
