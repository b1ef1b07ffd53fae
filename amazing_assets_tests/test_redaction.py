"""Raw ids never reach a log record: the redaction of messages and of Dagster metadata."""

import dagster as dg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@given(st.uuids(version=4), st.integers(min_value=100_000_000, max_value=9_999_999_999))
@settings(max_examples=200, deadline=None)
def test_the_run_id_stays_whole_even_when_it_holds_a_run_of_digits(run_uuid, digits):
    """A run id whose last group is mostly digits (``…-801a-1234567890c5``) was cut by the
    raw-id mask before the run id was recognised: an operator could not search for it."""
    tail = f"{digits:010d}"[-10:] + run_uuid.hex[-2:]
    run_id = str(run_uuid)[:-12] + tail
    out = redact(f"run {run_id} failed for user 541312140 in session {SESSION}", run_id)
    assert run_id in out
    assert "541312140" not in out and SESSION not in out
    other = str(run_uuid)[:-12] + tail[::-1]
    if other != run_id:  # any other UUID (a session), digits or not, stays masked whole
        assert redact(f"session {other}", run_id) == f"session {REDACTED}"


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


# Issue 24, finding 4: ids in the other shapes the parser accepts, in integers and in extras.


@pytest.mark.parametrize(
    "text", ["user 00541312140 rejected", "line ...,1081.98,00541312140,x", "id=0541312140.0"]
)
def test_ids_with_leading_zeros_are_masked_as_the_parser_reads_them(text):
    assert "541312140" not in redact(text)


def test_integer_metadata_values_shaped_like_ids_are_masked_but_measures_kept():
    values = metadata_values({"customer": 541312140, "rows_in": 541312140, "top": [512345678]})
    assert values["customer"] == REDACTED and values["top"] == [REDACTED]
    assert values["rows_in"] == 541312140  # a row count is a measure, not an id


def ecs_json(**extra) -> dict:
    import json
    import logging

    from amazing_assets.lib.observability.ecs import DagsterEcsFormatter

    record = logging.LogRecord("amazing_assets.x", logging.INFO, __file__, 1, "plain", (), None)
    record.__dict__.update(extra)
    return json.loads(DagsterEcsFormatter().format(record))


def test_extra_fields_and_integers_of_a_log_record_are_redacted():
    record = ecs_json(
        customer=541312140, note=f"user 541312140 session {SESSION}", nested={"id": 1515915625}
    )
    text = repr(record)
    assert "541312140" not in text and "1515915625" not in text and SESSION not in text
    assert record["log"]["origin"]["file"]["line"] == 1  # ECS's own numbers stay


@pytest.mark.parametrize(
    "spelling", ["00541312140", " 541312140 ", '"541312140"', '" 541312140.0 "', "0541312140.00"]
)
def test_the_quarantine_line_masks_every_spelling_the_parser_reads_as_the_id(spelling):
    from amazing_assets.defs.cleaning.clean_tables import MASKED_USER_ID, line_without_identifiers

    line = f"2019-10-01 00:00:05 UTC,view,1004856,2053,,acme,oops,{spelling},{SESSION}"
    masked = line_without_identifiers(line, 541312140, SESSION)
    assert "541312140" not in masked and MASKED_USER_ID in masked
    assert "1004856" in masked and "2053" in masked  # other fields untouched


def test_short_ids_are_masked_as_whole_fields_only():
    from amazing_assets.defs.cleaning.clean_tables import line_without_identifiers

    line = "2019-10-01 00:00:05 UTC,view,10045,2053,,acme,oops, 0001004 ,s"
    assert line_without_identifiers(line, 1004, None) == (
        "2019-10-01 00:00:05 UTC,view,10045,2053,,acme,oops, [user_id] ,s"
    )


def test_an_id_typed_into_brand_reaches_neither_clean_events_nor_the_preview(tmp_path):
    import pyarrow as pa

    from amazing_assets.defs.cleaning.clean_tables import clean_rows
    from amazing_assets.lib.asset_options import stored_preview
    from amazing_assets.lib.delta_tables import write_arrow_months
    from amazing_assets.lib.storage import Location

    classified = pa.table(
        {
            "event_time": pa.array([None, None], pa.timestamp("us", tz="UTC")),
            "event_type": ["view", "view"],
            "product_id": [1, 2],
            "category_id": [3, 4],
            "category_code": [f"session {SESSION}", "electronics"],
            "brand": ["541312140", "acme"],
            "price": [1.0, 2.0],
            "user_key": ["k1", "k2"],
            "session_key": ["s1", "s2"],
            "month": ["2019-10", "2019-10"],
            "drop_reason": pa.array([None, None], pa.string()),
        }
    )
    clean = clean_rows(classified)
    assert "541312140" not in repr(clean.to_pylist()) and SESSION not in repr(clean.to_pylist())
    assert clean.column("brand").to_pylist()[1] == "acme"
    # The preview masks id shapes in any column, whatever the table holds (an older month).
    location = Location.parse(str(tmp_path / "t"))
    write_arrow_months(location, classified.drop_columns(["drop_reason"]), ["2019-10"])
    preview = stored_preview(location, ["2019-10"]).value
    assert "541312140" not in preview and SESSION not in preview and "acme" in preview


# What the console prints: Dagster's console output is the container's stderr, which compose
# ships to Elasticsearch as it is.
RAW = "541312140"
PRINTED_SHAPES = {
    "plain": f"user {RAW} rejected",
    "leading_zeros": f"user 00{RAW} rejected",
    "dot_zero": f"user {RAW}.0 rejected",
    "quoted": f'user "{RAW}" rejected',
    "single_quoted": f"user '{RAW}' rejected",
    "csv_line": f"line 2019-10-01 00:00:05 UTC,view,1004856,2053,,acme,1.0,{RAW},{SESSION}",
    "key_value": f"user_id={RAW} session={SESSION}",
}


def talking_job() -> dg.JobDefinition:
    """A job whose op logs raw ids in every shape, as arguments and ``extra``, then fails on one."""

    @dg.op
    def talk(context: dg.OpExecutionContext) -> None:
        for text in PRINTED_SHAPES.values():
            context.log.info(text)
        context.log.info("customer %s and %d as arguments", RAW, int(RAW))
        context.log.warning("with extra fields", extra={"customer": int(RAW), "note": f"id {RAW}"})
        try:
            raise ValueError(f"cannot parse ,{RAW},{SESSION}")
        except ValueError:
            context.log.exception("a caught error")
        raise RuntimeError(f"failing on user {RAW} in session {SESSION}")

    @dg.job
    def talking() -> None:
        talk()

    return talking


@pytest.mark.parametrize("run_config", [{}, {"loggers": {"console": {}}}], ids=["none", "console"])
def test_the_console_prints_no_raw_id_in_any_shape(tmp_path, capfd, run_config):
    """The code location's console, with or without a ``loggers`` section in the run config
    (Dagster uses a job's own ``console`` logger only when the run config names it)."""
    from amazing_assets_tests.support.pipeline_run import definitions_for

    defs = dg.Definitions.merge(
        definitions_for(tmp_path, tmp_path / "landing"), dg.Definitions(jobs=[talking_job()])
    )
    capfd.readouterr()
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("talking").execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config
        )
    assert not result.success
    out, err = capfd.readouterr()
    printed = out + err
    # The records were printed (the test would pass vacuously on silence), masked.
    for text in ("rejected", "as arguments", "with extra fields", "a caught error", "failing on"):
        assert text in printed, text
    assert "user [redacted] rejected" in printed and "[redacted]" in printed
    assert RAW not in printed and SESSION not in printed


# Ids stuck to letters or underscores (acme541312140, id_541312140, 541312140x): a digit run of
# a raw id's length is an id wherever it sits, unless it is part of a longer number or decimal.

NO_DIGITS = st.text(
    alphabet=st.characters(codec="ascii", exclude_categories=("Nd", "Cc", "Cs")), max_size=12
)
RAW_IDS = st.integers(100_000_000, 9_999_999_999)
SPELLINGS = st.sampled_from(["{}", "00{}", "{}.0", "0{}.00"])


def masked_everywhere(text: str) -> dict[str, str]:
    """``text`` as each place that masks raw ids leaves it: free text of clean_events (brand,
    category_code), the quarantine's line, log messages and metadata."""
    import pyarrow as pa

    from amazing_assets.defs.cleaning.clean_tables import (
        line_without_identifiers,
        without_identifier_shapes,
    )
    from amazing_assets.lib.observability.ecs import redacted

    brand = without_identifier_shapes(pa.chunked_array([[text, "acme"]])).to_pylist()[0]
    return {
        "brand": brand,
        "quarantine_line": line_without_identifiers(text, None, None),
        "log": redact(text),
        "metadata": redacted({"note": text})["note"],
    }


@pytest.mark.parametrize(
    "text", ["acme541312140", "id_541312140", "541312140x", "brand-x0541312140.0y", "a_541312140_b"]
)
def test_an_id_stuck_to_letters_or_underscores_is_masked_everywhere(text):
    for place, out in masked_everywhere(text).items():
        assert "541312140" not in out, place


@settings(max_examples=300, deadline=None)
@given(NO_DIGITS, RAW_IDS, SPELLINGS, NO_DIGITS)
def test_a_raw_id_is_masked_whatever_surrounds_it(before, user_id, spelling, after):
    text = before + spelling.format(user_id) + after
    for place, out in masked_everywhere(text).items():
        assert str(user_id) not in out, (place, text, out)


SHORT_NUMBERS = st.one_of(
    st.integers(0, 99_999_999).map(str),  # model numbers, quantities: up to 8 digits
    st.decimals(0, 99_999_999, places=2, allow_nan=False).map(str),  # prices
    st.integers(10**10, 10**19 - 1).map(str),  # longer than an id: category ids, EANs
)
LETTERS = st.text(alphabet="ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ_ -/", max_size=8)


@settings(max_examples=300, deadline=None)
@given(LETTERS, SHORT_NUMBERS, LETTERS)
def test_numbers_shorter_or_longer_than_an_id_stay_readable(before, number, after):
    """Prices, model numbers (``rtx3080``, ``sm_g99012``) and long ids (category ids) are not
    user ids: masking them would make free text and logs unreadable."""
    text = before + number + after
    for place, out in masked_everywhere(text).items():
        assert out == text, (place, text, out)
