# Production image: one image, four roles (web, ws, worker, beat) chosen by the command.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 helpline
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /var/lib/helpline/media && chown -R helpline /var/lib/helpline
USER helpline
ENV DJANGO_SETTINGS_MODULE=config.settings MEDIA_ROOT=/var/lib/helpline/media
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
