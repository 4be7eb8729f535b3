"""Schemathesis over the whole OpenAPI document, in process (ASGI), signed in as an admin on the
test town: every operation gets a bounded number of generated requests (valid ones, then
invalid ones), each in a savepoint rolled back after it. Two checks: no 5xx
(`not_a_server_error`) and no status the operation does not declare
(`status_code_conformance`). Totals and findings are printed and written as Markdown to a
temporary folder, or to $FUZZ_REPORT when set.

Findings not yet fixed are listed below by name with the reason; the lead empties the lists as
the routes' `responses=` declarations (or the bugs) are fixed. Anything else fails the test."""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.security.conftest import PNG, World

REPORT = "fuzz_openapi.md"
# examples per operation and mode; FUZZ_EXAMPLES=100 for a longer run
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
CHECKS = [not_a_server_error, status_code_conformance]

# Statuses an operation answers but does not declare in its `responses=`: the fix is the
# declaration (routers are the lead's). Key: (operation label, status) → why it is answered.
# Each was seen by this fuzz or by the BOLA matrix; empty this table as the routes declare them.
NOT_FOUND = "an unknown id or code answers 404 problem+json: declare 404 in responses="
BAD_FORMAT = "a suffix other than .json/.xml (or an unknown id/code) answers 404: declare 404"
BAD_BODY = ("a body that does not parse (JSON or multipart) answers Starlette's 400 'There was "
            "an error parsing the body': declare 400, or answer 422 like other bad input")
EXPECTED_UNDOCUMENTED: dict[tuple[str, int], str] = {}
# Server errors (5xx) found and not yet fixed, by cause: a finding is known when the error the
# app raised contains the key. Both causes are values PostgreSQL refuses (psycopg DataError)
# reaching a query; test_out_of_range_ids_… and test_nul_bytes_… below show every route hit.
# Empty this table with the fix; any other 5xx fails at once.
KNOWN_SERVER_ERRORS: dict[str, str] = {}


def known_cause(finding: Finding) -> str | None:
    """The KNOWN_SERVER_ERRORS key the finding's error matches, if any."""
    return next((key for key in KNOWN_SERVER_ERRORS if key in finding.error), None)


@dataclass
class Finding:
    """A check that failed: the operation, the status, the check, one request to reproduce."""

    operation: str
    status: int
    check: str
    curl: str
    count: int = 1
    error: str = ""  # the exception, when the app raised one


@dataclass
class Tally:
    """What the fuzz did and found."""

    operations: int = 0
    examples: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: dict[tuple[str, int, str], Finding] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # operations that could not be generated
    no_negative: int = 0  # operations without any input to make invalid
    seconds: float = 0.0


def _record(tally: Tally, case: Any, status: int, failures: list[Failure],
            unhandled: str = "") -> None:
    """Count a failure; keep the first request of each (operation, status, check) as curl."""
    names = [type(failure).__name__ for failure in failures] or ["ServerError"]
    for check in names:
        key = (case.operation.label, status, check)
        if key in tally.findings:
            tally.findings[key].count += 1
            continue
        curl = case.as_curl_command(headers={"Authorization": "Bearer $ADMIN_TOKEN"})
        tally.findings[key] = Finding(case.operation.label, status, check, curl, 1, unhandled)


def _fuzz_operation(world: World, operation: Any, tally: Tally, headers: dict[str, str]) -> None:
    for mode in MODES:
        strategy = operation.as_strategy(generation_mode=mode)

        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case: Any) -> None:
            with world.rolled_back():
                world.client.cookies.clear()
                tally.examples += 1
                try:
                    response = case.call(headers=headers)
                except Exception as exc:  # the app raised: a 500 in production
                    tally.statuses[500] += 1
                    _record(tally, case, 500, [], unhandled=type(exc).__name__ + ": "
                            + str(exc).splitlines()[0][:200])
                    return
                tally.statuses[response.status_code] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except FailureGroup as group:
                    _record(tally, case, response.status_code, list(group.exceptions))
                except Failure as failure:
                    _record(tally, case, response.status_code, [failure])

        try:
            run()
        except Unsatisfiable:
            # an operation with no parameters and no body has no invalid request to make
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
            tally.no_negative += 1


@pytest.fixture(scope="module")
def tally(world: World, tmp_path_factory: pytest.TempPathFactory) -> Tally:
    """Fuzz every operation of /openapi.json once per module."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    headers = world.admin()
    made = Tally()
    started = time.monotonic()
    try:
        for result in schema.get_all_operations():
            try:
                operation = result.ok()
            except Exception as exc:  # an operation the schema cannot describe
                made.errors.append(str(exc))
                continue
            made.operations += 1
            _fuzz_operation(world, operation, made, headers)
    finally:
        asgi.shutdown_lifespans()  # schemathesis started the app's lifespan: stop it here
    made.seconds = time.monotonic() - started
    report = Path(os.environ.get("FUZZ_REPORT") or tmp_path_factory.mktemp("fuzz") / REPORT)
    write_report(made, report)
    print(f"\nfuzz: {made.operations} operations, {made.examples} examples, "
          f"{made.seconds:.0f} s; report: {report}")
    return made


def _server_errors(tally: Tally) -> dict[tuple[str, int], Finding]:
    return {(f.operation, f.status): f for f in tally.findings.values()
            if f.check == "ServerError" or f.status >= 500}


def _undocumented(tally: Tally) -> dict[tuple[str, int], Finding]:
    return {(f.operation, f.status): f for f in tally.findings.values()
            if f.check == "UndefinedStatusCode" and f.status < 500}


def test_every_operation_was_fuzzed(tally: Tally) -> None:
    assert not tally.errors, tally.errors
    assert tally.operations > 50 and tally.examples >= tally.operations * EXAMPLES


def test_no_server_errors(tally: Tally) -> None:
    found = _server_errors(tally)
    new = {key: f"{f.error} {f.curl}" for key, f in found.items() if known_cause(f) is None}
    assert not new, new


def test_no_undocumented_statuses(tally: Tally) -> None:
    found = _undocumented(tally)
    new = {key: f.curl for key, f in found.items() if key not in EXPECTED_UNDOCUMENTED}
    assert not new, sorted(new)


# every route reading an id column, with a huge id
OUT_OF_RANGE = [
    *[pytest.param("GET", f"/api/v1/incidents/{2**64}{suffix}", None)
      for suffix in ("", "/history", "/links", "/photos", "/suggestions")],
    pytest.param("POST", f"/api/v1/incidents/{2**64}/actions", {"action": "escalate"},
                 ),
    pytest.param("POST", f"/api/v1/incidents/{2**64}/photos", "photo"),
    pytest.param("GET", f"/api/v1/photos/{2**64}", None),
    *[pytest.param("GET", f"/api/v1/plans/{2**40}{suffix}", None)
      for suffix in ("", "/edits", "/grids", "/validation")],
    *[pytest.param("GET", f"/api/v1/plans/{2**40}{suffix}", None)
      for suffix in ("/impact", "/impact/workers.csv", "/metrics", "/export.geojson")],
    pytest.param("PATCH", f"/api/v1/plans/{2**40}", {"note": "x"}),
    pytest.param("DELETE", f"/api/v1/plans/{2**40}", None),
    pytest.param("DELETE", f"/api/v1/plans/{2**40}/grids/T-A-1", None),
    pytest.param("POST", f"/api/v1/plans/{2**40}/operations",
                 {"op": "merge", "grids": ["T-A-1", "T-A-2"]}),
    pytest.param("POST", f"/api/v1/plans/{2**40}/undo", None),
    pytest.param("POST", f"/api/v1/plans/{2**40}/publish",
                 {"effective_from": "2099-01-01T00:00:00Z"}),
    pytest.param("POST", f"/api/v1/plans/{2**40}/rebalance", {}),
]


@pytest.mark.parametrize("method, path, body", OUT_OF_RANGE, ids=[
    f"{p.values[0]} {p.values[1]}" for p in OUT_OF_RANGE])
def test_out_of_range_ids_are_not_server_errors(world: World, method: str, path: str,
                                                body: Any) -> None:
    """An id no row can have is a 404 (or 422), never a 500."""
    headers = {**world.admin(), "If-Match": '"1"'}
    kwargs: dict[str, Any] = ({"files": {"file": ("p.png", PNG, "image/png")}}
                              if body == "photo" else {"json": body} if body else {})
    with world.rolled_back():
        response = world.client.request(method, path, headers=headers, **kwargs)
    assert response.status_code < 500


NUL = "a\x00b"
NUL_PROBES = [  # (method, path, request arguments): a NUL where each route takes text
    ("GET", "/api/v1/incidents", {"params": {"status": NUL}}),
    ("GET", "/api/v1/incidents", {"params": {"grid": NUL}}),
    ("GET", "/api/v1/incidents", {"params": {"category": NUL}}),
    ("GET", "/api/v1/grids", {"params": {"parent": NUL}}),
    ("GET", "/api/v1/grids/a%00b", {}),
    ("GET", "/api/v1/workers", {"params": {"grid": NUL}}),
    ("GET", "/api/v1/patrols", {"params": {"worker": NUL}}),
    ("GET", "/api/v1/patrols/coverage", {"params": {"month": "2026-11", "grid": NUL}}),
    ("GET", "/api/v1/wall/grids/a%00b", {}),
    ("GET", "/ogc/collections/incidents/items", {"params": {"status": NUL}}),
    ("GET", "/ogc/collections/grids/items/a%00b", {}),
    ("GET", "/tiles/incidents/12/3418/1692.pbf", {"params": {"category": NUL}}),
    ("POST", "/api/v1/incidents", {"json": {"source": "walk_in", "description": NUL}}),
    ("POST", "/api/v1/incidents", {"json": {"source": "walk_in", "external_id": NUL}}),
    ("POST", "/api/v1/incidents", {"json": {"source": "walk_in"},
                                   "headers": {"Idempotency-Key": NUL}}),
    ("POST", "/api/v1/plans", {"json": {"name": NUL}}),
    ("POST", "/open311/v2/requests.json", {"data": {
        "service_code": "GARBAGE", "lat": "30.902", "long": "120.402", "description": NUL}}),
    ("GET", "/open311/v2/requests.json", {"params": {"service_code": NUL}}),
    ("GET", "/open311/v2/services/a%00b.json", {}),
    ("POST", "/login", {"data": {"username": NUL, "password": "x"}}),
    ("POST", "/api/v1/accounts", {"json": {"username": NUL, "role": "planner"}}),
    ("POST", "/api/v1/accounts", {"json": {"username": "n", "role": "squad", "scope_code": NUL}}),
    ("PATCH", "/api/v1/accounts/a%00b", {"json": {"disabled": True}}),
    ("POST", "/api/v1/me/password", {"json": {"current_password": NUL, "new_password": NUL}}),
]


@pytest.mark.parametrize("method, path, arguments", NUL_PROBES,
                         ids=[f"{m} {p} {sorted(a.get('params', a.get('json', a.get('data', {}))))}"
                              for m, p, a in NUL_PROBES])
def test_nul_bytes_are_not_server_errors(world: World, method: str, path: str,
                                         arguments: dict[str, Any]) -> None:
    """Text PostgreSQL cannot store is a 4xx, never a 500."""
    extra = dict(arguments)
    headers = {**world.admin(), **extra.pop("headers", {})}
    with world.rolled_back():
        response = world.client.request(method, path, headers=headers, **extra)
    assert response.status_code < 500


def write_report(tally: Tally, path: Path) -> None:
    """The fuzz's totals and findings as Markdown (SECURITY.md quotes them)."""
    errors, undocumented = _server_errors(tally), _undocumented(tally)
    lines = [
        "# Fuzzing the OpenAPI document", "",
        "Written by `tests/security/test_fuzz_openapi.py` (schemathesis "
        f"{schemathesis.SCHEMATHESIS_VERSION}, in process, as an admin, on the test town; "
        f"{EXAMPLES} examples per operation and mode (valid, invalid); `FUZZ_EXAMPLES=N` "
        "for more).", "",
        "| operations | examples | time | 5xx (operation, status) | undocumented "
        "(operation, status) |", "| ---: | ---: | ---: | ---: | ---: |",
        f"| {tally.operations} | {tally.examples} | {tally.seconds:.0f} s | {len(errors)} | "
        f"{len(undocumented)} |", "",
        "Statuses answered: " + ", ".join(f"{s}×{n}" for s, n in sorted(tally.statuses.items())),
        "", "## Server errors", ""]
    lines += [f"- `{f.operation}` → {f.status} ({f.count}×) {f.error}"
              f"{' — known: ' + KNOWN_SERVER_ERRORS[cause] if (cause := known_cause(f)) else ''}"
              f"\n\n  ```\n  {f.curl}\n  ```" for _, f in sorted(errors.items())] or ["- none"]
    lines += ["", "## Undocumented statuses", ""]
    lines += [f"- `{f.operation}` → {f.status} ({f.count}×)"
              f"{' — expected: ' + EXPECTED_UNDOCUMENTED[k] if k in EXPECTED_UNDOCUMENTED else ''}"
              f"\n\n  ```\n  {f.curl}\n  ```" for k, f in sorted(undocumented.items())] \
        or ["- none"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
