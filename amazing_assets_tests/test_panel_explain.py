"""The customer lookup explains the segment and what would move the customer up (issue 27), in a
real browser (Debian's Chromium, Playwright) on the session's pipeline warehouse, in FR and EN.

Expected segments come from the warehouse tables (assignments, profiles), not the app's code.
"""

from __future__ import annotations

import os

import pytest

from amazing_assets.lib.pseudonymize import Pseudonymizer
from amazing_assets_tests.support.browser import screenshot
from amazing_assets_tests.test_panel_app import (
    LATEST,
    archetype_customers,
    open_page,
    table,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def segment_value(profiles):
    """The documented value order (docs/app.md): expected 90-day revenue per customer, else
    revenue per customer over the window."""
    if (
        "expected_revenue_per_customer" in profiles
        and profiles["expected_revenue_per_customer"].notna().all()
    ):
        return profiles["expected_revenue_per_customer"]
    return profiles["revenue_share"] / profiles["share"]


def test_a_looked_up_customer_shows_why_and_what_would_move_them_up(browser, app, backfilled):
    pseudonymizer = Pseudonymizer(os.environ["AMAZING_PSEUDONYMIZATION_KEY"].encode())
    raw_ids = archetype_customers(backfilled, "cart_abandoner", LATEST)
    keyed = {pseudonymizer.token(i): i for i in raw_ids}
    assignments = table(backfilled.warehouse, "kmeans_model/assignments", [LATEST])
    assignments = assignments[assignments["user_key"].isin(keyed)].sort_values("user_key")
    profiles = table(backfilled.warehouse, "cluster_profiles", [LATEST]).set_index("segment")
    worth = segment_value(profiles)
    key = assignments["user_key"].iloc[0]
    segment = int(assignments["segment"].iloc[0])
    better = profiles[worth > worth[segment]]
    assert len(better), "a cart abandoner is below the most valuable segment"

    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    page.locator("[data-testid=kpi-customers]").wait_for()
    open_page(page, "customer")
    page.get_by_label("Identifiant client", exact=True).fill(keyed[key])
    page.get_by_role("button", name="Rechercher").click()
    card = page.locator("[data-testid=customer-why]")
    card.wait_for()
    text = card.inner_text()
    assert "Pourquoi ce segment" in text and "Ce qui le ferait monter" in text, text
    reasons = page.locator("[data-testid=customer-why-reasons]").inner_text()
    assert "médiane du segment" in reasons and "tous les clients" in reasons, reasons
    move = page.locator("[data-testid=customer-move-up]").inner_text()
    assert any(f"« {name} »" in move for name in better["name_fr"]), (move, better["name_fr"])
    page.get_by_label("Identifiant client", exact=True).fill("")  # no id in the artefact
    screenshot(page, "panel-customer-why-move-up-fr")

    page.get_by_role("button", name="EN", exact=True).click()
    page.locator("[data-testid=customer-why]", has_text="Why this segment").wait_for()
    text = card.inner_text()
    assert "What would move them up" in text and "Pourquoi" not in text, text
    reasons = page.locator("[data-testid=customer-why-reasons]").inner_text()
    assert "segment median" in reasons and "all customers" in reasons, reasons
    move = page.locator("[data-testid=customer-move-up]").inner_text()
    assert any(f"“{name}”" in move for name in better["name"]), (move, better["name"])
    screenshot(page, "panel-customer-why-move-up-en")
    context.close()
