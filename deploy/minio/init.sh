#!/bin/sh
# One-shot MinIO setup: the bucket, and two least-privilege users (pipeline: read landing +
# write warehouse; dashboard: read the tables the app uses, never the raw zone). Idempotent: safe to run on every `up`.
set -eu
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing local/amazing
mc admin policy create local amazing-pipeline /policies/pipeline-policy.json
mc admin policy create local amazing-dashboard /policies/dashboard-policy.json
mc admin user add local "$AMAZING_PIPELINE_ACCESS_KEY" "$AMAZING_PIPELINE_SECRET_KEY"
mc admin user add local "$AMAZING_DASHBOARD_ACCESS_KEY" "$AMAZING_DASHBOARD_SECRET_KEY"
mc admin policy attach local amazing-pipeline --user "$AMAZING_PIPELINE_ACCESS_KEY" || true
mc admin policy attach local amazing-dashboard --user "$AMAZING_DASHBOARD_ACCESS_KEY" || true
echo "bucket amazing and users ready"
