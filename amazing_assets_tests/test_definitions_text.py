"""Every segment name's measured definition has a plain sentence in French and English, built
from the pipeline's own thresholds."""

from __future__ import annotations

import pytest

from amazing_assets.defs.segments import profiles
from panel_app.definitions_text import NEUTRAL, definition_sentence, plain_definitions


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_definition_has_a_sentence_and_only_those(language):
    assert set(plain_definitions(language)) == set(profiles.DEFINITIONS)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_sentences_carry_the_thresholds_the_pipeline_uses(language, monkeypatch):
    most = "80\u202f%" if language == "fr" else "80%"
    assert most in definition_sentence("Champions", language)
    monkeypatch.setattr(profiles, "MOST", 0.9)
    changed = "90\u202f%" if language == "fr" else "90%"
    assert changed in definition_sentence("Champions", language)
    assert f"{profiles.RECENT_DAYS:.0f}" in definition_sentence("At risk", language)


def test_qualified_and_neutral_names_read_their_base_or_say_they_claim_nothing():
    assert definition_sentence("Bargain hunters — fewer carts", "en") == definition_sentence(
        "Bargain hunters", "en"
    )
    assert definition_sentence("Browsers, low activity", "fr") == NEUTRAL["fr"]
