# syntax=docker/dockerfile:1
# Production image: one image, every role (web, ws, worker, sla, beat, migrate) chosen by the
# command; the roles are the Procfile's lines (docker/entrypoint.sh). Three stages:
#   ui      - Node 20 builds frontend/ (npm ci && npm run build) into frontend/dist
#   build   - installs the locked runtime dependencies (requirements/runtime.txt, hashed) into a venv
#   runtime - python:3.11-slim with that venv, the code and the built UI; no compilers, no test tools
FROM node:20-slim AS ui
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/runtime.txt /tmp/runtime.txt
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/runtime.txt

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings MEDIA_ROOT=/var/lib/helpline/media HOST=0.0.0.0
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 helpline
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . .
COPY --from=ui /src/frontend/dist /app/frontend/dist
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /var/lib/helpline/media && chown -R helpline /var/lib/helpline
USER helpline
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
