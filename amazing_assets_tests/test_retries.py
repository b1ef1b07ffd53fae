"""One retry policy: transient storage, network and Spark faults are retried, data errors never.

Real Dagster materialisations of small assets under the pipeline's own policy (no mock): a data
error is attempted once and fails with its message; an S3 503 is retried and then succeeds. The
S3 errors are the real clients' (pyarrow, botocore) against a local server answering with S3's
error codes, and the storage helpers that re-send objects follow the same one rule.
"""

import subprocess
import sys

import botocore.exceptions
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
from amazing_assets.lib.storage import Location, S3Settings, stat_size, upload_bytes
from amazing_assets_tests.support.s3_errors import S3Error, S3ErrorServer, s3_filesystem

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
    OSError("row 1500 is bad"),  # nor in an OSError (storage's old rule retried it: "500")
    OSError(
        "AWS Error UNKNOWN (HTTP status 400) during CreateMultipartUpload operation: "
        "Unable to parse ExceptionName: InvalidArgument Message: row 1500 is bad"
    ),
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
    executable = [a for a in job.asset_layer.asset_graph.assets_defs if a.is_executable]
    assert len(executable) >= 12  # erased_customers, an AssetSpec upstream, has no step
    for assets_def in executable:
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


# --- the real clients' S3 errors -------------------------------------------------------------

S3_ANSWERS = [  # (answer, transient)
    (S3Error(500, "InternalError", "We encountered an internal error. Please try again."), True),
    (S3Error(500, None), True),  # a bare 500 without a body
    (S3Error(503, "SlowDown", "Please reduce your request rate."), True),
    (S3Error(503, "ServiceUnavailable", "Service is unable to handle request."), True),
    (
        S3Error(
            400,
            "RequestTimeout",
            "Your socket connection to the server was not read from or written to within the "
            "timeout period.",
        ),
        True,
    ),
    (S3Error(404, "NoSuchKey", "The specified key does not exist."), False),
    (S3Error(404, "NoSuchBucket", "The specified bucket does not exist"), False),
    (S3Error(403, "AccessDenied", "Access Denied"), False),
    (S3Error(400, "InvalidArgument", "row 1500 is bad"), False),  # "500", not a status
]


def pyarrow_write_error(server: S3ErrorServer) -> OSError:
    """What pyarrow raises when the store answers a write (the answer's body is read there)."""
    with pytest.raises(OSError, match="AWS Error") as raised:
        server.fs().open_output_stream("bucket/month=2019-11/part-0.parquet").close()
    return raised.value


def botocore_read_error(server: S3ErrorServer) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        server.botocore_client().get_object(Bucket="bucket", Key="month=2019-11/part-0.parquet")
    return raised.value


@pytest.mark.parametrize(("answer", "transient"), S3_ANSWERS, ids=lambda a: repr(a))
def test_the_real_clients_s3_errors_are_classified_by_their_code(answer, transient):
    with S3ErrorServer(answer) as server:
        from_pyarrow = pyarrow_write_error(server)
        from_botocore = botocore_read_error(server)
    assert is_transient(from_pyarrow) is transient, str(from_pyarrow)
    assert is_transient(from_botocore) is transient, str(from_botocore)


def test_pyarrow_errors_that_name_the_sdk_s_error_are_classified():
    """pyarrow names the AWS SDK's error: NETWORK_CONNECTION (no server) and INTERNAL_FAILURE
    (S3's InternalError) can pass; a 404 on read is a FileNotFoundError and cannot."""
    with pytest.raises(OSError, match="AWS Error") as refused:
        s3_filesystem("127.0.0.1:1").get_file_info("bucket/key")  # nobody listens on port 1
    assert "NETWORK_CONNECTION" in str(refused.value) and is_transient(refused.value)
    with S3ErrorServer(S3Error(500, "InternalError", "We encountered an internal error.")) as s:
        internal = pyarrow_write_error(s)
    assert "INTERNAL_FAILURE" in str(internal) and is_transient(internal)
    no_such_key = S3ErrorServer(S3Error(404, "NoSuchKey", "The specified key does not exist."))
    with no_such_key as s, pytest.raises(FileNotFoundError) as missing:
        s.fs().open_input_stream("bucket/key").read()
    assert not is_transient(missing.value)


@pytest.mark.parametrize(
    "answer",
    [
        S3Error(400, "InvalidArgument", "row 1500 is bad"),
        S3Error(403, "AccessDenied", "Access Denied"),
    ],
    ids=lambda a: a.code,
)
def test_the_storage_helpers_do_not_resend_what_cannot_pass(answer):
    """``upload_bytes`` and ``stat_size`` ask the same rule: a permanent answer is one request.
    (Their own rule matched "500" anywhere, so "row 1500 is bad" was sent five times.) A 404 on
    a HEAD is no error but "missing", which ``stat_size`` asks again on purpose."""
    with S3ErrorServer(answer) as server:
        settings = S3Settings(
            endpoint_url=server.endpoint, access_key_id="test", secret_access_key="test"
        )
        location = Location.parse("s3://bucket/warehouse", settings)
        with pytest.raises(OSError, match=r"row 1500 is bad|ACCESS_DENIED"):
            upload_bytes(location, "bucket/warehouse/x.bin", b"x", attempts=5, first_delay=0)
        assert server.requests == 1
        server.requests = 0
        with pytest.raises(OSError, match=r"HTTP status 400|ACCESS_DENIED"):
            stat_size(location, "bucket/warehouse/x.bin", attempts=4, first_delay=0)
        assert server.requests == 1


def test_storage_has_no_retry_rule_of_its_own_and_the_rule_loads_no_dagster():
    import amazing_assets.lib.storage as storage

    assert storage.is_transient is is_transient
    assert not hasattr(storage, "TRANSIENT_MARKERS")
    code = (
        "import sys, amazing_assets.lib.storage, amazing_assets.lib.retries as r;"
        "assert r.is_transient(OSError('AWS Error SLOW_DOWN during PutObject operation'));"
        "print('dagster' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
