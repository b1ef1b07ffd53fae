"""A model loads only as the asset and month it was written for, under the pipeline's key.

Before (issue 24, finding 11), month A's ``model.skops`` and ``manifest.json`` copied over month
B's loaded as month B, and whoever could write the model could rewrite its digest: the manifest
had no key. Real skops models, files on disk, and the app's own loading path.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from amazing_assets.defs.segments.modeling import (
    MODEL_FEATURES,
    ModelingConfig,
    fit_embedding,
    fit_kmeans,
    segment_pipeline,
)
from amazing_assets.defs.segments.prediction import load_predictor
from amazing_assets.lib.artifacts import (
    MANIFEST_FILE,
    MODEL_FILE,
    ModelIntegrityError,
    load_model,
    model_location,
    save_model,
)
from amazing_assets.lib.delta_tables import write_arrow_months
from amazing_assets.lib.model_signing import SIGNING_LABEL, model_signing_key
from amazing_assets.lib.storage import Location

KEY = b"test-key-0123456789abcdef0123456789abcdef"  # conftest's AMAZING_PSEUDONYMIZATION_KEY
SIGNING = model_signing_key(KEY)


def fitted(seed: int, k: int):
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        np.abs(rng.normal(size=(300, len(MODEL_FEATURES)))), columns=list(MODEL_FEATURES)
    )
    config = ModelingConfig(k_min=2, k_max=4)
    embedding, z = fit_embedding(features, config)
    return segment_pipeline(embedding, fit_kmeans(z, k, config))


@pytest.fixture
def warehouse(tmp_path: Path) -> Location:
    """Two months of kmeans_model (k=2 in October, k=3 in November) and their profiles."""
    warehouse = Location.parse(str(tmp_path / "warehouse"))
    root = warehouse.child("kmeans_model")
    for month, seed, k in (("2019-10", 1, 2), ("2019-11", 2, 3)):
        save_model(
            model_location(root, month),
            fitted(seed, k),
            asset="kmeans_model",
            month=month,
            signing_key=SIGNING,
        )
        profiles = pa.table({"month": [month] * k, "segment": list(range(k))})
        write_arrow_months(warehouse.child("cluster_profiles"), profiles, [month])
    return warehouse


def folder(warehouse: Location, month: str) -> Path:
    return Path(model_location(warehouse.child("kmeans_model"), month).path)


def test_the_signing_key_is_derived_not_the_raw_key() -> None:
    assert SIGNING != KEY and KEY not in SIGNING and len(SIGNING) == 32
    assert model_signing_key(KEY) == SIGNING  # the pipeline and the app derive the same
    assert model_signing_key(KEY + b"x") != SIGNING
    assert SIGNING_LABEL.startswith(b"amazing-segments/")


def test_a_model_loads_as_the_month_it_was_written_for(warehouse: Location) -> None:
    predictor = load_predictor(warehouse, "2019-11")  # the app's path, key from the environment
    assert predictor is not None
    _, manifest = load_model(
        model_location(warehouse.child("kmeans_model"), "2019-10"),
        asset="kmeans_model",
        month="2019-10",
        signing_key=SIGNING,
    )
    assert manifest["month"] == "2019-10" and len(manifest["signature"]) == 64


def test_month_as_model_copied_over_month_b_is_refused(warehouse: Location) -> None:
    for name in (MODEL_FILE, MANIFEST_FILE):
        shutil.copy(folder(warehouse, "2019-10") / name, folder(warehouse, "2019-11") / name)
    with pytest.raises(ModelIntegrityError, match=r"written for kmeans_model 2019-10"):
        load_predictor(warehouse, "2019-11")


def test_a_model_copied_from_another_asset_is_refused(warehouse: Location) -> None:
    other = model_location(warehouse.child("pca_embedding"), "2019-11")
    save_model(other, fitted(3, 2), asset="pca_embedding", month="2019-11", signing_key=SIGNING)
    for name in (MODEL_FILE, MANIFEST_FILE):
        shutil.copy(Path(other.path) / name, folder(warehouse, "2019-11") / name)
    with pytest.raises(ModelIntegrityError, match="written for pca_embedding"):
        load_predictor(warehouse, "2019-11")


def test_a_tampered_digest_or_a_rewritten_month_is_refused(warehouse: Location) -> None:
    """The writer of the bucket replaces the model and rewrites the manifest to match."""
    target = folder(warehouse, "2019-11")
    replacement = (folder(warehouse, "2019-10") / MODEL_FILE).read_bytes()
    (target / MODEL_FILE).write_bytes(replacement)
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    manifest.update(sha256=hashlib.sha256(replacement).hexdigest(), bytes=len(replacement))
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="signature does not verify"):
        load_predictor(warehouse, "2019-11")
    source = json.loads((folder(warehouse, "2019-10") / MANIFEST_FILE).read_text())
    source["month"] = "2019-11"  # a copied model whose manifest claims the new month
    shutil.copy(folder(warehouse, "2019-10") / MODEL_FILE, target / MODEL_FILE)
    (target / MANIFEST_FILE).write_text(json.dumps(source))
    with pytest.raises(ModelIntegrityError, match="signature does not verify"):
        load_predictor(warehouse, "2019-11")


def test_an_unsigned_manifest_or_another_key_is_refused(warehouse: Location) -> None:
    target = folder(warehouse, "2019-11")
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    del manifest["signature"]
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="not signed"):
        load_predictor(warehouse, "2019-11")
    location = model_location(warehouse.child("kmeans_model"), "2019-10")
    with pytest.raises(ModelIntegrityError, match="signature does not verify"):
        load_model(
            location,
            asset="kmeans_model",
            month="2019-10",
            signing_key=model_signing_key(b"another-deployment-key-0123456789abcdef"),
        )
