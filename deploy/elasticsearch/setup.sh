#!/bin/sh
# One-shot setup of the compose Elasticsearch, the only place that uses the superuser:
# the kibana_system password; least-privilege roles and users for Logstash (writes the log
# indices) and Grafana (reads them); the retention policy (ILM) and the index template.
set -eu
ES=http://elasticsearch:9200
AUTH="elastic:${ELASTIC_PASSWORD}"
# Log retention: every log index is deleted 90 days after it was created (GDPR: logs hold
# pseudonymous keys only, and are kept no longer than operations need). The index template
# attaches the policy to every amazing-logs-* and amazing-services-* index.
RETENTION="${AMAZING_LOG_RETENTION:-90d}"

put() {  # put PATH JSON
  curl -fsS -u "$AUTH" -X PUT "$ES$1" -H 'Content-Type: application/json' -d "$2"; echo
}

until curl -fsS -u "$AUTH" "$ES/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do
  echo "waiting for Elasticsearch"; sleep 2
done

curl -fsS -u "$AUTH" -X POST "$ES/_security/user/kibana_system/_password" \
  -H 'Content-Type: application/json' -d "{\"password\":\"${KIBANA_SYSTEM_PASSWORD}\"}"
echo

put /_security/role/amazing_logs_writer '{"indices":[{"names":["amazing-logs-*","amazing-services-*"],"privileges":["create_doc","create_index","auto_configure","index"]}]}'
put /_security/role/amazing_logs_reader '{"indices":[{"names":["amazing-logs-*","amazing-services-*"],"privileges":["read","view_index_metadata"]}]}'
put /_security/user/amazing_logstash "{\"password\":\"${LOGSTASH_WRITER_PASSWORD}\",\"roles\":[\"amazing_logs_writer\"]}"
put /_security/user/amazing_grafana "{\"password\":\"${GRAFANA_READER_PASSWORD}\",\"roles\":[\"amazing_logs_reader\"]}"

put /_ilm/policy/amazing-logs "{\"policy\":{\"phases\":{\"hot\":{\"actions\":{}},\"delete\":{\"min_age\":\"${RETENTION}\",\"actions\":{\"delete\":{}}}}}}"

for template in /setup/amazing-logs-template.json; do
  curl -fsS -u "$AUTH" -X PUT "$ES/_index_template/amazing-logs" \
    -H 'Content-Type: application/json' --data-binary "@$template"
  echo
done
echo "Elasticsearch ready for Amazing Segments logs"
