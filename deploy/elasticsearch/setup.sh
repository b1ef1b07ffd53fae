#!/bin/sh
# One-shot setup of the compose Elasticsearch: the kibana_system password, then the index
# template of the log indices (keyword fields, so Grafana and Kibana can group by them).
set -eu
ES=http://elasticsearch:9200
AUTH="elastic:${ELASTIC_PASSWORD}"

until curl -fsS -u "$AUTH" "$ES/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do
  echo "waiting for Elasticsearch"; sleep 2
done

curl -fsS -u "$AUTH" -X POST "$ES/_security/user/kibana_system/_password" \
  -H 'Content-Type: application/json' -d "{\"password\":\"${KIBANA_SYSTEM_PASSWORD}\"}"
echo

for template in /setup/amazing-logs-template.json; do
  curl -fsS -u "$AUTH" -X PUT "$ES/_index_template/amazing-logs" \
    -H 'Content-Type: application/json' --data-binary "@$template"
  echo
done
echo "Elasticsearch ready for Amazing Segments logs"
