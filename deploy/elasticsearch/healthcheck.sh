#!/bin/sh
# Compose health check of Elasticsearch: the cluster answers, at least yellow. The superuser's
# password goes to curl as a config file on its standard input (`-K -`), never as an argument
# (arguments show in every `ps` of the host). The password must not contain '"' or '\'.
set -eu
printf 'user = "elastic:%s"\n' "$ELASTIC_PASSWORD" \
  | curl -K - -fsS -o /dev/null 'http://localhost:9200/_cluster/health?wait_for_status=yellow&timeout=5s'
