# syntax=docker/dockerfile:1
# Build a wheel with its dependencies in one stage; run it as an unprivileged user in another.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY config ./config
RUN python -m venv /opt/nabat \
 && /opt/nabat/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/nabat/bin/pip install --no-cache-dir .

FROM python:3.11-slim
# A fixed uid and gid (10001, beyond any host's usual range), so volumes, `--user` and
# orchestrators' runAsUser/fsGroup can name them. docker-entrypoint.sh drops to them.
RUN groupadd --system --gid 10001 nabat \
 && useradd --system --uid 10001 --gid nabat --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin nabat \
 && mkdir -p /data && chown nabat:nabat /data && chmod 0700 /data
COPY --from=build /opt/nabat /opt/nabat
# The image's `nabat` is the entrypoint script; the program itself is /opt/nabat/bin/nabat
# and is deliberately not on PATH, so `docker exec ... nabat` cannot run it as root.
COPY --chmod=0755 docker-entrypoint.sh /usr/local/bin/nabat
ENV PYTHONUNBUFFERED=1 \
    NABAT_DATA_DIR=/data \
    NABAT_TELEGRAM_TOKEN_FILE=/run/secrets/nabat_telegram_token \
    NABAT_KEYS_FILE=/run/secrets/nabat_keys
# The database lives on the volume; the key ring comes from a secret and never does.
VOLUME ["/data"]
WORKDIR /data
# No USER: the container starts as root only for docker-entrypoint.sh to make private
# copies of the secrets (a host's 0600 key ring is not readable by uid 10001); every
# nabat command then runs as uid 10001 with no way back. `docker run --user 10001`
# skips the copies (the secrets must then be readable by that uid).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["nabat", "health", "--max-age", "60s"]
ENTRYPOINT ["nabat"]
CMD ["run"]
