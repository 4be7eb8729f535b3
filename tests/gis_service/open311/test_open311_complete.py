"""Open311 GeoReport v2, the rest of it: `jurisdiction_id` on every route, service discovery,
tokens, the search filters in both formats, and a real `georeport` client reading it all."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gis_service.config import Settings
from gis_service.main import create_app
from gis_service.open311 import tokens
from tests.gis_service.open311.test_open311 import (
    IN_T_A_1,
    IN_T_B_2,
    V2,
    answer_when_done,
    old_hotline_call,
    reject,
    xml_of,
)

ALIAS = "qidu.example.gov.cn"


def settings() -> Settings:
    """Test settings with a jurisdiction alias and a token key of their own."""
    return Settings(database_url="postgresql+psycopg://unused/unused",
                    locator_refresh_seconds=0, escalation_interval_seconds=0,
                    webhook_poll_seconds=0,
                    open311_jurisdiction=ALIAS, open311_token_key="test-key")


@pytest.fixture()
def open311(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The service, with the alias configured, on the test's transaction."""
    with TestClient(create_app(settings(), session_factory=session_factory)) as test_client:
        yield test_client


def report(client: TestClient, fmt: str = "json", **fields: str) -> dict[str, str]:
    """POST a report that must be accepted; its receipt (JSON or XML read alike)."""
    response = client.post(f"{V2}/requests.{fmt}", data=fields)
    assert response.status_code == 201, response.text
    if fmt == "xml":
        return {child.tag: child.text or "" for child in xml_of(response).find("request") or []}
    [receipt] = response.json()
    return dict(receipt)


def get_paths(client: TestClient) -> list[str]:
    """A path of every GET route (without the format suffix), for a fresh request."""
    receipt = report(client, service_code="GARBAGE", **IN_T_A_1)
    return ["discovery", "services", "services/GARBAGE", "requests",
            f"requests/{receipt['service_request_id']}", f"tokens/{receipt['token']}"]


def test_jurisdiction_on_every_get(open311: TestClient, town: dict[str, Path]) -> None:
    for path in get_paths(open311):
        for fmt in ("json", "xml"):
            for served in (None, "T", ALIAS, ""):
                params = {} if served is None else {"jurisdiction_id": served}
                response = open311.get(f"{V2}/{path}.{fmt}", params=params)
                assert response.status_code == 200, (path, fmt, served, response.text)
            for stranger in ("T-A", "nowhere.gov.cn"):  # a level-2 grid is no jurisdiction
                response = open311.get(f"{V2}/{path}.{fmt}", params={"jurisdiction_id": stranger})
                assert response.status_code == 404, (path, fmt, stranger)
                description = f"jurisdiction_id '{stranger}' was not found"
                if fmt == "json":
                    assert response.json() == [{"code": 404, "description": description}]
                else:
                    root = xml_of(response)
                    assert root.tag == "errors" and len(root) == 1
                    assert root.findtext("error/code") == "404"
                    assert root.findtext("error/description") == description


def test_jurisdiction_on_post(open311: TestClient, town: dict[str, Path]) -> None:
    fields = {"service_code": "GARBAGE", **IN_T_A_1}
    assert report(open311, jurisdiction_id="T", **fields)["service_request_id"]
    assert report(open311, "xml", jurisdiction_id=ALIAS, **fields)["service_request_id"]
    as_json = open311.post(f"{V2}/requests.json", json={**fields, "jurisdiction_id": ALIAS})
    assert as_json.status_code == 201
    before = len(open311.get(f"{V2}/requests.json").json())
    refused = open311.post(f"{V2}/requests.json", data={**fields, "jurisdiction_id": "x.cn"})
    assert refused.status_code == 404
    assert refused.json() == [{"code": 404, "description": "jurisdiction_id 'x.cn' was not found"}]
    in_json = open311.post(f"{V2}/requests.xml", json={**fields, "jurisdiction_id": "T-B"})
    assert in_json.status_code == 404 and xml_of(in_json).findtext("error/code") == "404"
    in_query = open311.post(f"{V2}/requests.json?jurisdiction_id=x.cn", data=fields)
    assert in_query.status_code == 404
    assert len(open311.get(f"{V2}/requests.json").json()) == before  # nothing stored


def test_without_an_alias_only_towns_are_served(client: TestClient,
                                                town: dict[str, Path]) -> None:
    assert client.get(f"{V2}/services.json", params={"jurisdiction_id": "T"}).status_code == 200
    assert client.get(f"{V2}/services.json",
                      params={"jurisdiction_id": ALIAS}).status_code == 404


def test_discovery(open311: TestClient, town: dict[str, Path]) -> None:
    document = open311.get(f"{V2}/discovery.json").json()
    assert document["contact"] == Settings().open311_contact
    assert document["key_service"].startswith("No key is needed")
    assert document["changeset"].endswith("+08:00")  # the responsibility list's import
    [endpoint] = document["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": f"http://testserver{V2}", "changeset": document["changeset"],
                        "type": "production", "formats": ["text/xml", "application/json"]}
    root = xml_of(open311.get(f"{V2}/discovery.xml"))
    assert root.tag == "discovery"
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    assert root.findtext("endpoints/endpoint/specification") == endpoint["specification"]
    assert root.findtext("endpoints/endpoint/type") == "production"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json"]
    # the advertised url really is the endpoint
    url = root.findtext("endpoints/endpoint/url") or ""
    assert open311.get(f"{url}/services.xml").status_code == 200


def test_tokens_round_trip(open311: TestClient, town: dict[str, Path]) -> None:
    receipt = report(open311, service_code="GARBAGE", **IN_T_A_1)
    request_id, token = receipt["service_request_id"], receipt["token"]
    assert request_id not in token and len(token) == 26
    found = open311.get(f"{V2}/tokens/{token}.json")
    assert found.status_code == 200
    assert found.json() == [{"service_request_id": request_id, "token": token}]
    root = xml_of(open311.get(f"{V2}/tokens/{token}.xml"))
    assert root.tag == "service_requests"
    assert [(c.tag, c.text) for c in root.findall("request/*")] == [
        ("service_request_id", request_id), ("token", token)]
    in_xml = report(open311, "xml", service_code="BUILDING", **IN_T_B_2)
    assert in_xml["token"] != token
    again = open311.get(f"{V2}/tokens/{in_xml['token']}.json").json()
    assert again[0]["service_request_id"] == in_xml["service_request_id"]


def test_unknown_tokens_are_404(open311: TestClient, town: dict[str, Path],
                                auth: dict[str, str]) -> None:
    receipt = report(open311, service_code="GARBAGE", **IN_T_A_1)
    other_key = tokens.token_for(int(receipt["service_request_id"]), key="another key")
    hotline = tokens.token_for(int(old_hotline_call(open311, auth)), key="test-key")
    for token in (other_key, hotline, "a" * 26, "not-a-token", receipt["service_request_id"]):
        response = open311.get(f"{V2}/tokens/{token}.json")
        assert response.status_code == 404, token
        assert response.json() == [{"code": 404, "description":
                                    f"token '{token}' was not found"}]
    assert xml_of(open311.get(f"{V2}/tokens/{other_key}.xml")).findtext("error/code") == "404"


def ids_in(response: httpx.Response, fmt: str) -> list[str]:
    """The service_request_ids of a search answer in either format."""
    assert response.status_code == 200, response.text
    if fmt == "xml":
        return [r.findtext("service_request_id") or "" for r in xml_of(response)]
    return [r["service_request_id"] for r in response.json()]


def test_filters_in_both_formats(open311: TestClient, town: dict[str, Path],
                                 auth: dict[str, str]) -> None:
    garbage = report(open311, service_code="GARBAGE", **IN_T_A_1)["service_request_id"]
    building = report(open311, service_code="BUILDING", **IN_T_B_2)["service_request_id"]
    rejected = report(open311, service_code="GARBAGE", address_string="不详")["service_request_id"]
    reject(open311, auth, rejected)
    old = old_hotline_call(open311, auth)
    cases = [
        ({}, [rejected, building, garbage]),
        ({"status": "open"}, [building, garbage]),
        ({"status": "closed"}, [rejected]),
        ({"status": "open,closed"}, [rejected, building, garbage]),
        ({"service_code": "BUILDING"}, [building]),
        ({"service_code": "GARBAGE,BUILDING", "status": "open"}, [building, garbage]),
        ({"service_request_id": f"{old},{garbage}"}, [garbage, old]),
        ({"service_request_id": building, "service_code": "GARBAGE"}, [building]),
        ({"start_date": "2025-01-10T00:00:00+08:00", "end_date": "2025-01-10T23:59:59+08:00"},
         [old]),
        ({"start_date": "2025-01-10T01:00:01Z", "end_date": "2025-02-10T00:00:00Z"}, []),
        ({"end_date": "2025-01-11T00:00:00Z"}, [old]),  # the 90 days before end_date
        ({"start_date": "2025-01-01T00:00:00Z", "status": "closed"}, []),
    ]
    for params, expected in cases:
        for fmt in ("json", "xml"):
            response = open311.get(f"{V2}/requests.{fmt}", params=params)
            assert ids_in(response, fmt) == expected, (params, fmt)


def test_bad_filters_are_400_in_both_formats(open311: TestClient,
                                             town: dict[str, Path]) -> None:
    for params in ({"start_date": "2025-13-01"}, {"end_date": "soon"},
                   {"status": "open,pending"}, {"service_request_id": "12,x"},
                   {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-04-02T00:00:00Z"}):
        as_json = open311.get(f"{V2}/requests.json", params=params)
        assert as_json.status_code == 400 and as_json.json()[0]["code"] == 400, params
        as_xml = open311.get(f"{V2}/requests.xml", params=params)
        assert as_xml.status_code == 400 and xml_of(as_xml).findtext("error/code") == "400"


@pytest.fixture()
def live_root(session_factory: sessionmaker[Session]) -> Iterator[str]:
    """The service (alias configured) on a loopback port; its Open311 root URL."""
    app = create_app(settings(), session_factory=session_factory)
    server = uvicorn.Server(uvicorn.Config(answer_when_done(app), host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}{V2}"
    server.should_exit = True
    thread.join(timeout=15)


def w3c_utc(*, hours_ago: float) -> str:
    """A W3C date-time in UTC ("…Z"), this many hours before now."""
    moment = datetime.now(UTC) - timedelta(hours=hours_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def listed(value: object) -> list[dict[str, Any]]:
    """xmltodict gives one child as a dict and several as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)  # type: ignore[call-overload]


def test_the_georeport_client_reads_everything(live_root: str, town: dict[str, Path]) -> None:
    georeport = pytest.importorskip("georeport")
    posted = httpx.post(f"{live_root}/requests.json", timeout=10, data={
        "service_code": "POLLUTION", "jurisdiction_id": ALIAS, **IN_T_B_2,
        "attribute[pollution_kind]": "oil", "attribute[severity]": "3"})
    assert posted.status_code == 201, posted.text
    request_id = orjson.loads(posted.content)[0]["service_request_id"]
    for output_format in ("json", "xml"):
        client = georeport.GeoReport(live_root, jurisdiction=ALIAS, output_format=output_format)
        services = {s["service_code"]: s for s in client.get_service_list()}
        assert str(services["POLLUTION"]["metadata"]).lower() == "true"
        definition = client.get_service_definition("POLLUTION")
        assert definition["service_code"] == "POLLUTION"
        given = definition["attributes"]
        items = listed(given["attribute"]) if output_format == "xml" else list(given)
        assert [a["code"] for a in items] == ["severity", "landmark", "pollution_kind"]
        kind = items[2]
        values = listed(kind["values"]["value"]) if output_format == "xml" else kind["values"]
        assert str(kind["required"]).lower() == "true" and values[0] == {"key": "oil",
                                                                         "name": "油污"}
        found = listed(client.get_service_requests(service_code="POLLUTION", status="open"))
        assert [r["service_request_id"] for r in found] == [request_id]
        by_id = listed(client.get_service_requests(service_request_id=f"{request_id},1"))
        assert [r["service_code"] for r in by_id] == ["POLLUTION"]
        one = client.get_service_request(request_id)
        assert one["description"] == "紧急程度：紧急\n污染现象：油污"
        assert (one["status"], one["agency_responsible"]) == ("open", "HB")
        dated = client.get_service_requests(service_code="POLLUTION", status="open",
                                            start_date=w3c_utc(hours_ago=1),
                                            end_date=w3c_utc(hours_ago=-1))
        assert [r["service_request_id"] for r in listed(dated)] == [request_id]
    stranger = georeport.GeoReport(live_root, jurisdiction="elsewhere.gov.cn")
    with pytest.raises(Exception, match="404"):
        stranger.get_service_list()


def test_xml_errors_parse_as_the_spec_shows(open311: TestClient,
                                            town: dict[str, Path]) -> None:
    response = open311.get(f"{V2}/services/UFO.xml", params={"jurisdiction_id": "T"})
    assert response.status_code == 404
    root = ET.fromstring(response.content)
    assert [(e.findtext("code"), e.findtext("description")) for e in root] == [
        ("404", "service_code 'UFO' was not found")]
