"""The one retry policy of the pipeline: retry what can change, fail data errors at once.

A step is retried only when a later attempt can succeed: an S3 or network hiccup, a throttled
request, a lost Spark executor or a Py4J connection that broke. A data or configuration error
(a column missing, a month too small, a library refusing its input) gives the same answer on
every attempt; retrying it costs minutes and shows, in the Dagster UI, as an infrastructure
problem. Such errors fail the step at once (``Failure(allow_retries=False)``) with their message.

Every asset body runs inside :func:`retry_only_transient`; Dagster's :data:`TRANSIENT_RETRY`
then only ever sees the errors :func:`is_transient` lets through. The storage clients retry
single requests underneath (pyarrow and object_store: 5 attempts); this policy retries the step.
The storage helpers that re-send a whole object (``storage.upload_bytes``, ``storage.stat_size``)
ask :func:`is_transient` too, so one rule decides every retry.

The rule imports no Dagster: it runs in Spark's Python workers and behind the Panel app. Dagster
is imported when its part is used (:data:`TRANSIENT_RETRY`, :func:`data_failure`,
:func:`retry_only_transient`), and an error can only be a Dagster ``Failure`` once Dagster is
loaded.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import dagster as dg


def __getattr__(name: str) -> Any:
    """``TRANSIENT_RETRY``, Dagster's retry policy for transient faults only: two more attempts,
    5 s then 10 s apart (± jitter). Built on first use, so that importing the rule does not load
    Dagster; the same object every time."""
    if name != "TRANSIENT_RETRY":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import dagster as dg

    policy = dg.RetryPolicy(
        max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )
    globals()[name] = policy
    return policy


# OSErrors that say something about the path or the permissions: the same on every attempt.
PERMANENT_OS_ERRORS: tuple[type[OSError], ...] = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)
# OSErrors that are the network's or the service's: they pass.
TRANSIENT_OS_ERRORS: tuple[type[OSError], ...] = (ConnectionError, TimeoutError, BrokenPipeError)

# Exception class names of clients this package does not import (botocore, py4j, urllib3...).
TRANSIENT_CLASS_NAMES = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "ProxyConnectionError",
        "Py4JNetworkError",
        "ProtocolError",
    }
)

# Words of a transient fault in a message (pyarrow's and object_store's S3 errors are OSErrors
# whose text carries the HTTP status or the AWS SDK's error name, e.g. "AWS Error SLOW_DOWN
# during PutObject operation", "AWS Error UNKNOWN (HTTP status 503)", "AWS Error
# NETWORK_CONNECTION"; Spark's carry the executor's fate). A status counts only after the word
# "status": "row 1500 is bad" is not an HTTP 500.
TRANSIENT_MESSAGE = re.compile(
    r"(?:HTTP status|status code|status)\s*:?\s*(?:429|500|502|503|504)\b"
    r"|SlowDown|SLOW_DOWN|Service ?Unavailable|SERVICE_UNAVAILABLE"
    r"|InternalError|INTERNAL_FAILURE|RequestTimeout|REQUEST_TIMEOUT|NETWORK_CONNECTION"
    r"|Throttl|TooManyRequests|timed? ?out|Connection (?:reset|"
    r"refused|aborted|closed)|Broken pipe|temporarily unavailable|Temporary failure"
    r"|ExecutorLostFailure|Lost executor|FetchFailed|Answer from Java side is empty"
    r"|Error while (?:sending|receiving)",
    re.IGNORECASE,
)
# Errors whose text names a transient cause but that no retry can fix (a timeout setting that
# is too small for the month is a configuration error, not a hiccup: it fails every time).
PERMANENT_MESSAGE = re.compile(
    r"NoSuchBucket|NO_SUCH_BUCKET|NoSuchKey|NO_SUCH_KEY|AccessDenied|ACCESS_DENIED"
    r"|InvalidAccessKeyId|INVALID_ACCESS_KEY_ID",
    re.I,
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and its causes (``raise ... from``, then implicit context), each once."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _one_is_transient(error: BaseException) -> bool:
    text = str(error)
    if PERMANENT_MESSAGE.search(text):
        return False
    if isinstance(error, PERMANENT_OS_ERRORS):
        return False
    if isinstance(error, TRANSIENT_OS_ERRORS):
        return True
    if type(error).__name__ in TRANSIENT_CLASS_NAMES:
        return True
    status = getattr(error, "response", None)
    if isinstance(status, dict):  # botocore's ClientError
        code = status.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(code, int) and (code >= 500 or code == 429):
            return True
    # A plain OSError (pyarrow's S3 errors) or a Py4J / Spark error: its words decide.
    return bool(TRANSIENT_MESSAGE.search(text))


def is_transient(error: BaseException) -> bool:
    """Whether a later attempt of the step can succeed where this one failed.

    True for network, storage-service and Spark-executor faults, found anywhere in the error's
    cause chain; False for everything else: data, configuration and code errors.
    """
    dagster = sys.modules.get("dagster")  # not loaded: the error cannot be one of its own
    if dagster is not None:
        if isinstance(error, dagster.Failure):
            return error.allow_retries
        if isinstance(error, dagster.RetryRequested):
            return True
    return any(_one_is_transient(e) for e in _chain(error))


def data_failure(error: BaseException, step: str) -> dg.Failure:
    """``error`` as a failure that Dagster does not retry, its message kept for the person."""
    import dagster as dg

    message = str(error).strip() or type(error).__name__
    return dg.Failure(
        description=f"{step}: {message} (not retried: the same input fails the same way)",
        allow_retries=False,
        metadata={"error_type": type(error).__name__, "retried": False},
    )


F = TypeVar("F", bound=Callable[..., Any])


def retry_only_transient(fn: F) -> F:
    """Run an asset body so that only transient errors reach Dagster's retry policy.

    Works for bodies that return and for generator bodies (which yield outputs and check
    results); the signature is kept, so Dagster still sees the inputs and resources.
    """
    import dagster as dg

    step = fn.__name__

    def classify(error: Exception) -> Exception:
        if isinstance(error, dg.Failure | dg.RetryRequested) or is_transient(error):
            return error
        return data_failure(error, step)

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as error:
                classified = classify(error)
                if classified is error:
                    raise
                raise classified from error

        generator.retries_only_transient = True  # type: ignore[attr-defined]
        return generator  # type: ignore[return-value]

    @functools.wraps(fn)
    def plain(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            classified = classify(error)
            if classified is error:
                raise
            raise classified from error

    plain.retries_only_transient = True  # type: ignore[attr-defined]
    return plain  # type: ignore[return-value]
