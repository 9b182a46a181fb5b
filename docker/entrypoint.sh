#!/bin/sh
# Migrate (web only, so one process does it), then exec the role so it receives SIGTERM directly.
set -eu
role="${1:-web}"
shift || true
case "$role" in
  web)
    python manage.py migrate --noinput
    python manage.py sync_schedules
    exec gunicorn config.wsgi:application --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_WORKERS:-4}" --graceful-timeout 25 --access-logfile /dev/null "$@" ;;
  ws)
    exec uvicorn config.asgi:application --host 0.0.0.0 --port "${WS_PORT:-8001}" \
      --no-access-log --ws-ping-interval 20 --ws-per-message-deflate false \
      --timeout-graceful-shutdown 20 "$@" ;;
  worker)
    exec celery -A config worker --loglevel INFO --concurrency "${WORKER_CONCURRENCY:-4}" \
      --queues "${CELERY_QUEUE:-helpline}" "$@" ;;
  beat)
    exec celery -A config beat --loglevel INFO \
      --scheduler django_celery_beat.schedulers:DatabaseScheduler "$@" ;;
  *)
    exec "$role" "$@" ;;
esac
