#!/bin/sh
# The image's roles are the Procfile's lines (one source for `make run` and the containers), plus
# `migrate`, the one-shot job every other service waits for. Anything else runs as given.
# `exec` so the role replaces this shell and receives SIGTERM directly.
set -eu
role="${1:-web}"
shift || true
case "$role" in
  migrate)
    python manage.py migrate --noinput
    exec python manage.py sync_schedules ;;
  healthcheck)
    exec python manage.py healthcheck "$@" ;;
esac
line="$(sed -n "s/^${role}: //p" "$(dirname "$0")/../Procfile")"
if [ -n "$line" ]; then
  eval "exec $line \"\$@\""
fi
exec "$role" "$@"
