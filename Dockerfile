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
RUN groupadd --system nabat && useradd --system --gid nabat --home-dir /data nabat \
 && mkdir -p /data && chown nabat:nabat /data
COPY --from=build /opt/nabat /opt/nabat
ENV PATH=/opt/nabat/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NABAT_DATA_DIR=/data \
    NABAT_TELEGRAM_TOKEN_FILE=/run/secrets/nabat_telegram_token \
    NABAT_KEYS_FILE=/run/secrets/nabat_keys
# The database lives on the volume; the key ring comes from a secret and never does.
VOLUME ["/data"]
USER nabat
WORKDIR /data
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["nabat", "health", "--max-age", "60s"]
ENTRYPOINT ["nabat"]
CMD ["run"]
