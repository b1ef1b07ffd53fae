"""Segment alerts: moves past the thresholds, matched by identity, delivered to real sinks."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from amazing_assets.defs.monitoring.alerts import (
    AlertDeliveryError,
    AlertRules,
    FileSink,
    WebhookSink,
    app_link,
    message,
    segment_moves,
)
from amazing_assets_tests.support.webhook_receiver import webhook_receiver

RULES = AlertRules(min_relative_change=0.25, min_customers=100)


def profiles(rows: list[tuple[int, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "segment_id": i,
                "name": n,
                "name_fr": f"{n} (fr)",
                "size": s,
                "expected_revenue_90d": v,
            }
            for i, n, s, v in rows
        ]
    )


def test_a_segment_that_grew_by_a_third_is_an_alert_and_noise_is_not():
    before = profiles([(1, "Champions", 1_000, 50_000.0), (2, "Browsers", 5_000, 1_000.0)])
    after = profiles([(1, "Champions", 1_340, 52_000.0), (2, "Browsers", 5_200, 1_050.0)])
    moves = segment_moves("2019-12", after, before, RULES)
    assert [(m.segment, m.metric) for m in moves] == [("Champions", "size")]
    assert moves[0].change == pytest.approx(0.34)


def test_segments_are_matched_by_identity_not_by_name_or_order():
    """A renamed segment whose size holds is not a move; a new identity is not one either."""
    before = profiles([(1, "Occasional browsers", 4_000, 0.0)])
    after = profiles([(7, "Champions", 50, 0.0), (1, "Browsers, low activity", 4_050, 0.0)])
    assert segment_moves("2019-11", after, before, RULES) == []


def test_small_segments_and_small_absolute_moves_are_not_news():
    before = profiles([(1, "A", 40, 100.0), (2, "B", 300, 100.0)])
    after = profiles([(1, "A", 80, 300.0), (2, "B", 390, 100.0)])  # +100 % of 40; +90 of 300
    assert segment_moves("2019-11", after, before, RULES) == []


def test_value_moves_are_alerts_and_missing_values_are_skipped():
    before = profiles([(1, "A", 2_000, 10_000.0), (2, "B", 2_000, float("nan"))])
    after = profiles([(1, "A", 2_000, 6_000.0), (2, "B", 2_000, 5_000.0)])
    moves = segment_moves("2019-11", after, before, RULES)
    assert [(m.segment_id, m.metric) for m in moves] == [(1, "expected_revenue_90d")]
    assert "−40" in moves[0].sentence("en") and "€" in moves[0].sentence("fr")


def test_the_message_is_slack_compatible_names_the_change_and_links_the_month():
    before = profiles([(1, "Champions", 1_000, 0.0)])
    after = profiles([(1, "Champions", 1_500, 0.0)])
    moves = segment_moves("2019-12", after, before, RULES)
    link = app_link("http://app.example/app", "2019-12")
    assert link == "http://app.example/app?month=2019-12&page=profiles"
    payload = message("2019-12", moves, link, "fr")
    assert set(payload) == {"text", "blocks"}
    assert "Champions (fr) : clients +50 % (1 000 → 1 500)" in payload["text"]
    assert link in payload["text"] and json.dumps(payload)


@pytest.fixture
def webhook():
    with webhook_receiver() as endpoint:
        yield endpoint


def test_the_webhook_receives_the_json_payload(webhook):
    url, receiver = webhook
    WebhookSink(url).send({"text": "hello"})
    assert receiver.posts == [{"json": {"text": "hello"}, "content_type": "application/json"}]


def test_a_refusing_or_absent_webhook_fails_clearly_without_the_url(webhook):
    url, receiver = webhook
    receiver.status = 403
    with pytest.raises(AlertDeliveryError, match="HTTP 403") as refused:
        WebhookSink(url).send({"text": "x"})
    with pytest.raises(AlertDeliveryError, match="could not be reached") as absent:
        WebhookSink("http://127.0.0.1:9/hooks/SECRET-TOKEN", timeout_s=2).send({"text": "x"})
    for error in (refused.value, absent.value):
        assert "SECRET-TOKEN" not in str(error) and error.__cause__ is None


def test_the_file_sink_appends_one_json_line_per_message(tmp_path):
    sink = FileSink(str(tmp_path / "alerts" / "alerts.jsonl"))
    sink.send({"text": "un"})
    sink.send({"text": "deux €"})
    lines = (tmp_path / "alerts" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["un", "deux €"]
