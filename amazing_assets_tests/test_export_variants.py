"""Property-style: however a month's export is re-saved, joined or compressed, the landing read
plus the cleaning rules keep exactly the rows of the original export, and every data line is
accounted for (data lines = kept + Σ dropped by reason; headers and blank lines are not rows).

Each case is a seeded combination of transformations (see :class:`Recipe`), applied alternately
to a slice of the real October excerpt (with its cut-off last line) and to a generated month
(bots, cart bursts, duplicates, all four event types).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from amazing_assets.datagen import GenerationSpec, generate_month
from amazing_assets.defs.ingestion.landing import list_month_files
from amazing_assets.defs.ingestion.landing_source import landing_read_error
from amazing_assets.lib.schema import EVENT_COLUMNS, WARNING_LOSSY_CATEGORY_ID
from amazing_assets.lib.storage import Location
from amazing_assets_tests.conftest import REAL_17K, real_file
from amazing_assets_tests.support.export_variants import (
    INDEX_STYLES,
    MONTH,
    Export,
    Outcome,
    Recipe,
    classify_each,
    classify_landing,
    render,
    write_month,
)

VARIANTS = 32
RECIPES = [Recipe.draw(seed) for seed in range(VARIANTS)]
FAST_VARIANTS = 8
"""The first variants run in ``make test-fast``; all of them with the slow suite (CI)."""
REAL_ROWS = 2_500  # a slice keeps each case at a couple of seconds on two busy cores


def base_name(recipe: Recipe) -> str:
    return "real" if recipe.seed % 2 == 0 else "generated"


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Export]:
    out = tmp_path_factory.mktemp("generated")
    generated = generate_month(GenerationSpec(month=MONTH, events=3_000, users=400, seed=11), out)
    return {
        "real": Export.load(real_file(REAL_17K), head=REAL_ROWS),
        "generated": Export.load(generated.path),
    }


@pytest.fixture(scope="module")
def originals(spark, bases, tmp_path_factory) -> dict[str, Outcome]:
    """Each base export read unmodified: the outcome every variant must reproduce."""
    texts = {name: export.text() for name, export in bases.items()}
    return classify_each(spark, tmp_path_factory, texts, "events.csv")


def test_the_recipes_cover_every_transformation():
    seen = Counter()
    for recipe in RECIPES:
        for flag in recipe.describe().split("-")[1:]:
            seen[flag.rstrip("0123456789").split("=")[0]] += 1
        seen[f"index={recipe.index}"] += 1
    expected = ["permuted", "float", "quoted", "crlf", "bom", "cat", "blank", "outside", "gz"]
    assert all(seen[name] >= 3 for name in [*expected, "split"]), seen
    assert all(seen[f"index={style}"] >= 3 for style in INDEX_STYLES), seen


@pytest.mark.spark
def test_the_originals_hold_what_the_variants_must_preserve(originals, bases):
    real, generated = originals["real"], originals["generated"]
    assert real.dropped == {"wrong_field_count": 1}  # the cut-off last line
    assert real.rows == bases["real"].data_lines
    assert {"bot_user", "cart_burst", "exact_duplicate"} <= set(generated.dropped)
    assert not real.warnings and not generated.warnings


@pytest.mark.spark
@pytest.mark.parametrize(
    "recipe",
    [
        pytest.param(r, marks=[] if i < FAST_VARIANTS else [pytest.mark.slow])
        for i, r in enumerate(RECIPES)
    ],
    ids=Recipe.describe,
)
def test_every_variant_keeps_the_rows_of_the_original(spark, tmp_path, bases, originals, recipe):
    base = base_name(recipe)
    variant = render(bases[base], recipe)
    landing = write_month(tmp_path / "landing", variant.name, variant.data)

    outcome = classify_landing(spark, landing, recipe.split_bytes)

    assert outcome.rows == variant.data_lines  # data lines = kept + Σ dropped by reason
    original = originals[base]
    assert outcome.kept == original.kept
    assert outcome.dropped == original.dropped + Counter({"outside_month": variant.outside_rows})
    assert outcome.warnings == Counter({WARNING_LOSSY_CATEGORY_ID: variant.lossy_rows})


def test_rows_with_an_index_the_header_does_not_name_are_recognised(tmp_path):
    export = Export.load(real_file(REAL_17K), head=30)
    recipe = Recipe.draw(0)
    unlabelled = render(export, _with(recipe, index="unlabelled", parts=1, gzip=False))
    landing = write_month(tmp_path, unlabelled.name, unlabelled.data)
    (landing_file,) = list_month_files(Location.parse(str(landing)), MONTH)
    assert landing_file.unnamed_index
    assert landing_file.field_names[0] == "" and set(EVENT_COLUMNS) <= set(landing_file.columns)


@pytest.mark.spark
def test_exports_of_different_layouts_joined_in_one_file_are_refused(spark, tmp_path):
    export = Export.load(real_file(REAL_17K), head=40)
    first = export.text().decode().split("\n")[:21]
    order = [EVENT_COLUMNS.index(c) for c in reversed(EVENT_COLUMNS)]
    second = [
        ",".join(EVENT_COLUMNS[i] for i in order),
        *(",".join(row[i] for i in order) for row in export.rows[20:]),
    ]
    write_month(tmp_path, "joined.csv", ("\n".join(first + second) + "\n").encode())
    with pytest.raises(Exception) as failure:  # noqa: PT011 - Spark wraps the worker's error
        classify_landing(spark, tmp_path)
    message = landing_read_error(failure.value)
    assert message is not None and "2019-10/joined.csv" in message
    assert "another column layout" in message


def _with(recipe: Recipe, **changes) -> Recipe:
    return replace(recipe, **changes)
