#!/bin/sh
# One-shot setup of the compose Elasticsearch, the only place that uses the superuser:
# the kibana_system password; least-privilege roles and users for Logstash (writes the log
# indices) and Grafana (reads them); the retention policy (ILM) and the index template.
#
# No secret is ever an argument of a program (arguments show in every `ps` of the host): curl
# reads the superuser's credentials from a 0600 netrc file in a private temporary folder, and
# every request body (some hold passwords) from its standard input.
set -eu
ES=http://elasticsearch:9200
umask 077
PRIVATE=$(mktemp -d)
trap 'rm -rf "$PRIVATE"' EXIT
NETRC="$PRIVATE/netrc"
printf 'machine elasticsearch login elastic password %s\n' "$ELASTIC_PASSWORD" > "$NETRC"
# Log retention: every log index is deleted 90 days after it was created (GDPR: logs hold
# pseudonymous keys only, and are kept no longer than operations need). The index template
# attaches the policy to every amazing-logs-* and amazing-services-* index.
RETENTION="${AMAZING_LOG_RETENTION:-90d}"

send() {  # send METHOD PATH JSON: the body goes on stdin (printf is a builtin: no argv)
  printf '%s' "$3" | curl -fsS --netrc-file "$NETRC" -X "$1" "$ES$2" \
    -H 'Content-Type: application/json' --data-binary @-
  echo
}
put() {  # put PATH JSON
  send PUT "$1" "$2"
}

until curl -fsS --netrc-file "$NETRC" "$ES/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do
  echo "waiting for Elasticsearch"; sleep 2
done

send POST /_security/user/kibana_system/_password "{\"password\":\"${KIBANA_SYSTEM_PASSWORD}\"}"

put /_security/role/amazing_logs_writer '{"indices":[{"names":["amazing-logs-*","amazing-services-*"],"privileges":["create_doc","create_index","auto_configure","index"]}]}'
put /_security/role/amazing_logs_reader '{"indices":[{"names":["amazing-logs-*","amazing-services-*"],"privileges":["read","view_index_metadata"]}]}'
put /_security/user/amazing_logstash "{\"password\":\"${LOGSTASH_WRITER_PASSWORD}\",\"roles\":[\"amazing_logs_writer\"]}"
put /_security/user/amazing_grafana "{\"password\":\"${GRAFANA_READER_PASSWORD}\",\"roles\":[\"amazing_logs_reader\"]}"

put /_ilm/policy/amazing-logs "{\"policy\":{\"phases\":{\"hot\":{\"actions\":{}},\"delete\":{\"min_age\":\"${RETENTION}\",\"actions\":{\"delete\":{}}}}}}"

for template in /setup/amazing-logs-template.json; do
  curl -fsS --netrc-file "$NETRC" -X PUT "$ES/_index_template/amazing-logs" \
    -H 'Content-Type: application/json' --data-binary "@$template"
  echo
done
echo "Elasticsearch ready for Amazing Segments logs"
