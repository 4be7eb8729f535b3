"""Events out: every change of the incidents a subscription selects is written to the outbox in
its own transaction and delivered as a Standard Webhook (verified with the `standardwebhooks`
package's own verifier), in order per incident, retried on failure, never to a host the
operator has not allowed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook, WebhookVerificationError

from gis_service.config import Settings
from gis_service.events.delivery import Policy, deliver_round, sender
from gis_service.events.models import Delivery, Message
from gis_service.main import create_app
from tests.gis_service.events.receiver import Receiver, receiving
from tests.gis_service.plans.test_impact import STRIP
from tests.gis_service.plans.test_publish import age_town, moved_plan, publish

Headers = dict[str, str]
IN_A1, IN_B2 = (120.402, 30.902), (120.418, 30.918)  # grids T-A-1 (worker W1), T-B-2


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


@pytest.fixture()
def app_client(session_factory: sessionmaker[Session], receiver: Receiver
               ) -> Iterator[TestClient]:
    """The service allowing the receiver's host, with no worker of its own: the tests run
    the delivery rounds themselves."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0, webhook_allowed_hosts=receiver.host)
    with TestClient(create_app(settings, session_factory=session_factory)) as client:
        yield client


def policy(receiver: Receiver, retries: str = "0,0,0") -> Policy:
    return Policy.of(Settings(webhook_allowed_hosts=receiver.host,
                              webhook_retry_seconds=retries, webhook_timeout_seconds=5))


def deliver_all(factory: sessionmaker[Session], rules: Policy, rounds: int = 20) -> int:
    """Delivery rounds until one finds nothing due; how many tries were made."""
    tries = 0
    with sender(4) as client, ThreadPoolExecutor(4) as pool:
        for _ in range(rounds):
            sent = deliver_round(factory, client, pool, rules)
            if not sent:
                return tries
            tries += sent
    return tries


def subscribe(client: TestClient, auth: Headers, url: str, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/subscriptions", headers=auth, json={"url": url, **body})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def report(client: TestClient, auth: Headers, number: str, where: tuple[float, float],
           source: str = "hotline_12345", category: str = "GARBAGE") -> dict[str, Any]:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": source, "external_id": number, "category": category,
        "description": "路边垃圾", "location": {"lon": where[0], "lat": where[1]}})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def step(client: TestClient, auth: Headers, incident: dict[str, Any], action: str,
         **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/incidents/{incident['id']}/actions",
                           headers={**auth, "If-Match": f'"{incident["version"]}"'},
                           json={"action": action, **body})
    assert response.status_code == 200, response.text
    done: dict[str, Any] = response.json()
    return done


def close(client: TestClient, auth: Headers, incident: dict[str, Any],
          resolution: str = "service") -> dict[str, Any]:
    for action in ("accept", "resolve", "verify"):
        incident = step(client, auth, incident, action)
    return step(client, auth, incident, "close", resolution=resolution)


def test_every_change_arrives_signed_and_in_order(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session]) -> None:
    made = subscribe(app_client, auth, receiver.url,
                     events=["incident.created", "incident.updated", "incident.closed"])
    assert made["secret"].startswith("whsec_")
    assert "secret" not in app_client.get("/api/v1/subscriptions", headers=auth).json()[0]
    incident = report(app_client, auth, "H1", IN_A1)
    closed = close(app_client, auth, incident)
    assert deliver_all(session_factory, policy(receiver)) == 6

    assert receiver.types() == ["incident.created"] + ["incident.updated"] * 4 + [
        "incident.closed"]
    verifier = Webhook(made["secret"])
    ids = set()
    versions = []
    for request in receiver.accepted():
        body = verifier.verify(request.body, request.headers)  # raises when not valid
        ids.add(request.headers["webhook-id"])
        versions.append(body["data"]["incident"]["version"])
        assert body["data"]["incident"]["id"] == incident["id"]
    assert len(ids) == 6 and versions == sorted(versions)
    assert versions[-1] == closed["version"]
    last = receiver.accepted()[-1].json()["data"]
    assert (last["incident"]["status"], last["incident"]["resolution"]) == ("closed", "service")
    assert last["change"]["action"] == "close"
    first = receiver.accepted()[0].json()["data"]["incident"]
    assert (first["assignee"]["type"], first["assignee"]["code"]) == ("grid_worker", "W1")
    with pytest.raises(WebhookVerificationError):
        Webhook(made["secret"]).verify(receiver.accepted()[0].body + b" ",
                                       receiver.accepted()[0].headers)


def test_filters_select_by_source_area_and_assignee(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session]) -> None:
    hotline = subscribe(app_client, auth, receiver.url, events=["incident.created"],
                        sources=["hotline_12345"])
    west = subscribe(app_client, auth, receiver.url, events=["incident.created"],
                     areas=["T-A"])
    worker = subscribe(app_client, auth, receiver.url, events=["incident.created"],
                       assignees=["grid_worker:W1"])
    county = subscribe(app_client, auth, receiver.url, events=["incident.created"],
                       areas=["T"])
    in_west = report(app_client, auth, "F1", IN_A1, source="walk_in")
    in_east = report(app_client, auth, "F2", IN_B2)
    deliver_all(session_factory, policy(receiver))
    with session_factory() as session:
        got = {(d.subscription_id, m.incident_id) for d, m in session.execute(
            select(Delivery, Message).join(Message, Message.id == Delivery.message_id))}
    assert got == {(hotline["id"], in_east["id"]), (west["id"], in_west["id"]),
                   (worker["id"], in_west["id"]), (county["id"], in_west["id"]),
                   (county["id"], in_east["id"])}
    assert len(receiver.accepted()) == 5


def test_nothing_is_written_when_nobody_subscribes(
        client: TestClient, town: dict[str, Path], auth: Headers, db_session: Session) -> None:
    close(client, auth, report(client, auth, "N1", IN_A1))
    assert db_session.scalar(select(func.count()).select_from(Message)) == 0


def test_only_allowed_hosts_are_subscribed_or_called(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session],
        token_for: Callable[[str, str | None], Headers]) -> None:
    for url, words in (("http://169.254.169.254/latest/meta-data", "169.254.169.254:80"),
                       ("http://127.0.0.1:1/hook", "127.0.0.1:1"),
                       (f"http://user:pw@{receiver.host}/hook", "no user or password"),
                       ("file:///etc/passwd", "http(s)")):
        refused = app_client.post("/api/v1/subscriptions", headers=auth,
                                  json={"url": url, "events": ["incident.created"]})
        assert refused.status_code == 422 and words in refused.json()["detail"], refused.text
    unknown_area = app_client.post("/api/v1/subscriptions", headers=auth, json={
        "url": receiver.url, "events": ["incident.created"], "areas": ["NOWHERE"]})
    assert unknown_area.status_code == 422 and "NOWHERE" in unknown_area.json()["detail"]
    dispatcher = app_client.post("/api/v1/subscriptions", headers=token_for("dispatcher", "T"),
                                 json={"url": receiver.url, "events": ["incident.created"]})
    assert dispatcher.status_code == 403
    assert app_client.get("/api/v1/subscriptions", headers=auth).json() == []

    made = subscribe(app_client, auth, receiver.url, events=["incident.created"])
    report(app_client, auth, "A1", IN_A1)
    # the operator takes the host off the list: nothing is sent there any more
    elsewhere = Policy.of(Settings(webhook_allowed_hosts="hooks.example.gov.cn",
                                   webhook_retry_seconds="0"))
    deliver_all(session_factory, elsewhere)
    assert receiver.received == []
    [delivery] = app_client.get(f"/api/v1/subscriptions/{made['id']}/deliveries",
                                headers=auth).json()["items"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 2)  # the schedule ran out
    assert "is not allowed" in delivery["last_error"] and delivery["last_status"] is None


def test_a_failing_event_holds_back_its_incident_only_and_is_retried(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session]) -> None:
    made = subscribe(app_client, auth, receiver.url,
                     events=["incident.created", "incident.updated"])
    first = report(app_client, auth, "R1", IN_A1)
    step(app_client, auth, first, "accept")
    receiver.answer(503, retry_after="120")  # the first try of R1's created: busy, 2 min
    rules = policy(receiver, retries="0,0")
    deliver_all(session_factory, rules)
    assert receiver.types() == []  # R1's update waits behind its created
    second = report(app_client, auth, "R2", IN_B2)
    deliver_all(session_factory, rules)
    assert [r.json()["data"]["incident"]["id"] for r in receiver.accepted()] == [second["id"]]
    pending = app_client.get(f"/api/v1/subscriptions/{made['id']}/deliveries", headers=auth,
                             params={"status": "pending"}).json()["items"]
    waiting = {d["type"]: d for d in pending}
    assert waiting["incident.created"]["last_status"] == 503
    due = datetime.fromisoformat(waiting["incident.created"]["next_try_at"])
    assert due > datetime.now(UTC) + timedelta(seconds=100)  # Retry-After honoured
    with session_factory() as session:  # two minutes later
        session.execute(update(Delivery).values(next_try_at=datetime.now(UTC)))
        session.commit()
    deliver_all(session_factory, rules)
    ours = [r.json() for r in receiver.accepted() if r.json()["data"]["incident"]["id"]
            == first["id"]]
    assert [r["type"] for r in ours] == ["incident.created", "incident.updated"]


def test_an_endpoint_that_is_gone_is_disabled_and_enabled_by_hand(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session]) -> None:
    made = subscribe(app_client, auth, receiver.url, events=["incident.created"])
    receiver.answer(410)
    report(app_client, auth, "G1", IN_A1)
    deliver_all(session_factory, policy(receiver))
    stored = app_client.get(f"/api/v1/subscriptions/{made['id']}", headers=auth).json()
    assert not stored["enabled"] and "410" in stored["disabled_reason"]
    report(app_client, auth, "G2", IN_A1)  # a disabled endpoint is not sent new events
    deliver_all(session_factory, policy(receiver))
    assert receiver.types() == []
    again = app_client.patch(f"/api/v1/subscriptions/{made['id']}", headers=auth,
                             json={"enabled": True})
    assert again.status_code == 200 and again.json()["disabled_reason"] is None
    report(app_client, auth, "G3", IN_A1)
    deliver_all(session_factory, policy(receiver))
    # G1 waited and is sent on being enabled; G2 came while disabled and is not kept for it;
    # two incidents' events may arrive in either order
    assert sorted(r.json()["data"]["incident"]["external_id"] for r in receiver.accepted()) \
        == ["G1", "G3"]


def test_a_delivery_that_runs_out_of_tries_fails_and_is_sent_again_by_hand(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session]) -> None:
    made = subscribe(app_client, auth, receiver.url, events=["incident.created"])
    receiver.answer(500, 500, 500)
    report(app_client, auth, "X1", IN_A1)
    deliver_all(session_factory, policy(receiver, retries="0,0"))  # three tries in all
    deliveries = f"/api/v1/subscriptions/{made['id']}/deliveries"
    [failed] = app_client.get(deliveries, headers=auth, params={"status": "failed"}
                              ).json()["items"]
    assert failed["attempts"] == 3 and failed["last_status"] == 500
    assert app_client.get(f"/api/v1/subscriptions/{made['id']}", headers=auth
                          ).json()["failing_since"] is not None
    again = app_client.post(f"{deliveries}/{failed['id']}/redeliver", headers=auth)
    assert again.status_code == 200 and again.json()["status"] == "pending"
    deliver_all(session_factory, policy(receiver))
    [done] = app_client.get(deliveries, headers=auth).json()["items"]
    assert done["status"] == "delivered" and done["message_id"] == failed["message_id"]
    assert app_client.get(f"/api/v1/subscriptions/{made['id']}", headers=auth
                          ).json()["failing_since"] is None
    missing = app_client.post(f"{deliveries}/999999/redeliver", headers=auth)
    assert missing.status_code == 404
    assert app_client.delete(f"/api/v1/subscriptions/{made['id']}", headers=auth
                             ).status_code == 204
    assert app_client.get(deliveries, headers=auth).status_code == 404


def test_an_enforcement_case_closed_is_pushed_with_its_record(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session]) -> None:
    desk = subscribe(app_client, auth, receiver.url, events=["enforcement.result"],
                     description="审批窗口")
    commission = subscribe(app_client, auth, receiver.url, events=["enforcement.result"],
                           description="纪委监委")
    close(app_client, auth, report(app_client, auth, "E1", IN_A1))  # a service closure
    enforced = close(app_client, auth, report(app_client, auth, "E2", IN_A1),
                     resolution="enforcement")
    deliver_all(session_factory, policy(receiver))
    pushed = receiver.accepted()
    assert len(pushed) == 2
    secrets_by_id = {desk["id"]: desk["secret"], commission["id"]: commission["secret"]}
    verified = 0
    for request in pushed:
        data = request.json()["data"]
        assert data["incident"]["id"] == enforced["id"]
        assert [h["action"] for h in data["history"]][-1] == "close"
        assert data["history"][0]["action"] == "report"
        for secret in secrets_by_id.values():  # each is signed with its own subscription's
            try:
                Webhook(secret).verify(request.body, request.headers)
                verified += 1
            except WebhookVerificationError:  # the other subscription's secret
                continue
    assert verified == 2


def test_a_published_plan_is_told_and_its_regridded_incidents_follow(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session], db_session: Session) -> None:
    age_town(db_session)
    made = subscribe(app_client, auth, receiver.url, events=["plan.published",
                                                             "incident.updated"])
    opened = report(app_client, auth, "P1", STRIP)
    plan = moved_plan(db_session)
    published = publish(app_client, auth, plan.id, datetime.now(UTC) - timedelta(minutes=1))
    assert published.status_code == 201, published.text
    deliver_all(session_factory, policy(receiver))
    verifier = Webhook(made["secret"])
    bodies = [verifier.verify(r.body, r.headers) for r in receiver.accepted()]
    [told] = [b for b in bodies if b["type"] == "plan.published"]
    assert told["data"]["plan"]["id"] == plan.id and told["data"]["plan"]["summary"]["changed"]
    moved = [b["data"] for b in bodies if b["type"] == "incident.updated"]
    assert [m["incident"]["id"] for m in moved] == [opened["id"]]
    assert moved[0]["change"]["action"] == "regrid"


def test_the_hotline_hears_its_ticket_through_to_the_end_and_only_it_hears_who_called(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session],
        token_for: Callable[[str, str | None], Headers]) -> None:
    hotline = subscribe(app_client, auth, receiver.url, events=[
        "incident.created", "incident.updated", "incident.closed"],
        sources=["hotline_12345"], contact_allowed=True, description="12345 平台")
    sms = subscribe(app_client, auth, receiver.url, events=["incident.created"],
                    assignees=["grid_worker:W1"], description="短信网关")
    response = app_client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "external_id": "12345-2026-0001", "category": "GARBAGE",
        "description": "小区门口垃圾三天没人收", "location": {"lon": IN_A1[0], "lat": IN_A1[1]},
        "contact": {"name": "王小明", "phone": "13812345678"}})
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["contact"] == {"name": "王小明", "phone": "13812345678"}  # the center's view
    seen_by_worker = app_client.get(f"/api/v1/incidents/{ticket['id']}",
                                    headers=token_for("grid_worker", "T-A-1")).json()
    assert seen_by_worker["contact"] == {"name": "王**", "phone": "138****5678"}
    close(app_client, auth, ticket)
    deliver_all(session_factory, policy(receiver))

    by_secret = {hotline["secret"]: "hotline", sms["secret"]: "sms"}
    heard: dict[str, list[dict[str, Any]]] = {"hotline": [], "sms": []}
    for request in receiver.accepted():
        for secret, name in by_secret.items():
            try:
                heard[name].append(Webhook(secret).verify(request.body, request.headers))
            except WebhookVerificationError:  # signed for the other subscription
                continue
    assert [b["data"]["change"]["action"] for b in heard["hotline"]] == [
        "report", "accept", "resolve", "verify", "close", "close"]
    end = heard["hotline"][-1]["data"]["incident"]
    assert (end["external_id"], end["status"], end["resolution"]) == (
        "12345-2026-0001", "closed", "service")
    assert end["contact"]["phone"] == "13812345678"
    [task] = heard["sms"]
    assert task["data"]["incident"]["assignee"]["code"] == "W1"
    assert task["data"]["incident"]["contact"] == {"name": "王**", "phone": "138****5678"}


@pytest.mark.parametrize("waits", ["", "5,x", "5,-1"])
def test_the_retry_schedule_is_checked_when_the_service_starts(waits: str) -> None:
    with pytest.raises(ValueError, match="webhook_retry_seconds"):
        Settings(webhook_retry_seconds=waits)


def test_a_report_answered_with_its_events_view_shows_only_what_the_caller_may_see(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        token_for: Callable[[str, str | None], Headers]) -> None:
    subscribe(app_client, auth, receiver.url, events=["incident.created"])
    worker = token_for("grid_worker", "T-A-1")
    caller = {"name": "王小明", "phone": "13812345678"}
    answers = {}
    for who, headers in (("worker", worker), ("center", auth)):
        response = app_client.post("/api/v1/incidents", headers=headers, json={
            "source": "grid_patrol", "external_id": f"P-{who}", "category": "GARBAGE",
            "description": "路边垃圾", "location": {"lon": IN_A1[0], "lat": IN_A1[1]},
            "contact": caller})
        assert response.status_code == 201, response.text
        answers[who] = response.json()
        again = app_client.get(f"/api/v1/incidents/{answers[who]['id']}", headers=headers)
        assert answers[who] == again.json()
    assert answers["worker"]["contact"] == {"name": "王**", "phone": "138****5678"}
    assert answers["center"]["contact"] == caller


def test_an_incidents_events_follow_each_other_without_waiting_a_poll_each(
        app_client: TestClient, town: dict[str, Path], auth: Headers, receiver: Receiver,
        session_factory: sessionmaker[Session]) -> None:
    """Each of an incident's events becomes due only once the one before it is delivered;
    the service's worker goes on at once after a round that sent something, so six events
    arrive in six rounds, not six polls (30 s each here)."""
    subscribe(app_client, auth, receiver.url,
              events=["incident.created", "incident.updated", "incident.closed"])
    close(app_client, auth, report(app_client, auth, "H-rounds", IN_A1))
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=30, webhook_allowed_hosts=receiver.host)
    with TestClient(create_app(settings, session_factory=session_factory)):
        deadline = time.monotonic() + 15
        while len(receiver.accepted()) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert receiver.types() == ["incident.created"] + ["incident.updated"] * 4 + [
        "incident.closed"]
