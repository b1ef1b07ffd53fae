# One image for the Dagster code location, webserver and daemon, the Spark master and workers, and
# the Panel app: Spark executors must run the same Python environment as the driver, because the
# project's Python data sources (landing CSV reader, Delta writer) run on them.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---- build: a virtualenv with the pinned dependencies, then the project ----------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /build
# Dependencies first, from the metadata only: a code change does not reinstall them.
COPY constraints.txt pyproject.toml README.md ./
RUN mkdir amazing_assets panel_app \
    && touch amazing_assets/__init__.py panel_app/__init__.py \
    && pip install -c constraints.txt . \
    && pip uninstall -y amazing-segments
COPY amazing_assets ./amazing_assets
COPY panel_app ./panel_app
RUN pip install --no-deps -c constraints.txt .

# ---- runtime: Python + Java 17 + the virtualenv, non-root --------------------------------------
FROM ${PYTHON_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        openjdk-17-jre-headless=17.0.* \
        procps=2:4.0.* \
        curl=7.88.* \
        tini=0.19.* \
    && rm -rf /var/lib/apt/lists/*

ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYSPARK_PYTHON=/opt/venv/bin/python \
    PYSPARK_DRIVER_PYTHON=/opt/venv/bin/python \
    AMAZING_ENV=docker \
    AMAZING_HOME=/var/lib/amazing \
    DAGSTER_HOME=/opt/dagster/home

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin amazing \
    && mkdir -p /var/lib/amazing /opt/dagster/home \
    && chown amazing:amazing /var/lib/amazing /opt/dagster/home

COPY --from=build /opt/venv /opt/venv
COPY --chown=amazing:amazing deploy/dagster/dagster.yaml deploy/dagster/workspace.yaml /opt/dagster/home/
COPY --chown=amazing:amazing panel_app /opt/amazing/panel_app
WORKDIR /opt/amazing

USER 10001:10001
# 3000 Dagster UI · 4000 code location (gRPC) · 5006 Panel · 7077/8080 Spark master · 8081 worker UI
EXPOSE 3000 4000 5006 7077 8080 8081
ENTRYPOINT ["tini", "--"]
CMD ["dagster", "api", "grpc", "-m", "amazing_assets.definitions", "-h", "0.0.0.0", "-p", "4000", "--log-format", "json"]
