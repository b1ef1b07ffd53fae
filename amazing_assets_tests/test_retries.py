"""One retry policy: transient storage, network and Spark faults are retried, data errors never.

Real Dagster materialisations of small assets under the pipeline's own policy (no mock): a data
error is attempted once and fails with its message; an S3 503 is retried and then succeeds.
"""

import dagster as dg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils._param_validation import InvalidParameterError

from amazing_assets.lib.asset_options import TRANSIENT_RETRY as REEXPORTED
from amazing_assets.lib.asset_options import rejected
from amazing_assets.lib.retries import (
    TRANSIENT_MESSAGE,
    TRANSIENT_RETRY,
    data_failure,
    is_transient,
    retry_only_transient,
)

S3_503 = "AWS Error UNKNOWN (HTTP status 503) during GetObject operation: Service Unavailable"


class Py4JNetworkError(Exception):
    """Named as py4j names it (the classification goes by name: py4j is not imported)."""


class ClientError(Exception):
    """botocore's ClientError shape: a ``response`` dict with the HTTP status."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"An error occurred ({code}) when calling the GetObject operation")
        self.response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}


def chained(outer: Exception, cause: Exception) -> Exception:
    outer.__cause__ = cause
    return outer


TRANSIENT = [
    OSError(S3_503),
    OSError("AWS Error SLOW_DOWN during PutObject operation: Please reduce your request rate"),
    OSError("Generic S3 error: Server returned non-2xx status code: 503 Service Unavailable"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError("timed out"),
    Py4JNetworkError("Answer from Java side is empty"),
    RuntimeError("Job aborted: ExecutorLostFailure (executor 1 exited caused by one task)"),
    ClientError(503, "SlowDown"),
    ClientError(429, "TooManyRequests"),
    chained(RuntimeError("write failed"), ConnectionResetError("Connection reset by peer")),
    rejected("x").__class__(description="a transient failure", allow_retries=True),
]
PERMANENT = [
    ValueError("19 customers are too few to segment into up to 11 groups"),
    ValueError("500 customers are too few"),  # a number is not an HTTP status
    InvalidParameterError("The 'threshold' parameter of binarize must be a float. Got inf"),
    KeyError("user_key"),
    FileNotFoundError("landing/2019-11/events.csv"),
    PermissionError("s3://bucket/warehouse: access denied"),
    OSError("AWS Error ACCESS_DENIED during GetObject: AccessDenied"),
    OSError("AWS Error NO_SUCH_BUCKET: NoSuchBucket"),
    ClientError(404, "NoSuchKey"),
    rejected("month 2019-11 rejected: 22 of 22 rows have unparseable user ids"),
]


@pytest.mark.parametrize("error", TRANSIENT, ids=repr)
def test_faults_that_can_pass_are_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize("error", PERMANENT, ids=repr)
def test_data_and_configuration_errors_are_not(error):
    assert not is_transient(error)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=200).filter(lambda t: not TRANSIENT_MESSAGE.search(t)))
def test_a_data_error_is_never_transient_whatever_it_says(text):
    for kind in (ValueError, KeyError, TypeError, ZeroDivisionError):
        assert not is_transient(kind(text))
    failure = data_failure(ValueError(text), "pca_embedding")
    assert not failure.allow_retries and failure.description.startswith("pca_embedding: ")


def test_the_policy_is_one_object_and_every_asset_uses_it():
    from amazing_assets.definitions import defs

    assert REEXPORTED is TRANSIENT_RETRY
    job = defs.resolve_job_def("monthly_segments")
    for assets_def in job.asset_layer.asset_graph.assets_defs:
        op = assets_def.op
        assert op.retry_policy == TRANSIENT_RETRY, op.name
        assert getattr(op.compute_fn.decorated_fn, "retries_only_transient", False), op.name


def materialise(asset: dg.AssetsDefinition) -> dg.ExecuteInProcessResult:
    return dg.materialize([asset], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def restarts(result: dg.ExecuteInProcessResult) -> int:
    return sum(e.event_type_value == "STEP_RESTARTED" for e in result.all_events)


def failure_description(result: dg.ExecuteInProcessResult) -> str:
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.step_failure_data.user_failure_data.description


def test_an_asset_that_raises_a_data_error_is_attempted_once():
    attempts: list[int] = []

    @dg.asset(retry_policy=TRANSIENT_RETRY)
    @retry_only_transient
    def features(context: dg.AssetExecutionContext):
        attempts.append(context.retry_number)
        raise InvalidParameterError("The 'threshold' parameter of binarize must be a float")

    result = materialise(features)
    assert not result.success
    assert attempts == [0] and restarts(result) == 0
    assert "binarize must be a float" in failure_description(result)
    assert "not retried" in failure_description(result)


def test_a_generator_asset_with_a_data_error_is_attempted_once_too():
    attempts: list[int] = []

    @dg.asset(retry_policy=TRANSIENT_RETRY)
    @retry_only_transient
    def profiles(context: dg.AssetExecutionContext):
        attempts.append(context.retry_number)
        if attempts:
            raise KeyError("segment")
        yield dg.Output(1)

    result = materialise(profiles)
    assert not result.success and attempts == [0] and restarts(result) == 0


def test_a_transient_s3_503_is_retried_with_backoff_and_then_succeeds():
    attempts: list[int] = []

    @dg.asset(retry_policy=TRANSIENT_RETRY)
    @retry_only_transient
    def landing(context: dg.AssetExecutionContext) -> int:
        attempts.append(context.retry_number)
        if context.retry_number == 0:
            raise OSError(S3_503)
        return 1

    result = materialise(landing)
    assert result.success
    assert attempts == [0, 1] and restarts(result) == 1
