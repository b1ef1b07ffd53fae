#!/bin/bash
# Entrypoint of the Spark executor pods on Kubernetes (mounted from a ConfigMap by the executor
# pod template; the project image stays unchanged).
#
# Spark starts executor pods with the argument "executor" and expects the image's entrypoint to
# answer it, as the entrypoint.sh of Spark's own images does. The project image installs Spark
# from PyPI (pyspark ships the Kubernetes backend's jars but no entrypoint), so this is that
# entrypoint's executor branch: the JVM options Spark passes as SPARK_JAVA_OPT_<n>, the memory
# and the identity it passes in SPARK_EXECUTOR_*, and the project's own Python for the tasks.
set -euo pipefail

if [ "${1:-}" != "executor" ]; then
  echo "executor.sh: Spark starts executors with the argument 'executor', got '${1:-}'" >&2
  exit 64
fi

SPARK_HOME="${SPARK_HOME:-$(python -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')}"
readarray -t java_opts < <(env | grep '^SPARK_JAVA_OPT_' | sort -t_ -k4 -n | sed 's/[^=]*=\(.*\)/\1/g')

exec "${JAVA_HOME:-/usr}/bin/java" "${java_opts[@]}" \
  -Xms"${SPARK_EXECUTOR_MEMORY}" -Xmx"${SPARK_EXECUTOR_MEMORY}" \
  -cp "${SPARK_CONF_DIR:-${SPARK_HOME}/conf}:${SPARK_HOME}/jars/*" \
  org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
  --driver-url "${SPARK_DRIVER_URL}" \
  --executor-id "${SPARK_EXECUTOR_ID}" \
  --cores "${SPARK_EXECUTOR_CORES}" \
  --app-id "${SPARK_APPLICATION_ID}" \
  --hostname "${SPARK_EXECUTOR_POD_IP}" \
  --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID}" \
  --podName "${SPARK_EXECUTOR_POD_NAME}"
