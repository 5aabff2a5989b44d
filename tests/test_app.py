"""Starting the app: clear errors for bad setup, and a manifest that matches it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

from bot.access import AccessPolicy
from bot.app import SetupError, build_app
from bot.local_slack import LocalSlack
from bot.runtime import Runtime
from context.db import SchemaError, make_engine

ROOT = Path(__file__).resolve().parents[1]


def test_rejected_token_is_explained(engine: Engine) -> None:
    with LocalSlack() as slack, pytest.raises(SetupError) as caught:
        build_app(
            Runtime(engine=engine),
            token="xoxb-not-the-right-one",
            signing_secret="s",
            api_url=slack.api_url,
        )
    assert "could not check SLACK_BOT_TOKEN with Slack" in str(caught.value)
    assert "invalid_auth" in str(caught.value)


@pytest.mark.parametrize(
    ("token", "secret", "missing"),
    [(None, "s", "SLACK_BOT_TOKEN"), ("xoxb-1", None, "SLACK_SIGNING_SECRET")],
)
def test_missing_credentials_say_where_to_find_them(
    engine: Engine, token: str | None, secret: str | None, missing: str
) -> None:
    with pytest.raises(SetupError, match=f"^{missing} is not set: copy"):
        build_app(Runtime(engine=engine), token=token, signing_secret=secret)


def test_app_refuses_a_store_without_schema(tmp_path: Path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with (
        LocalSlack() as slack,
        pytest.raises(SchemaError, match="foresight db upgrade"),
    ):
        build_app(
            Runtime(engine=empty),
            token=slack.bot_token,
            signing_secret="s",
            api_url=slack.api_url,
        )


def test_manifest_declares_what_the_app_uses() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/account", "/foresight"}
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(
        [
            "commands",
            "users:read",
            "users:read.email",
            "chat:write",
            "im:write",
            "channels:read",
            "groups:read",
            "im:read",
            "mpim:read",
        ]
    )
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


@pytest.mark.parametrize(
    ("access", "said"),
    [
        (
            {"open_to_workspace": "false"},
            "access.open_to_workspace is 'false'; write true or false without quotes",
        ),
        (
            {"admins": "Dana.Reyes@Example.com"},
            "access.admins is 'Dana.Reyes@Example.com'; write a list of e-mail",
        ),
        (
            {"admins": ["revops@example.com", "dana.reyes"]},
            "access.admins: 'dana.reyes' is not an e-mail address",
        ),
    ],
)
def test_access_settings_that_would_be_misread_are_refused(
    access: dict[str, object], said: str
) -> None:
    with pytest.raises(ValueError, match=f"^{said}"):
        AccessPolicy.from_config(access)


def test_admins_are_kept_by_their_email_key() -> None:
    policy = AccessPolicy.from_config(
        {"open_to_workspace": True, "admins": [" RevOps@Example.com "]}
    )
    assert policy == AccessPolicy(True, frozenset({"revops@example.com"}))
