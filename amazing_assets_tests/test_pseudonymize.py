"""Keyed pseudonymisation: real HMAC-SHA-256, vectorised, key never leaks."""

import hashlib
import hmac
import pickle

import pyarrow as pa
import pytest

from amazing_assets.lib.pseudonymize import (
    TOKEN_HEX_DIGITS,
    PseudonymizationKeyError,
    Pseudonymizer,
)

KEY = b"k" * 40


def test_token_is_truncated_hmac_sha256_of_the_decimal_id():
    expected = hmac.new(KEY, b"541312140", hashlib.sha256).hexdigest()[:TOKEN_HEX_DIGITS]
    assert Pseudonymizer(KEY).token(541312140) == expected
    assert Pseudonymizer(KEY).token("541312140") == expected


def test_long_keys_follow_rfc_2104():
    key = b"x" * 100
    assert Pseudonymizer(key).token("a") == hmac.new(key, b"a", hashlib.sha256).hexdigest()[:32]


def test_another_key_gives_unlinkable_tokens():
    assert Pseudonymizer(KEY).token(1) != Pseudonymizer(b"z" * 40).token(1)


def test_vectorised_tokens_match_scalar_tokens_and_keep_nulls():
    p = Pseudonymizer(KEY)
    values = pa.array([5, 7, 5, None, 7], pa.int64())
    assert p.tokens(values).to_pylist() == [p.token(5), p.token(7), p.token(5), None, p.token(7)]


def test_short_key_is_refused_with_advice():
    with pytest.raises(PseudonymizationKeyError, match="at least 16"):
        Pseudonymizer(b"short")


def test_the_key_cannot_be_pickled_or_printed():
    p = Pseudonymizer(KEY)
    with pytest.raises(TypeError):
        pickle.dumps(p)
    assert "kkkk" not in repr(p)
