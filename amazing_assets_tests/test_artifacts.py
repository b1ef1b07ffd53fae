"""Model files: skops round trip, integrity manifest, trusted-types refusal."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from amazing_assets.defs.segments.modeling import (
    MODEL_FEATURES,
    ModelingConfig,
    fit_embedding,
    fit_kmeans,
    segment_pipeline,
)
from amazing_assets.lib.artifacts import (
    MANIFEST_FILE,
    MODEL_FILE,
    ModelIntegrityError,
    save_model,
)
from amazing_assets.lib.artifacts import load_model as _load_model
from amazing_assets.lib.model_signing import model_signing_key, sign_manifest
from amazing_assets.lib.storage import Location

SIGNING_KEY = model_signing_key(b"test-key-0123456789abcdef0123456789abcdef")
PLACE = {"asset": "kmeans_model", "month": "2019-10"}


def load_model(location: Location):
    return _load_model(location, **PLACE, signing_key=SIGNING_KEY)


@pytest.fixture
def stored(tmp_path):
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        np.abs(rng.normal(size=(400, len(MODEL_FEATURES)))), columns=list(MODEL_FEATURES)
    )
    config = ModelingConfig(k_min=2, k_max=3)
    embedding, Z = fit_embedding(features, config)
    pipeline = segment_pipeline(embedding, fit_kmeans(Z, 3, config))
    location = Location.parse(str(tmp_path / "model" / "month=2019-10"))
    save_model(location, pipeline, **PLACE, signing_key=SIGNING_KEY)
    return location, pipeline, features


def test_round_trip_predicts_the_same(stored):
    location, pipeline, features = stored
    loaded, manifest = load_model(location)
    assert manifest["month"] == "2019-10" and len(manifest["sha256"]) == 64
    assert (loaded.predict(features) == pipeline.predict(features)).all()


def test_a_modified_file_is_refused(stored):
    location, _, _ = stored
    path = Path(location.path) / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="does not match its manifest"):
        load_model(location)


def test_a_file_with_untrusted_types_is_refused_even_with_a_matching_manifest(stored):
    """The attacker here holds the signing key too (the last line of defence is skops')."""
    location, _, _ = stored
    evil = sio.dumps({"steps": os.system})  # would run code if loaded naively
    (Path(location.path) / MODEL_FILE).write_bytes(evil)
    manifest_path = Path(location.path) / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["sha256"] = hashlib.sha256(evil).hexdigest()  # the attacker rewrites the manifest too
    manifest["bytes"] = len(evil)
    manifest_path.write_text(json.dumps(sign_manifest(manifest, SIGNING_KEY)))
    with pytest.raises(ModelIntegrityError, match=r"outside the trusted set.*posix.system"):
        load_model(location)


def test_a_missing_model_says_what_to_do(tmp_path):
    with pytest.raises(ModelIntegrityError, match="materialise"):
        load_model(Location.parse(str(tmp_path / "nothing")))
