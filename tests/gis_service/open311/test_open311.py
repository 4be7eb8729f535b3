"""Open311 GeoReport v2: services, reporting without a token, searching, JSON and XML, and
Open311's own error shape."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis_service.config import Settings
from gis_service.incidents.audit import verify_all
from gis_service.main import create_app

V2 = "/open311/v2"
IN_T_A_1 = {"lat": "30.902", "long": "120.402"}
IN_T_B_2 = {"lat": "30.915", "long": "120.415"}
CONTACT = {"email": "zhang.san@example.cn", "first_name": "三", "last_name": "张",
           "phone": "13912345678", "device_id": "dev-42", "account_id": "acc-7"}


def post(client: TestClient, fmt: str = "json", **fields: Any) -> httpx.Response:
    """POST a request form-encoded, as the spec has it, with no token."""
    return client.post(f"{V2}/requests.{fmt}", data=fields)


def report(client: TestClient, **fields: Any) -> str:
    """POST a request that must be accepted; its service_request_id."""
    response = post(client, **fields)
    assert response.status_code == 201, response.text
    return str(response.json()[0]["service_request_id"])


def one(client: TestClient, request_id: str) -> dict[str, Any]:
    """GET one request as JSON."""
    response = client.get(f"{V2}/requests/{request_id}.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    return dict(body[0])


def search(client: TestClient, **params: str) -> list[dict[str, Any]]:
    """GET requests.json with the given arguments."""
    response = client.get(f"{V2}/requests.json", params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


def xml_of(response: httpx.Response) -> ET.Element:
    """The parsed XML body, after checking the declaration and content type."""
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def test_services_in_json(client: TestClient, town: dict[str, Path]) -> None:
    response = client.get(f"{V2}/services.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    services = {s["service_code"]: s for s in response.json()}
    assert sorted(services) == ["BUILDING", "FLOOD", "GARBAGE", "POLLUTION"]
    garbage = services["GARBAGE"]
    assert garbage["service_name"] == "垃圾堆放" and garbage["group"] == "grid"
    assert garbage["metadata"] is True and garbage["type"] == "realtime"
    assert garbage["keywords"] == "垃圾堆放, GARBAGE"
    assert "24 h" in garbage["description"]
    assert "department HB" in services["POLLUTION"]["description"]


def test_services_in_xml(client: TestClient, town: dict[str, Path]) -> None:
    root = xml_of(client.get(f"{V2}/services.xml"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert len(services) == 4
    flood = services["FLOOD"]
    assert flood.findtext("service_name") == "防汛险情"
    assert (flood.findtext("metadata"), flood.findtext("type")) == ("true", "realtime")
    assert flood.findtext("group") == "town"


def test_service_definition_has_the_default_attributes(client: TestClient,
                                                      town: dict[str, Path]) -> None:
    response = client.get(f"{V2}/services/GARBAGE.json")
    body = response.json()
    assert body["service_code"] == "GARBAGE"
    assert [a["code"] for a in body["attributes"]] == ["severity", "landmark"]
    root = xml_of(client.get(f"{V2}/services/GARBAGE.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "GARBAGE"
    attributes = root.find("attributes")
    assert attributes is not None and len(attributes) == 2
    missing = client.get(f"{V2}/services/UFO.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "service_code 'UFO' was not found"}]


def test_unknown_suffix_is_404(client: TestClient, town: dict[str, Path]) -> None:
    for path in ("services.csv", "services/GARBAGE.html", "requests.yaml", "requests/1.txt"):
        response = client.get(f"{V2}/{path}")
        assert response.status_code == 404, path
        assert response.json()[0]["code"] == 404
    assert post(client, "geojson", service_code="GARBAGE", **IN_T_A_1).status_code == 404


def test_report_with_coordinates_is_routed_and_keeps_no_contact_details(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    response = post(client, service_code="GARBAGE", description="路口垃圾堆放",
                    jurisdiction_id="T", api_key="ignored", **IN_T_A_1,
                    **CONTACT)
    assert response.status_code == 201, response.text
    [receipt] = response.json()
    assert set(receipt) == {"service_request_id", "token", "service_notice", "account_id"}
    assert receipt["account_id"] is None and receipt["service_notice"].startswith("to be ")
    request = one(client, receipt["service_request_id"])
    assert request["status"] == "open" and request["status_notes"] == "dispatched"
    assert request["agency_responsible"] == "W1"
    assert request["service_code"] == "GARBAGE" and request["service_name"] == "垃圾堆放"
    assert request["description"] == "路口垃圾堆放"
    assert (request["lat"], request["long"]) == (30.902, 120.402)
    assert request["requested_datetime"].endswith("+08:00")
    assert request["expected_datetime"] in receipt["service_notice"]
    incident_id = receipt["service_request_id"]
    incident = client.get(f"/api/v1/incidents/{incident_id}", headers=auth)
    history = client.get(f"/api/v1/incidents/{incident_id}/history", headers=auth)
    assert incident.json()["source"] == "open311"
    assert [(h["actor"], h["action"]) for h in history.json()] == [
        ("open311", "report"), ("system", "dispatch")]
    # the handler's name (W1 is 张三 too) comes from the roster, not from the caller
    assert incident.json()["assignee"]["name"] == "张三"
    stored = orjson.dumps({**incident.json(), "assignee": None}).decode() + history.text
    for value in CONTACT.values():
        assert value not in stored, value


def test_json_body_and_media_url(client: TestClient, town: dict[str, Path],
                                 auth: dict[str, str], db_session: Session) -> None:
    photo = "https://photos.example.cn/12345.jpg"
    response = client.post(f"{V2}/requests.json", json={
        "service_code": "BUILDING", "lat": 30.915, "long": 120.415, "media_url": photo})
    assert response.status_code == 201, response.text
    request_id = response.json()[0]["service_request_id"]
    request = one(client, request_id)
    assert request["media_url"] == photo and request["agency_responsible"] == "Q2"
    history = client.get(f"/api/v1/incidents/{request_id}/history", headers=auth).json()
    assert history[-1]["action"] == "attach_media"
    assert history[-1]["detail"] == {"media_url": photo}
    assert list(verify_all(db_session)) == []  # the extra row keeps the hash chain whole


def test_a_location_is_required(client: TestClient, town: dict[str, Path]) -> None:
    response = post(client, service_code="GARBAGE", description="somewhere")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == [{"code": 400, "description":
                                "a location is required: lat and long, or address_string"}]
    half = post(client, "xml", service_code="GARBAGE", lat="30.902")
    assert half.status_code == 400
    root = xml_of(half)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "400"
    assert root.findtext("error/description") == "lat and long must be sent together"


def test_bad_fields_are_400_and_unknown_services_404(client: TestClient,
                                                     town: dict[str, Path]) -> None:
    unknown = post(client, service_code="UFO", **IN_T_A_1)
    assert unknown.status_code == 404
    assert unknown.json()[0]["description"] == "service_code 'UFO' was not found"
    missing = post(client, **IN_T_A_1)
    assert missing.status_code == 400
    assert missing.json()[0]["description"].startswith("service_code:")
    several = post(client, service_code="GARBAGE", lat="north", long="200",
                   media_url="javascript:alert(1)")
    assert several.status_code == 400
    assert [e["description"].split(":")[0] for e in several.json()] == [
        "lat", "long", "media_url"]
    not_json = client.post(f"{V2}/requests.json", content=b"{",
                           headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400


def test_address_only_waits_for_a_location(client: TestClient, town: dict[str, Path],
                                           auth: dict[str, str]) -> None:
    request_id = report(client, service_code="GARBAGE", address_string="七都镇西村12号")
    request = one(client, request_id)
    assert request["status"] == "open" and request["status_notes"] == "needs_location"
    assert request["address"] == "七都镇西村12号"
    assert request["lat"] is None and request["agency_responsible"] is None
    assert request["service_notice"].startswith("the command center will locate")
    # Open311 needs no token; the JSON API still does
    assert client.get(f"/api/v1/incidents/{request_id}").status_code == 401
    incident = client.get(f"/api/v1/incidents/{request_id}", headers=auth).json()
    assert incident["status"] == "needs_location" and incident["address"] == "七都镇西村12号"


def test_unknown_request_is_404(client: TestClient, town: dict[str, Path]) -> None:
    assert client.get(f"{V2}/requests/999999999.json").status_code == 404
    response = client.get(f"{V2}/requests/not-an-id.xml")
    assert response.status_code == 404
    assert xml_of(response).findtext("error/code") == "404"


def reject(client: TestClient, auth: dict[str, str], request_id: str) -> None:
    """Reject an incident through the JSON API (it becomes Open311 `closed`)."""
    version = client.get(f"/api/v1/incidents/{request_id}", headers=auth).json()["version"]
    response = client.post(f"/api/v1/incidents/{request_id}/actions",
                           headers={**auth, "If-Match": f'"{version}"'},
                           json={"action": "reject", "note": "duplicate"})
    assert response.status_code == 200, response.text


def old_hotline_call(client: TestClient, auth: dict[str, str]) -> str:
    """An incident reported by phone in January 2025, through the JSON API."""
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "category": "GARBAGE", "description": "来电人王先生",
        "location": {"lon": 120.402, "lat": 30.902}, "reported_at": "2025-01-10T09:00:00"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_search_filters(client: TestClient, town: dict[str, Path],
                        auth: dict[str, str]) -> None:
    garbage = report(client, service_code="GARBAGE", **IN_T_A_1)
    building = report(client, service_code="BUILDING", **IN_T_B_2)
    rejected = report(client, service_code="GARBAGE", address_string="不详")
    reject(client, auth, rejected)
    old = old_hotline_call(client, auth)

    def ids(**params: str) -> list[str]:
        return [r["service_request_id"] for r in search(client, **params)]

    assert ids() == [rejected, building, garbage]  # the last 90 days, newest first
    assert ids(service_code="GARBAGE") == [rejected, garbage]
    assert ids(service_code="GARBAGE,BUILDING", status="open") == [building, garbage]
    assert ids(status="closed") == [rejected]
    assert ids(status="open,closed") == [rejected, building, garbage]
    assert search(client, status="closed")[0]["status_notes"] == "rejected"
    january = {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-02-01T00:00:00Z"}
    [call] = search(client, **january)
    assert call["service_request_id"] == old
    assert call["description"] is None  # a hotline caller's words are not published
    assert call["requested_datetime"] == "2025-01-10T09:00:00+08:00"
    assert ids(service_request_id=f"{old},{garbage}", status="closed") == [garbage, old]


def test_search_arguments_are_checked(client: TestClient, town: dict[str, Path]) -> None:
    # an unencoded "+08:00" arrives as " 08:00" and is still read
    unencoded = f"{V2}/requests.json?start_date=2025-01-01T00:00:00+08:00"
    assert client.get(unencoded).status_code == 200
    for params in ({"start_date": "2025-03-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"},
                   {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
                   {"start_date": "yesterday"}, {"status": "pending"},
                   {"service_request_id": "1,two"}):
        response = client.get(f"{V2}/requests.json", params=params)
        assert response.status_code == 400, params
        assert response.json()[0]["code"] == 400


def test_xml_round_trip(client: TestClient, town: dict[str, Path]) -> None:
    text = '<b>"堆放" & 其它</b>\x07'
    created = xml_of(post(client, "xml", service_code="GARBAGE", description=text,
                          **IN_T_A_1))
    assert created.tag == "service_requests"
    request_id = created.findtext("request/service_request_id")
    assert request_id and created.find("request/account_id") is not None
    root = xml_of(client.get(f"{V2}/requests/{request_id}.xml"))
    as_json = one(client, request_id)
    [request] = root.findall("request")
    assert [child.tag for child in request] == list(as_json)
    for key, value in as_json.items():
        if key != "description":
            assert (request.findtext(key) or None) == (None if value is None else str(value))
    # escaped, read back; the bell character cannot be carried by XML 1.0 at all
    assert as_json["description"] == text
    assert request.findtext("description") == '<b>"堆放" & 其它</b>'
    listed = xml_of(client.get(f"{V2}/requests.xml", params={"service_request_id": request_id}))
    assert listed.findtext("request/status") == "open"


def answer_when_done(app: ASGIApp) -> ASGIApp:
    """Hold each HTTP response until the app is done with the request, its session closed."""
    # FastAPI closes a request's session after sending the response, and the live server
    # shares the test's one connection: the next request must not start before that
    # (TestClient waits for it by itself).

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await app(scope, receive, hold)
        for message in held:
            await send(message)

    return wrapped


@pytest.fixture()
def live_open311(session_factory: sessionmaker[Session]) -> Iterator[str]:
    """The service on a loopback port (for a real Open311 client); its Open311 root URL."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, webhook_poll_seconds=0)
    app = create_app(settings, session_factory=session_factory)
    config = uvicorn.Config(answer_when_done(app), host="127.0.0.1", port=0,
                            log_level="warning")
    server = uvicorn.Server(config)
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


def test_a_real_open311_client_reads_us(live_open311: str, town: dict[str, Path]) -> None:
    georeport = pytest.importorskip("georeport")
    response = httpx.post(f"{live_open311}/requests.json", timeout=10,
                          data={"service_code": "GARBAGE", **IN_T_A_1})
    assert response.status_code == 201, response.text
    request_id = orjson.loads(response.content)[0]["service_request_id"]
    for output_format in ("json", "xml"):
        client = georeport.GeoReport(live_open311, output_format=output_format)
        services = client.get_service_list()
        assert sorted(s["service_code"] for s in services) == [
            "BUILDING", "FLOOD", "GARBAGE", "POLLUTION"]
        request = client.get_service_request(request_id)
        assert (request["status"], request["agency_responsible"]) == ("open", "W1")
