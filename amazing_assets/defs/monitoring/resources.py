"""Where alerts go and when a move is worth one, bound from the deployment's settings."""

from pydantic import Field

from amazing_assets.defs.monitoring.alerts import AlertRules, AlertSink, FileSink, WebhookSink
from amazing_assets.lib.launch_guard import DeploymentResource


class AlertResource(DeploymentResource):
    """Alert sinks and thresholds. Locked at launch: a run's config could otherwise point the
    webhook at a channel of its choosing."""

    webhook_url: str | None = Field(
        default=None, description="AMAZING_ALERT_WEBHOOK: Slack-compatible incoming webhook"
    )
    file_path: str | None = Field(
        default=None, description="AMAZING_ALERT_FILE: JSON lines file (the local default)"
    )
    app_url: str = Field(
        default="http://localhost:5006/app", description="AMAZING_APP_URL: link in each alert"
    )
    language: str = Field(default="fr", description="AMAZING_ALERT_LANGUAGE: fr or en")
    min_relative_change: float = Field(default=AlertRules.min_relative_change, gt=0)
    min_customers: int = Field(default=AlertRules.min_customers, ge=0)

    def rules(self) -> AlertRules:
        return AlertRules(self.min_relative_change, self.min_customers)

    def sinks(self) -> list[AlertSink]:
        sinks: list[AlertSink] = []
        if self.file_path:
            sinks.append(FileSink(self.file_path))
        if self.webhook_url:
            sinks.append(WebhookSink(self.webhook_url))
        return sinks
