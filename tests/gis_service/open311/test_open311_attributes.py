"""Open311 service definitions with attributes, and reports that carry them: checked against
the definition, written under the description, `severity` raising the incident's priority.
Writes come from our own client, as a county system would send them (form and JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.incidents.audit import verify_all
from gis_service.incidents.models import Incident
from gis_service.open311 import attributes
from tests.gis_service.open311.test_open311 import IN_T_A_1, IN_T_B_2, V2, one, xml_of

SEVERITY = {"variable": True, "code": "severity", "datatype": "singlevaluelist",
            "required": False, "datatype_description": "1 一般、2 较急、3 紧急；不填按一般处理",
            "order": 1, "description": "紧急程度",
            "values": [{"key": "1", "name": "一般"}, {"key": "2", "name": "较急"},
                       {"key": "3", "name": "紧急"}]}


def stored(db_session: Session, request_id: str) -> Incident:
    """The incident behind a service request, read afresh."""
    db_session.expire_all()
    incident = db_session.get(Incident, int(request_id))
    assert incident is not None
    return incident


def created(response: httpx.Response) -> str:
    """The service_request_id of an accepted POST."""
    assert response.status_code == 201, response.text
    return str(response.json()[0]["service_request_id"])


def incident_count(db_session: Session) -> int:
    return int(db_session.scalar(select(func.count()).select_from(Incident)) or 0)


def test_definition_in_json(client: TestClient, town: dict[str, Path]) -> None:
    body = client.get(f"{V2}/services/POLLUTION.json").json()
    assert body["service_code"] == "POLLUTION"
    severity, landmark, kind = body["attributes"]
    assert severity == SEVERITY
    assert landmark["code"] == "landmark" and landmark["datatype"] == "string"
    assert (landmark["order"], landmark["required"], landmark["values"]) == (2, False, [])
    assert landmark["description"] == "附近的标志物"
    assert (kind["code"], kind["datatype"], kind["required"], kind["order"]) == (
        "pollution_kind", "multivaluelist", True, 3)
    assert [v["key"] for v in kind["values"]] == ["oil", "odour", "colour", "dead_fish",
                                                  "other"]
    garbage = client.get(f"{V2}/services/GARBAGE.json").json()["attributes"]
    assert [a["code"] for a in garbage] == ["severity", "landmark"]  # only the defaults
    services = client.get(f"{V2}/services.json").json()
    assert all(s["metadata"] is True for s in services)


def test_definition_in_xml(client: TestClient, town: dict[str, Path]) -> None:
    root = xml_of(client.get(f"{V2}/services/POLLUTION.xml"))
    assert root.tag == "service_definition"
    assert [child.tag for child in root] == ["service_code", "attributes"]
    items = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in items] == ["severity", "landmark", "pollution_kind"]
    severity = items[0]
    assert [child.tag for child in severity] == list(SEVERITY)
    assert severity.findtext("variable") == "true" and severity.findtext("required") == "false"
    assert severity.findtext("order") == "1"
    assert [(v.findtext("key"), v.findtext("name")) for v in severity.findall("values/value")] \
        == [("1", "一般"), ("2", "较急"), ("3", "紧急")]
    assert items[2].findtext("required") == "true"
    assert items[1].find("values") is not None and len(items[1].findall("values/value")) == 0


def test_the_attribute_file_is_data() -> None:
    book = attributes.book()
    assert set(book) >= {"*", "POLLUTION"}
    # a category's own attribute replaces a default of the same code, in the default's place
    merged = attributes.attributes_of("NO-SUCH-CATEGORY")
    assert [a.code for a in merged] == [a.code for a in book["*"]]


def test_form_post_with_attributes_is_stored(client: TestClient, town: dict[str, Path],
                                             auth: dict[str, str],
                                             db_session: Session) -> None:
    response = client.post(f"{V2}/requests.json", data={
        "service_code": "GARBAGE", "description": "路口垃圾堆放", **IN_T_A_1,
        "attribute[severity]": "3", "attribute[landmark]": "七都大桥东侧"})
    request_id = created(response)
    incident = stored(db_session, request_id)
    assert incident.priority == 2
    assert incident.description == "路口垃圾堆放\n紧急程度：紧急\n附近的标志物：七都大桥东侧"
    assert one(client, request_id)["description"] == incident.description
    api = client.get(f"/api/v1/incidents/{request_id}", headers=auth)
    assert api.json()["priority"] == 2 and api.headers["ETag"] == '"2"'
    history = client.get(f"/api/v1/incidents/{request_id}/history", headers=auth).json()
    assert [(h["actor"], h["action"]) for h in history] == [
        ("open311", "report"), ("system", "dispatch"), ("open311", "set_priority")]
    assert history[-1]["before"]["priority"] == 0 and history[-1]["after"]["priority"] == 2
    assert history[-1]["detail"] == {"attribute": {"severity": "3", "landmark": "七都大桥东侧"}}
    assert list(verify_all(db_session)) == []


def test_json_post_with_attributes_both_ways(client: TestClient, town: dict[str, Path],
                                             db_session: Session) -> None:
    as_object = client.post(f"{V2}/requests.json", json={
        "service_code": "POLLUTION", **{k: float(v) for k, v in IN_T_B_2.items()},
        "attribute": {"severity": 2, "pollution_kind": ["oil", "dead_fish"]}})
    incident = stored(db_session, created(as_object))
    assert incident.priority == 1
    assert incident.description == "紧急程度：较急\n污染现象：油污、死鱼"
    as_keys = client.post(f"{V2}/requests.xml", json={
        "service_code": "POLLUTION", "address_string": "七都镇西村12号",
        "attribute[pollution_kind]": "odour", "attribute[landmark]": "村委会门口"})
    assert as_keys.status_code == 201, as_keys.text
    request_id = xml_of(as_keys).findtext("request/service_request_id")
    assert request_id is not None
    incident = stored(db_session, request_id)
    assert incident.priority == 0 and incident.status == "needs_location"
    assert incident.description == "附近的标志物：村委会门口\n污染现象：黑臭"


def test_a_multivaluelist_in_a_form(client: TestClient, town: dict[str, Path],
                                    db_session: Session) -> None:
    fields = [("service_code", "POLLUTION"), ("lat", IN_T_B_2["lat"]),
              ("long", IN_T_B_2["long"]), ("attribute[pollution_kind][]", "oil"),
              ("attribute[pollution_kind][]", "colour")]
    body = "&".join(f"{k}={v}" for k, v in fields).replace("[", "%5B").replace("]", "%5D")
    response = client.post(f"{V2}/requests.json", content=body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    incident = stored(db_session, created(response))
    assert incident.description == "污染现象：油污、变色"


def test_severity_never_lowers_a_zone_rules_priority(client: TestClient,
                                                     town: dict[str, Path],
                                                     auth: dict[str, str],
                                                     db_session: Session) -> None:
    # POLLUTION in the Taihu level-1 zone gets priority 2 from the zone rules already
    response = client.post(f"{V2}/requests.json", data={
        "service_code": "POLLUTION", **IN_T_A_1, "attribute[severity]": "1",
        "attribute[pollution_kind]": "oil"})
    request_id = created(response)
    assert stored(db_session, request_id).priority == 2
    history = client.get(f"/api/v1/incidents/{request_id}/history", headers=auth).json()
    assert "set_priority" not in [h["action"] for h in history]


def refused(client: TestClient, fmt: str, **fields: Any) -> list[str]:
    """POST that must be refused with 400; the descriptions of its Open311 errors."""
    response = client.post(f"{V2}/requests.{fmt}", data=fields)
    assert response.status_code == 400, response.text
    if fmt == "xml":
        errors = xml_of(response).findall("error")
        assert {e.findtext("code") for e in errors} == {"400"}
        return [e.findtext("description") or "" for e in errors]
    assert {e["code"] for e in response.json()} == {400}
    return [e["description"] for e in response.json()]


def test_bad_attributes_are_400_and_store_nothing(client: TestClient, town: dict[str, Path],
                                                  db_session: Session) -> None:
    before = incident_count(db_session)
    for fmt in ("json", "xml"):
        assert refused(client, fmt, service_code="GARBAGE", **IN_T_A_1,
                       **{"attribute[colour]": "red"}) == [
            "attribute[colour]: GARBAGE has no such attribute"]
        assert refused(client, fmt, service_code="GARBAGE", **IN_T_A_1,
                       **{"attribute[severity]": "9"}) == [
            "attribute[severity]: 9 is not one of 1, 2, 3"]
        assert refused(client, fmt, service_code="POLLUTION", **IN_T_A_1) == [
            "attribute[pollution_kind]: required (污染现象)"]
    several = refused(client, "json", service_code="POLLUTION", **IN_T_A_1, **{
        "attribute[pollution_kind]": "plastic", "attribute[landmark]": "桥" * 201,
        "attribute[ufo]": "yes"})
    assert several == ["attribute[ufo]: POLLUTION has no such attribute",
                       "attribute[landmark]: at most 200 characters",
                       "attribute[pollution_kind]: plastic is not one of oil, odour, colour, "
                       "dead_fish, other"]
    two = client.post(f"{V2}/requests.json", json={
        "service_code": "GARBAGE", "address_string": "西村", "attribute": {"severity": ["1", "3"]}})
    assert two.status_code == 400
    assert two.json() == [{"code": 400, "description": "attribute[severity]: takes one value"}]
    not_an_object = client.post(f"{V2}/requests.json", json={
        "service_code": "GARBAGE", "address_string": "西村", "attribute": "severity=3"})
    assert not_an_object.status_code == 400
    assert not_an_object.json()[0]["description"].startswith("attribute:")
    assert incident_count(db_session) == before


def test_empty_attributes_count_as_absent(client: TestClient, town: dict[str, Path],
                                          db_session: Session) -> None:
    response = client.post(f"{V2}/requests.json", data={
        "service_code": "GARBAGE", **IN_T_A_1, "attribute[severity]": "",
        "attribute[landmark]": ""})
    incident = stored(db_session, created(response))
    assert (incident.priority, incident.description) == (0, "")
    missing = client.post(f"{V2}/requests.json", data={
        "service_code": "POLLUTION", **IN_T_A_1, "attribute[pollution_kind]": ""})
    assert missing.status_code == 400


def test_description_and_attributes_share_the_intake_limit(client: TestClient,
                                                           town: dict[str, Path]) -> None:
    response = client.post(f"{V2}/requests.json", data={
        "service_code": "GARBAGE", **IN_T_A_1, "description": "堆" * 3990,
        "attribute[landmark]": "七都大桥东侧"})
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": "description and attributes "
                                "together may have at most 4000 characters"}]
