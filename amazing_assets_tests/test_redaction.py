"""Raw ids never reach a log record: the redaction of messages and of Dagster metadata."""

import pytest

from amazing_assets.lib.observability.ecs import REDACTED, metadata_values, redact

SESSION = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
RUN_ID = "11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize(
    "text",
    [
        "2019-10-01 00:00:05 UTC,view,1004856,2053013555631882655,,samsung,1081.98,"
        f"541312140,{SESSION}",
        "user id=541312140.00 rejected",
        "user_id=541312140.0",
        "541312140",
        "[541312140, 512345678]",
        "ids: 541312140;1515915625",
    ],
)
def test_raw_ids_inside_csv_lines_and_key_values_are_masked(text):
    out = redact(text)
    assert "541312140" not in out and "1515915625" not in out and SESSION not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "clean_events 2019-10: 10,002,362 in, 9,812,000 kept",  # counts with separators
        "price 1081.98, product 1004856, category 2053013555631882655",  # not personal ids
        "took 12.5 s at 1795902970667 ns",  # a 13-digit timestamp is not a user id
        "version 3.141592653",  # decimals are not ids
    ],
)
def test_figures_that_are_not_ids_stay_readable(text):
    assert redact(text) == text


def test_the_run_id_stays_searchable_while_other_uuids_are_masked():
    out = redact(f"run {RUN_ID} session {SESSION}", RUN_ID)
    assert RUN_ID in out and SESSION not in out


def test_metadata_values_are_redacted_at_every_depth():
    metadata = {
        "preview": f"user 541312140 in session {SESSION}",
        "by_user": {"541312140": 3, "top": ["512345678", 7]},
        "rows": 12,
    }
    values = metadata_values(metadata, RUN_ID)
    text = repr(values)
    assert "541312140" not in text and "512345678" not in text and SESSION not in text
    assert values["rows"] == 12
