#!/bin/sh
# One-shot MinIO setup: the bucket, and two least-privilege users (pipeline: read landing +
# write warehouse; dashboard: read the tables the app uses, never the raw zone). Idempotent:
# safe to run on every `up`.
#
# No secret is ever an argument of a program (arguments are in every `ps` of the host): the
# root credentials reach mc through its MC_HOST_<alias> variable, and each user's secret key on
# mc's standard input (`mc admin user add ALIAS ACCESS_KEY` reads the secret from stdin).
# The root user and password must be URL-safe (letters, digits, - . _ ~), as in MC_HOST.
set -eu
export MC_HOST_local="http://${MINIO_ROOT_USER}:${MINIO_ROOT_PASSWORD}@minio:9000"
mc mb --ignore-existing local/amazing
mc admin policy create local amazing-pipeline /policies/pipeline-policy.json
mc admin policy create local amazing-dashboard /policies/dashboard-policy.json
printf '%s\n' "$AMAZING_PIPELINE_SECRET_KEY" | mc admin user add local "$AMAZING_PIPELINE_ACCESS_KEY"
printf '%s\n' "$AMAZING_DASHBOARD_SECRET_KEY" | mc admin user add local "$AMAZING_DASHBOARD_ACCESS_KEY"
mc admin policy attach local amazing-pipeline --user "$AMAZING_PIPELINE_ACCESS_KEY" || true
mc admin policy attach local amazing-dashboard --user "$AMAZING_DASHBOARD_ACCESS_KEY" || true
echo "bucket amazing and users ready"
