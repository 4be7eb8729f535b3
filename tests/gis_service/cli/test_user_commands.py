"""`gis-service user add|list|passwd|disable|enable|remove` on a database of their own: each
refusal is exit 1 with one line (never a traceback) and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from gis_service.assessment.models import SpotCheck
from gis_service.auth import service as auth_service
from gis_service.cli import app
from tests.town import write_town

runner = CliRunner()
GOOD = "Taihu-lakeshore-47"


@pytest.fixture()
def town_db(scratch_url: str, monkeypatch: pytest.MonkeyPatch,
            tmp_path: Path) -> Iterator[Engine]:
    """A database of the command's own holding the test town; DATABASE_URL points at it."""
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    files = write_town(tmp_path)
    for kind in ("grids", "districts", "departments", "workers"):
        result = runner.invoke(app, ["import", kind, str(files[kind])])
        assert result.exit_code == 0, result.output
    engine = create_engine(scratch_url)
    yield engine
    engine.dispose()


def _user(engine: Engine, name: str) -> dict[str, object] | None:
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT role, scope_code, worker_code, disabled, password_hash FROM account "
            "WHERE username = :name"), {"name": name}).mappings().first()
    return dict(row) if row else None


def _refused(result: Result, *words: str) -> None:
    """Exit 1, one line on stderr naming what is wrong, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(word in lines[0] for word in words), lines[0]


def test_add_refuses_weak_passwords_and_baseless_scopes(town_db: Engine) -> None:
    for password, why in (("x", "太短"), ("wangwei-2026", "用户名"),
                          ("password123", "常见密码")):
        _refused(runner.invoke(app, ["user", "add", "wangwei", "--role", "commander",
                                     "--password", password]), why)
    for role, scope, words in (("grid_worker", "QD-99", ("'QD-99'", "不存在")),
                               ("squad", "NOSUCH", ("'NOSUCH'", "执法片区编号或中队编号")),
                               ("department", "T-A-1", ("'T-A-1'", "三级网格", "部门编号")),
                               ("grid_worker", None, ("需要范围",)),
                               ("planner", "T-A-1", ("'T-A-1'", "三级网格", "镇级网格"))):
        args = ["user", "add", "wangwei", "--role", role] + (["--scope", scope] if scope else [])
        _refused(runner.invoke(app, args), *words)
    _refused(runner.invoke(app, ["user", "add", "wangwei", "--role", "king"]), "未知角色")
    _refused(runner.invoke(app, ["user", "add", "wangwei", "--role", "grid_worker", "--scope",
                                 "T-A-1", "--worker", "W99"]), "'W99'")
    _refused(runner.invoke(app, ["user", "add", "w" * 101, "--role", "planner"]), "username")
    assert _user(town_db, "wangwei") is None


def test_add_then_list(town_db: Engine) -> None:
    added = runner.invoke(app, ["user", "add", "wangwei", "--role", "grid_worker", "--scope",
                                "T-A-1", "--password", GOOD, "--worker", "W1"])
    assert added.exit_code == 0, added.output
    assert "wangwei" in added.output
    assert runner.invoke(app, ["user", "add", "chen", "--role", "squad", "--scope",
                               "Q1"]).exit_code == 0
    _refused(runner.invoke(app, ["user", "add", "chen", "--role", "planner"]), "已存在")
    listed = runner.invoke(app, ["user", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["name", "role", "scope", "worker", "disabled", "created"]
    assert lines[1].split()[:5] == ["chen", "squad", "Q1", "-", "no"]
    assert lines[2].split()[:5] == ["wangwei", "grid_worker", "T-A-1", "W1", "no"]
    assert GOOD not in listed.output and "argon" not in listed.output


def test_passwd_with_option_or_prompt(town_db: Engine) -> None:
    runner.invoke(app, ["user", "add", "li", "--role", "planner", "--password", GOOD])
    before = _user(town_db, "li")
    _refused(runner.invoke(app, ["user", "passwd", "li", "--password", "short"]), "太短")
    _refused(runner.invoke(app, ["user", "passwd", "li", "--password", "1234567890"]),
             "常见密码")
    assert _user(town_db, "li") == before  # nothing changed
    _refused(runner.invoke(app, ["user", "passwd", "nobody", "--password", GOOD]),
             "'nobody'", "不存在")
    changed = runner.invoke(app, ["user", "passwd", "li", "--password", "Second-lake-2026"])
    assert changed.exit_code == 0, changed.output
    prompted = runner.invoke(app, ["user", "passwd", "li"],
                             input="Third-lake-2026\nThird-lake-2026\n")
    assert prompted.exit_code == 0, prompted.output
    assert "Third-lake-2026" not in prompted.output  # typed unseen
    with Session(town_db) as session:
        auth_service.check_password(session, username="li", password="Third-lake-2026")


def test_disable_and_enable(town_db: Engine) -> None:
    runner.invoke(app, ["user", "add", "zhao", "--role", "dispatcher", "--scope", "T",
                        "--password", GOOD])
    token = runner.invoke(app, ["token", "zhao"]).output.strip()
    with Session(town_db) as session:
        assert auth_service.principal_for_token(session, token) is not None
    disabled = runner.invoke(app, ["user", "disable", "zhao"])
    assert disabled.exit_code == 0, disabled.output
    assert "30" in disabled.output  # says how long a running service may still take it
    with Session(town_db) as session:
        assert auth_service.principal_for_token(session, token) is None
        with pytest.raises(Exception, match="wrong user name or password"):
            auth_service.check_password(session, username="zhao", password=GOOD)
    _refused(runner.invoke(app, ["token", "zhao"]), "zhao")
    listed = runner.invoke(app, ["user", "list"]).output
    assert next(line for line in listed.splitlines() if line.startswith("zhao")).split()[4] \
        == "yes"
    enabled = runner.invoke(app, ["user", "enable", "zhao"])
    assert enabled.exit_code == 0, enabled.output
    with Session(town_db) as session:
        assert auth_service.principal_for_token(session, token) is None  # the old one is gone
        auth_service.check_password(session, username="zhao", password=GOOD)
    for command in ("disable", "enable", "remove"):
        _refused(runner.invoke(app, ["user", command, "nobody", "--yes"]
                               if command == "remove" else ["user", command, "nobody"]),
                 "不存在")


def test_the_last_admin_cannot_be_disabled_or_removed(town_db: Engine) -> None:
    runner.invoke(app, ["user", "add", "boss", "--role", "admin"])
    _refused(runner.invoke(app, ["user", "disable", "boss"]), "最后一个")
    _refused(runner.invoke(app, ["user", "remove", "boss", "--yes"]), "最后一个")
    runner.invoke(app, ["user", "add", "boss2", "--role", "admin"])
    assert runner.invoke(app, ["user", "disable", "boss"]).exit_code == 0


def test_remove_asks_and_refuses_accounts_that_acted(town_db: Engine) -> None:
    runner.invoke(app, ["user", "add", "sun", "--role", "planner"])
    kept = runner.invoke(app, ["user", "remove", "sun"], input="n\n")
    assert kept.exit_code == 1 and _user(town_db, "sun") is not None
    asked = runner.invoke(app, ["user", "remove", "sun"], input="y\n")
    assert asked.exit_code == 0, asked.output
    assert _user(town_db, "sun") is None
    runner.invoke(app, ["user", "add", "qian", "--role", "planner"])
    with Session(town_db) as session:  # qian checks a worker: a record that names them
        now = datetime.now(UTC)
        session.add(SpotCheck(worker_code="W1", checked_at=now, checker="qian", passed=True,
                              score=90, note="", created_at=now))
        session.commit()
    _refused(runner.invoke(app, ["user", "remove", "qian", "--yes"]), "抽查记录", "停用")
    assert _user(town_db, "qian") is not None
