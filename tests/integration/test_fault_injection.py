"""Fault injection against the moto server: S3 throttling and 5xx, a function killed mid-batch, duplicate and
malformed events delivered concurrently. Every test compares outputs with a clean single run.

Faults are injected with botocore's `before-send` hook on a fresh client built by the platform's own factory
(`retail_platform.aws`, botocore's standard retry mode, 5 retries): the hook answers a request itself instead
of sending it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.awsrequest import AWSResponse

from retail_platform import aws, s3io
from retail_platform.exceptions import BadEventError, ObjectNotFoundError, StorageError
from tests.support import DATA, event, handler

RAW, CURATED, PROD, ARTIFACTS = "local-raw", "local-curated", "local-prod", "local-artifacts"
UCI_KEY = "uci-online-retail/online_retail_sample.csv"
# the first 800 rows of the UCI Online Retail sample (several days, curated and quarantined rows): small enough
# that every test here runs the handler a few times in seconds
UCI_ROWS = 800
UCI_BYTES = b"".join(
    (DATA / "online-retail" / "online_retail_sample.csv").read_bytes().splitlines(True)[: UCI_ROWS + 1]
)
FAULTS = {
    503: (b"SlowDown", b"Please reduce your request rate."),
    500: (b"InternalError", b"We encountered an internal error. Please try again."),
}


class _Raw:
    """The raw stream botocore reads an AWSResponse's body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def error_response(request, status: int) -> AWSResponse:
    code, message = FAULTS[status]
    body = (
        b""
        if request.method == "HEAD"
        else b"<Error><Code>" + code + b"</Code><Message>" + message + b"</Message></Error>"
    )
    return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, _Raw(body))


class FaultInjector:
    """Answers matching S3 requests with 503 SlowDown / 500 InternalError, as the plan says; counts everything."""

    def __init__(self, plan: Callable[[int, object], int | None]) -> None:
        self.plan = plan  # (index of this matching request, request) -> status to fake, or None to send it
        self.sent = 0
        self.faults = 0
        self.faulted_urls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request, **_kwargs):
        with self._lock:
            index = self.sent
            self.sent += 1
            status = self.plan(index, request)
            if status is None:
                return None
            self.faults += 1
            self.faulted_urls.append(request.url)
        return error_response(request, status)


@pytest.fixture
def faulty_s3(endpoint, monkeypatch):
    """Point the platform's client factory at a fresh S3 client (same retry config) that faults can be hung on.

    A fresh client, so the retry quota of the session's cached client is left alone; botocore's backoff sleeps
    are recorded, not slept (the test asserts they happened).
    """
    client = aws.new_client("s3")
    original = aws.client
    monkeypatch.setattr(
        aws, "client", lambda service, *a, **k: client if service == "s3" else original(service, *a, **k)
    )
    sleeps: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", sleeps.append)
    client.sleeps = sleeps
    yield client


def inject(client, injector: FaultInjector) -> None:
    client.meta.events.register_first("before-send.s3", injector)


def curated_state(s3) -> dict[str, bytes]:
    """Every data object raw-to-curated wrote (curated and quarantine parts), by key."""
    keys = [k for k in s3io.list_keys(s3, CURATED, "") if k.endswith(".parquet")]
    return {k: s3io.read_bytes(s3, CURATED, k) for k in sorted(keys)}


def assert_no_duplicates(s3, result: dict) -> None:
    curated = s3io.read_parquet_prefix(s3, CURATED, "order_lines/")
    quarantined = s3io.read_parquet_prefix(s3, CURATED, "_quarantine/order_lines/")
    assert len(curated) == result["rows_curated"] and len(quarantined) == result["rows_quarantined"]
    assert len(curated) + len(quarantined) == UCI_ROWS  # nothing lost
    assert not curated.duplicated(["order_id", "line_no"]).any()


@pytest.fixture(scope="module")
def reference_run(endpoint) -> tuple[dict, dict[str, bytes]]:
    """raw-to-curated on the UCI sample without faults, once per module: the reference outputs."""
    import boto3

    from retail_platform.local.run import LocalContext

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_BYTES)
    result = handler("raw-to-curated").lambda_handler({"bucket": RAW, "key": UCI_KEY}, LocalContext("reference"))
    state = curated_state(s3)
    for bucket in (RAW, CURATED, ARTIFACTS):
        s3io.delete_keys(s3, bucket, list(s3io.list_keys(s3, bucket, "")))
    return result, state


@pytest.fixture
def clean_run(reference_run, s3) -> tuple[dict, dict[str, bytes]]:
    """The reference outputs; the test starts from empty buckets (the `s3` fixture empties them after it)."""
    return reference_run


# --- a. S3 throttling and 5xx ---------------------------------------------------------------------------------


def test_throttling_and_5xx_are_retried_with_backoff_and_change_nothing(clean_run, faulty_s3, s3, lambda_context):
    reference, reference_state = clean_run
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_BYTES)
    # the first request fails 5 times (503, 500, 503, 500, 503) and succeeds on its 6th and last attempt; then every
    # 3rd request of the run fails once more, alternating SlowDown and InternalError
    first = {0: 503, 1: 500, 2: 503, 3: 500, 4: 503}
    injector = FaultInjector(lambda i, _r: first.get(i) or (None if i < 5 or i % 3 else (503 if i % 2 else 500)))
    inject(faulty_s3, injector)
    result = handler("raw-to-curated").lambda_handler(
        event("raw-to-curated", "eventbridge-object-created"), lambda_context
    )
    assert injector.faults >= 10, injector.faults
    assert len(faulty_s3.sleeps) == injector.faults and all(s >= 0 for s in faulty_s3.sleeps)  # one backoff each
    # standard mode: the i-th retry of a request waits rand(0, 1) * min(2 ** i, 20) s (truncated binary
    # exponential backoff with full jitter), so the first request's five waits stay under 1, 2, 4, 8, 16 s
    assert faulty_s3.meta.config.retries["mode"] == "standard"
    assert all(0 <= wait <= 2**i for i, wait in enumerate(faulty_s3.sleeps[:5])), faulty_s3.sleeps[:5]
    assert max(faulty_s3.sleeps[:5]) > 0  # jittered backoff, not a hot loop
    assert result == reference
    assert curated_state(s3) == reference_state  # the same files, byte for byte
    assert_no_duplicates(s3, result)


def test_more_faults_than_retries_fail_clearly_and_the_retry_duplicates_nothing(
    clean_run, faulty_s3, s3, lambda_context
):
    reference, reference_state = clean_run
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_BYTES)
    fn = handler("raw-to-curated")
    # an outage of the curated bucket's writes from the second output part on: every attempt fails
    part_puts: list[str] = []

    def plan(_i, request):
        if request.method == "PUT" and f"/{CURATED}/" in request.url and ".parquet" in request.url:
            part_puts.append(request.url)
            return 500 if len(part_puts) > 1 else None
        return None

    injector = FaultInjector(plan)
    inject(faulty_s3, injector)
    with pytest.raises(StorageError, match=r"S3 call on s3://local-curated/.*part-.*\.parquet failed: InternalError"):
        fn.lambda_handler({"bucket": RAW, "key": UCI_KEY}, lambda_context)
    # botocore's `max_attempts` counts retries: each part's first try and 5 retries with backoff, then the
    # error. Parts upload on the sink's threads, so up to `max_in_flight` of them were already on their way.
    from curation.outputs import S3Sink  # the handler's folder, on the path once the handler is loaded

    failed_parts = len(set(injector.faulted_urls))
    assert 1 <= failed_parts <= S3Sink.max_in_flight
    assert injector.faults == 6 * failed_parts
    assert len(faulty_s3.sleeps) == 5 * failed_parts
    partial = curated_state(s3)
    assert len(partial) == 1  # the one part written before the outage; no manifest, no report
    assert not list(s3io.list_keys(s3, CURATED, "_manifests/"))
    assert not list(s3io.list_keys(s3, CURATED, "_reports/"))
    # the outage ends; the state machine retries the same input
    faulty_s3.meta.events.unregister("before-send.s3", injector)
    result = fn.lambda_handler({"bucket": RAW, "key": UCI_KEY}, lambda_context)
    assert result == reference
    state = curated_state(s3)
    assert state == reference_state  # the failed run's part was overwritten by the retry, not kept beside it
    assert set(partial) <= set(state)
    assert_no_duplicates(s3, result)


# --- b. a function that dies mid-batch ---------------------------------------------------------------------


class Killed(BaseException):
    """Stands in for the runtime killing the function (timeout, out of memory): nothing catches it."""


def kill_after_first_part(client) -> Callable:
    """Raise Killed right after the first curated/quarantine part has been stored."""
    parts = {"n": 0, "armed": True}

    def count(params, **_kwargs):
        if params.get("Bucket") == CURATED and params.get("Key", "").endswith(".parquet"):
            parts["n"] += 1

    def after(**_kwargs):
        if parts["n"] >= 1 and parts["armed"]:
            parts["armed"] = False
            raise Killed("killed after the first output part was written")

    client.meta.events.register("before-parameter-build.s3.PutObject", count)
    client.meta.events.register("after-call.s3.PutObject", after)
    return after


@pytest.mark.parametrize("batch_rows", [300, 250000])
def test_raw_to_curated_killed_mid_batch_then_rerun_equals_a_clean_run(
    clean_run, faulty_s3, s3, lambda_context, batch_rows
):
    reference, reference_state = clean_run
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_BYTES)
    fn = handler("raw-to-curated")
    fn.BATCH_ROWS, saved = batch_rows, fn.BATCH_ROWS  # 300: ten batches, then one part per day
    try:
        after = kill_after_first_part(faulty_s3)
        with pytest.raises(Killed):
            fn.lambda_handler({"bucket": RAW, "key": UCI_KEY}, lambda_context)
        faulty_s3.meta.events.unregister("after-call.s3.PutObject", after)
        # parts upload on the sink's threads: the kill lands with one or a few stored, never a manifest
        assert len(curated_state(s3)) >= 1 and not list(s3io.list_keys(s3, CURATED, "_manifests/"))
        result = fn.lambda_handler({"bucket": RAW, "key": UCI_KEY}, lambda_context)
        again = fn.lambda_handler({"bucket": RAW, "key": UCI_KEY}, lambda_context)  # and once more: idempotent
    finally:
        fn.BATCH_ROWS = saved
    assert result == again
    assert_no_duplicates(s3, result)
    assert (result["rows_curated"], result["rows_quarantined"]) == (
        reference["rows_curated"],
        reference["rows_quarantined"],
    )
    if batch_rows == int(saved):
        assert result == reference and curated_state(s3) == reference_state


def test_curated_to_prod_killed_mid_run_then_rerun_equals_a_clean_run(s3, faulty_s3, lambda_context):
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_BYTES)
    curated = handler("raw-to-curated").lambda_handler({"bucket": RAW, "key": UCI_KEY}, lambda_context)
    request = {"partitions": {"order_lines": curated["partitions"]["order_lines"][:1]}}  # one month: several writes
    fn = handler("curated-to-prod")
    reference = fn.lambda_handler(request, lambda_context)
    reference_state = {k: s3io.read_bytes(s3, PROD, k) for k in sorted(s3io.list_keys(s3, PROD, ""))}
    s3io.delete_keys(s3, PROD, list(reference_state))

    writes = {"n": 0}

    def die_on_fifth_prod_write(params, **_kwargs):
        if params.get("Bucket") == PROD:
            writes["n"] += 1
            if writes["n"] == 3:
                raise Killed("killed after two prod partitions were written")

    faulty_s3.meta.events.register("before-parameter-build.s3.PutObject", die_on_fifth_prod_write)
    with pytest.raises(Killed):
        fn.lambda_handler(request, lambda_context)
    faulty_s3.meta.events.unregister("before-parameter-build.s3.PutObject", die_on_fifth_prod_write)
    assert 0 < len(list(s3io.list_keys(s3, PROD, ""))) < len(reference_state)
    result = fn.lambda_handler(request, lambda_context)
    state = {k: s3io.read_bytes(s3, PROD, k) for k in sorted(s3io.list_keys(s3, PROD, ""))}
    assert result == reference
    assert sorted(state) == sorted(reference_state)
    assert_equal_prod(state, reference_state)


def assert_equal_prod(state: dict[str, bytes], reference: dict[str, bytes]) -> None:
    import io

    import pandas as pd

    for key, body in reference.items():
        if not key.endswith(".parquet"):  # the marts' state (JSON) is compared as it is
            assert state[key] == body, key
            continue
        ours = pd.read_parquet(io.BytesIO(state[key]))
        theirs = pd.read_parquet(io.BytesIO(body))
        pd.testing.assert_frame_equal(ours, theirs, check_like=True)


# --- c. duplicate and malformed events delivered concurrently ---------------------------------------------------


def deliver_concurrently(fn, events: list, ctx) -> list:
    """Each event to the handler on its own thread, all at once; the results (or the exceptions) in order."""
    barrier = threading.Barrier(len(events))

    def one(e):
        barrier.wait()
        try:
            return fn.lambda_handler(e, ctx)
        except Exception as error:  # the test inspects it
            return error

    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(one, events))


def test_duplicate_events_delivered_concurrently_give_one_set_of_outputs(clean_run, s3, lambda_context):
    reference, reference_state = clean_run
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_BYTES)
    notification = event("raw-to-curated", "s3-notification")
    notification["Records"][0]["s3"]["bucket"]["name"] = RAW
    notification["Records"][0]["s3"]["object"]["key"] = UCI_KEY
    same = [
        event("raw-to-curated", "eventbridge-object-created"),
        event("raw-to-curated", "eventbridge-object-created"),
        notification,
        {"bucket": RAW, "key": UCI_KEY},
    ]
    results = deliver_concurrently(handler("raw-to-curated"), same, lambda_context)
    for r in results:
        assert r == reference, r if not isinstance(r, dict) else {k: v for k, v in r.items() if reference.get(k) != v}
    assert curated_state(s3) == reference_state
    assert_no_duplicates(s3, reference)
    manifests = list(s3io.list_keys(s3, CURATED, "_manifests/"))
    assert len(manifests) == 1
    assert sorted(s3io.read_json(s3, CURATED, manifests[0])["keys"]) == sorted(reference_state)

    prod = handler("curated-to-prod")
    request = {"partitions": {"order_lines": reference["partitions"]["order_lines"][:1]}}
    single = prod.lambda_handler(request, lambda_context)
    single_state = {k: s3io.read_bytes(s3, PROD, k) for k in sorted(s3io.list_keys(s3, PROD, ""))}
    outcomes = deliver_concurrently(prod, [request] * 3, lambda_context)
    assert all(o == single for o in outcomes), outcomes
    state = {k: s3io.read_bytes(s3, PROD, k) for k in sorted(s3io.list_keys(s3, PROD, ""))}
    assert sorted(state) == sorted(single_state)  # one part-0 per partition, no extra files
    assert_equal_prod(state, single_state)
    month = request["partitions"]["order_lines"][0]
    sales = s3io.read_parquet_prefix(s3, PROD, f"daily_sales/month={month}/")
    curated = s3io.read_parquet_prefix(s3, CURATED, f"order_lines/month={month}/")
    assert sales["units"].sum() == curated["quantity"].sum()  # no row counted twice


MALFORMED = {
    "no detail": ({"detail-type": "Object Created", "source": "aws.s3"}, BadEventError, "without detail"),
    "detail not an object": (
        {"detail-type": "Object Created", "source": "aws.s3", "detail": "local-raw/x.csv"},
        BadEventError,
        "without detail",
    ),
    "key of the wrong type": (
        {"detail-type": "Object Created", "detail": {"bucket": {"name": RAW}, "object": {"key": 42}}},
        BadEventError,
        "must be strings",
    ),
    "record key of the wrong type": (
        {"Records": [{"s3": {"bucket": {"name": RAW}, "object": {"key": ["a"]}}}]},
        BadEventError,
        "must be strings",
    ),
    "a list": ([{"bucket": RAW, "key": UCI_KEY}], BadEventError, "must be a JSON object"),
    "not the raw bucket": ({"bucket": "no-such-bucket", "key": UCI_KEY}, BadEventError, "nothing was processed"),
    "missing key": ({"bucket": RAW, "key": "uci-online-retail/gone.csv"}, ObjectNotFoundError, "does not exist"),
}


def test_malformed_events_among_good_ones_fail_clearly_and_lose_nothing(clean_run, s3, lambda_context):
    reference, reference_state = clean_run
    s3.put_object(Bucket=RAW, Key=UCI_KEY, Body=UCI_BYTES)
    good = event("raw-to-curated", "eventbridge-object-created")
    cases = list(MALFORMED.values())
    outcomes = deliver_concurrently(handler("raw-to-curated"), [good, *(c[0] for c in cases), good], lambda_context)
    assert outcomes[0] == reference and outcomes[-1] == reference
    for (bad, kind, phrase), outcome in zip(cases, outcomes[1:-1], strict=True):
        assert isinstance(outcome, kind), (bad, outcome)
        assert phrase in str(outcome) and "Traceback" not in str(outcome)
    assert curated_state(s3) == reference_state
    assert_no_duplicates(s3, reference)

    bad_prod = [
        {"partitions": ["order_lines"]},
        {"partitions": {"no_such_dataset": ["2011-01-01"]}},
        {"full_rebuild": "yes"},
        {"partitions": {"order_lines": ["not-a-date"]}},
        "partitions",
    ]
    for outcome in deliver_concurrently(handler("curated-to-prod"), bad_prod, lambda_context):
        assert isinstance(outcome, BadEventError) and "Traceback" not in str(outcome), outcome
    assert not list(s3io.list_keys(s3, PROD, ""))  # a refused event writes nothing
