# One image for the code location, the Dagster webserver/daemon and the Spark nodes: executors must
# run the same Python environment as the driver (the Python data sources run on them).
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless=17.* procps=2:4.* \
    && rm -rf /var/lib/apt/lists/*

ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYSPARK_PYTHON=/usr/local/bin/python \
    AMAZING_ENV=docker

RUN useradd --create-home --uid 10001 amazing
WORKDIR /opt/amazing

COPY constraints.txt pyproject.toml README.md ./
COPY amazing_assets ./amazing_assets
RUN pip install --no-cache-dir -c constraints.txt .

USER amazing
EXPOSE 3000 4000
CMD ["dagster", "api", "grpc", "-m", "amazing_assets.definitions", "-h", "0.0.0.0", "-p", "4000"]
