"""Alerts: a segment whose size or expected value moved past a threshold since last month.

A marketer should hear of a big move without opening the app, and should not hear of a move the
data made: an alert is raised only between two months the verdict finds comparable
(:mod:`.verdict`); otherwise the month's alerts are *held*, and the table says why.

Segments are matched by identity (``segment_id``, kept across monthly refits), not by name or
cluster number, so a renamed or renumbered segment is not a move. The message holds segment
names, counts and money only: no customer key, nothing a person can be found by.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol
from urllib.parse import urlencode

import pandas as pd

ALERT_COLUMNS: tuple[str, ...] = (
    "month",
    "segment_id",
    "segment",
    "segment_fr",
    "metric",
    "before",
    "after",
    "change",
    "status",
)
SENT, HELD, NOT_SENT = "sent", "held", "not_sent"
METRICS: dict[str, dict[str, str]] = {
    "size": {"en": "customers", "fr": "clients"},
    "expected_revenue_90d": {"en": "expected 90-day revenue", "fr": "CA attendu à 90 jours"},
}


@dataclass(frozen=True)
class AlertRules:
    min_relative_change: float = 0.25
    """A move of a quarter of the segment either way: month-to-month noise of a stable
    behaviour is a few percent (the robustness populations' refits move sizes by < 10 %)."""
    min_customers: int = 100
    """...and of at least this many customers (or, for value, of a segment this large): a
    segment of 12 that becomes 20 is not news."""


@dataclass(frozen=True)
class Alert:
    month: str
    segment_id: int
    segment: str
    segment_fr: str
    metric: str
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after / self.before - 1 if self.before else math.inf

    def sentence(self, language: str) -> str:
        name = self.segment_fr if language == "fr" else self.segment
        metric = METRICS[self.metric][language]
        sign = "+" if self.change >= 0 else "−"
        percent = f"{sign}{abs(self.change):.0%}".replace("%", " %" if language == "fr" else "%")
        before, after = _figure(self.before, self.metric), _figure(self.after, self.metric)
        if language == "fr":
            return f"{name} : {metric} {percent} ({before} → {after})"
        return f"{name}: {metric} {percent} ({before} → {after})"


def _figure(value: float, metric: str) -> str:
    text = f"{value:,.0f}".replace(",", " ")
    return f"{text} €" if metric == "expected_revenue_90d" else text


def segment_moves(
    month: str, current: pd.DataFrame, previous: pd.DataFrame | None, rules: AlertRules
) -> list[Alert]:
    """Moves past the thresholds between ``previous`` and ``current`` (cluster_profiles rows of
    two consecutive months), for segment identities present in both."""
    if previous is None or "segment_id" not in current or "segment_id" not in previous:
        return []
    before = previous.set_index("segment_id")
    alerts = []
    for row in current.to_dict("records"):
        if row["segment_id"] not in before.index:
            continue  # a new segment: reported by the identity tracking, not as a move
        old = before.loc[row["segment_id"]]
        for metric in METRICS:
            if metric not in row or metric not in old or not _finite(row[metric], old[metric]):
                continue
            after, was = float(row[metric]), float(old[metric])
            if was <= 0:  # no base to measure a move against (a segment with no value yet)
                continue
            large = max(float(row["size"]), float(old["size"])) >= rules.min_customers
            moved = metric != "size" or abs(after - was) >= rules.min_customers
            if large and moved and abs(after / was - 1) >= rules.min_relative_change:
                alerts.append(
                    Alert(
                        month,
                        int(row["segment_id"]),
                        str(row["name"]),
                        str(row.get("name_fr") or row["name"]),
                        metric,
                        was,
                        after,
                    )
                )
    return alerts


def _finite(*values: object) -> bool:
    try:
        return all(math.isfinite(float(v)) for v in values)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def alert_table(alerts: Sequence[Alert], status: str) -> pd.DataFrame:
    rows = [{**asdict(a), "change": a.change, "status": status} for a in alerts]
    return pd.DataFrame(rows, columns=list(ALERT_COLUMNS))


def app_link(app_url: str, month: str) -> str:
    """The Profiles page of ``month`` (the app reads ``month`` and ``page`` from its URL)."""
    return f"{app_url}?{urlencode({'month': month, 'page': 'profiles'})}"


def message(month: str, alerts: Sequence[Alert], link: str, language: str) -> dict:
    """A Slack-compatible incoming-webhook payload (``text`` plus ``blocks``; Mattermost, Teams
    workflows and most chat tools accept the same ``text``)."""
    title = (
        f"Amazing Segments — {month} : {len(alerts)} segment(s) en mouvement"
        if language == "fr"
        else f"Amazing Segments — {month}: {len(alerts)} segment move(s)"
    )
    lines = "\n".join(f"• {a.sentence(language)}" for a in alerts)
    open_text = "Ouvrir les profils" if language == "fr" else "Open the profiles"
    text = f"{title}\n{lines}\n<{link}|{open_text}>"
    return {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{link}|{open_text}>"}},
        ],
    }


class AlertSink(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, payload: dict) -> None: ...


@dataclass(frozen=True)
class FileSink:
    """One JSON line per message appended to a local file: the default, readable by any tool."""

    path: str
    name: str = "file"

    def send(self, payload: dict) -> None:
        from pathlib import Path

        target = Path(self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as out:
            out.write(json.dumps(payload, ensure_ascii=False) + "\n")


class AlertDeliveryError(RuntimeError):
    """The webhook refused or could not be reached. The message never holds the URL: a webhook
    URL is a credential (whoever has it can post to the channel)."""


@dataclass(frozen=True)
class WebhookSink:
    url: str
    timeout_s: float = 10.0
    name: str = "webhook"

    def send(self, payload: dict) -> None:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            self.url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise AlertDeliveryError(
                f"the alert webhook answered HTTP {error.code}: check AMAZING_ALERT_WEBHOOK"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = type(getattr(error, "reason", error)).__name__
            raise AlertDeliveryError(
                f"the alert webhook could not be reached ({reason}): check "
                "AMAZING_ALERT_WEBHOOK and the network"
            ) from None
        if not 200 <= status < 300:
            raise AlertDeliveryError(f"the alert webhook answered HTTP {status}")
