"""`/account` through the real Bolt app, signed HTTP in, Slack stand-in out."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from bot.access import AccessPolicy
from bot.card import PICK_ACTION, SHARE_ACTION
from context.clock import Clock
from context.load import Loader
from context.models import Account, Rep
from context.records import Record, Ref, RepRef
from tests.slack_app import RunningApp, all_text, running_app

NOW = Clock(datetime(2024, 12, 2, 14, 0, tzinfo=UTC))
DANA, GUEST, STRANGER, ADMIN = "U0DANA0001", "U0GUEST001", "U0STRANGE1", "U0ADMIN001"
ACME = {"account": Ref("crm", "acme")}


def world() -> list[Record]:
    today = NOW.now().date()
    return [
        Record(
            "rep",
            "org",
            "dana",
            {"name": "Dana Reyes", "email": " Dana.Reyes@Example.com", "role": "rep"},
        ),
        Record(
            "account",
            "crm",
            "acme",
            {
                "name": "Acme Corporation",
                "domain": "acme.com",
                "industry": "technolgy",
                "employees": 2822,
            },
        ),
        Record("account", "crm", "b1", {"name": "Betatech"}),
        Record("account", "crm", "b2", {"name": "Betasoloin"}),
        Record("account", "crm", "sj", {"name": "Smith & <Jones> Ltd"}),
        Record(
            "person",
            "crm",
            "p1",
            {"name": "Amy <b>Taylor</b>", "title": "VP & CTO", "role": "champion"},
            ACME,
        ),
        Record(
            "deal",
            "crm",
            "d1",
            {
                "name": "GTX Pro",
                "stage": "Engaging",
                "status": "open",
                "list_value": Decimal("4821"),
                "created_on": today - timedelta(days=12),
            },
            {**ACME, "owner": RepRef(name="dana reyes")},
        ),
        Record(
            "deal",
            "crm",
            "d2",
            {
                "name": "GTX Basic",
                "stage": "Won",
                "status": "won",
                "amount": Decimal("588"),
                "close_date": today - timedelta(days=3),
            },
            {**ACME, "owner": RepRef(name="Dana Reyes")},
        ),
    ]


@pytest.fixture
def app(engine: Engine) -> Iterator[RunningApp]:
    Loader(engine, NOW).load(world())
    access = AccessPolicy(admins=frozenset({"revops@example.com"}))
    with running_app(
        engine, now=NOW, access=access, labels={"crm": "Maven CRM"}
    ) as running:
        slack = running.slack
        slack.add_user(DANA, "dana.reyes@example.com", name="dana")
        slack.add_user(GUEST, "guest@partner.example", is_restricted=True)
        slack.add_user(STRANGER, "someone@example.com")
        slack.add_user(ADMIN, "RevOps@Example.com")
        yield running


def test_card_reaches_the_asker_privately(app: RunningApp) -> None:
    ack = app.command("acme", DANA)
    [card] = app.replies(1)
    text = all_text(card)
    assert (ack.status, ack.body) == (200, b"")
    assert (card.via, card.response_type) == ("response_url", "ephemeral")
    assert card.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Acme Corporation"},
    }
    assert "1 open, $4,821 in all" in text
    assert "*GTX Pro* · Engaging · $4,821 list · 12 d old · Dana Reyes" in text
    assert "Won 1 ($588) · lost 0" in text
    assert "Source: Maven CRM · newest 2024-11-29 (3 days ago)" in text
    assert "Share to channel" in text
    assert card.blocks[1]["elements"][-1]["text"].startswith(
        "Source: Maven CRM · synced"
    )


def test_ack_is_immediate_when_slack_is_slow(app: RunningApp) -> None:
    app.slack.delay("users.info", 3.2)  # past Slack's 3 s window
    ack = app.command("Acme", DANA)
    assert ack.status == 200
    assert ack.seconds < 1.0
    [card] = app.replies(1, timeout=15)
    assert card.blocks[0]["text"]["text"] == "Acme Corporation"


def test_unsigned_request_is_refused(app: RunningApp) -> None:
    body = app.slack.slash_command_body("/account", "acme", DANA)
    unsigned = app.post(body, secret=None)
    forged = app.post(body, secret="not-the-secret")
    assert (unsigned.status, forged.status) == (401, 401)
    assert app.slack.messages == []


def test_empty_command_explains_usage(app: RunningApp) -> None:
    ack = app.command("  ", DANA)
    assert ack.status == 200
    assert "`/account acme`" in ack.text


def test_several_matches_offer_buttons_then_the_card(app: RunningApp) -> None:
    app.command("beta", DANA)
    [choice] = app.replies(1)
    buttons = choice.blocks[-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Betatech", "Betasoloin"]
    assert all(b["action_id"].startswith(PICK_ACTION) for b in buttons)

    app.click(DANA, buttons[0]["action_id"], buttons[0]["value"])
    card = app.replies(2)[1]
    assert card.replace_original is True
    assert card.blocks[0]["text"]["text"] == "Betatech"


def test_same_names_are_told_apart(app: RunningApp, engine: Engine) -> None:
    Loader(engine, NOW).load(
        [Record("account", "sf", "001", {"name": "Betatech", "location": "Kenya"})]
    )
    app.command("betatech", DANA)
    [choice] = app.replies(1)
    buttons = [b["text"]["text"] for b in choice.blocks[-1]["elements"]]
    assert sorted(buttons) == ["Betatech", "Betatech (Kenya)"]
    assert "• *Betatech* — Maven CRM" in all_text(choice)
    assert "• *Betatech* — sf · Kenya" in all_text(choice)


def test_no_match_names_the_nearest(app: RunningApp) -> None:
    app.command("Quixotic Holdings", DANA)
    [reply] = app.replies(1)
    assert reply.text.startswith(
        "I couldn't find an account matching *Quixotic Holdings*."
    )
    assert "Nearest names:" in reply.text


def test_email_case_differences_still_match_the_rep(
    app: RunningApp, engine: Engine
) -> None:
    app.command("acme.com", DANA)
    [card] = app.replies(1)
    assert card.blocks[0]["text"]["text"] == "Acme Corporation"
    with engine.connect() as connection:
        assert connection.scalar(select(Rep.slack_user_id)) == DANA


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (GUEST, "Sorry, account details aren't available to guests of this workspace."),
        (STRANGER, "Sorry, account details are only shared with the sales team."),
    ],
)
def test_guests_and_strangers_are_refused(
    app: RunningApp, user: str, expected: str
) -> None:
    app.command("acme", user)
    [reply] = app.replies(1)
    assert reply.text.startswith(expected)
    assert "Acme" not in all_text(reply)


def test_user_without_visible_email_is_told_why(app: RunningApp) -> None:
    app.slack.add_user("U0NOMAIL01", "")
    app.command("acme", "U0NOMAIL01")
    [reply] = app.replies(1)
    assert reply.text.startswith("Sorry, I can't see your e-mail address in Slack")


def test_config_admin_may_see_cards(app: RunningApp) -> None:
    app.command("acme", ADMIN)
    [card] = app.replies(1)
    assert card.blocks[0]["text"]["text"] == "Acme Corporation"


def test_workspace_members_when_opened(engine: Engine) -> None:
    Loader(engine, NOW).load(world())
    opened = AccessPolicy(open_to_workspace=True)
    with running_app(engine, now=NOW, access=opened) as running:
        running.slack.add_user(STRANGER, "someone@example.com")
        running.slack.add_user(GUEST, "guest@partner.example", is_ultra_restricted=True)
        running.command("acme", STRANGER)
        running.command("acme", GUEST)
        replies = running.replies(2)
    texts = [all_text(r) for r in replies]
    assert any(t.startswith("Acme Corporation") for t in texts)
    assert any("guests" in t for t in texts)


def acme_id(engine: Engine) -> str:
    with engine.connect() as connection:
        found = connection.scalar(
            select(Account.id).where(Account.name == "Acme Corporation")
        )
    return str(found)


def test_share_posts_to_a_sales_channel(app: RunningApp, engine: Engine) -> None:
    app.slack.add_channel("C0SALES001", "acme-deal", members=[DANA, ADMIN])
    app.click(DANA, SHARE_ACTION, acme_id(engine), channel_id="C0SALES001")
    [shared] = app.replies(1)
    text = all_text(shared)
    assert (shared.response_type, shared.replace_original) == ("in_channel", False)
    assert shared.channel == "C0SALES001"
    assert f"Shared by <@{DANA}>" in text
    assert "Share to channel" not in text


@pytest.mark.parametrize(
    ("members", "external", "expected"),
    [
        ([DANA, GUEST], False, "this channel has people who can't see account details"),
        ([DANA, STRANGER], False, "this channel has people who can't see"),
        ([DANA], True, "this channel is shared with another organisation"),
    ],
)
def test_share_refused_where_others_would_see(
    app: RunningApp,
    engine: Engine,
    members: list[str],
    external: bool,
    expected: str,
) -> None:
    app.slack.add_channel(
        "C0MIXED001", "mixed", members=members, is_ext_shared=external
    )
    app.click(DANA, SHARE_ACTION, acme_id(engine), channel_id="C0MIXED001")
    [reply] = app.replies(1)
    assert reply.response_type == "ephemeral"
    assert reply.text.startswith("The card stays private")
    assert expected in reply.text
    assert "Acme" not in all_text(reply)


def test_share_refused_when_channel_is_invisible(
    app: RunningApp, engine: Engine
) -> None:
    app.slack.add_channel(
        "G0SECRET01", "secret", members=[DANA], is_private=True, bot_member=False
    )
    app.click(DANA, SHARE_ACTION, acme_id(engine), channel_id="G0SECRET01")
    [reply] = app.replies(1)
    assert reply.text.startswith("The card stays private: I can't see who is in")


def test_acks_stay_fast_under_a_burst_of_slow_answers(app: RunningApp) -> None:
    app.slack.delay("users.info", 3.2)
    with ThreadPoolExecutor(max_workers=12) as pool:
        acks = list(pool.map(lambda _: app.command("acme", DANA), range(12)))
    assert [a.status for a in acks] == [200] * 12
    assert max(a.seconds for a in acks) < 1.5
    cards = app.replies(12, timeout=30)
    assert {c.blocks[0]["text"]["text"] for c in cards} == {"Acme Corporation"}


def test_data_is_escaped_everywhere(app: RunningApp) -> None:
    app.command("smith jones", DANA)
    [smith] = app.replies(1)
    app.command("acme", DANA)
    acme = app.replies(2)[1]
    assert smith.blocks[0]["text"]["text"] == "Smith &amp; &lt;Jones&gt; Ltd"
    assert "<Jones>" not in all_text(smith)
    assert "*Amy &lt;b&gt;Taylor&lt;/b&gt;*, VP &amp; CTO (champion)" in all_text(acme)


def test_refused_card_is_replaced_by_a_short_text(app: RunningApp) -> None:
    app.slack.fail_next("response_url", "invalid_blocks", status=400)
    app.command("acme", DANA)
    [fallback] = app.replies(1)
    assert fallback.blocks in (None, [])
    assert fallback.text.startswith(":warning: Slack refused the full card")
    assert "Acme Corporation: 1 open deals ($4,821)" in fallback.text


def test_huge_values_stay_within_block_limits(app: RunningApp, engine: Engine) -> None:
    long_name = "Globex " + "Very Long Subsidiary Name " * 20
    key_points = ["x" * 5000, "y & <z> " * 600]
    people = [
        Record(
            "person",
            "crm",
            f"q{i}",
            {"name": f"Person {i} " + "n" * 300, "title": "t" * 900},
            {"account": Ref("crm", "g")},
        )
        for i in range(40)
    ]
    Loader(engine, NOW).load(
        [
            Record("account", "crm", "g", {"name": long_name, "industry": "i" * 3000}),
            *people,
            Record(
                "conversation",
                "calls",
                "c",
                {
                    "title": "T" * 400,
                    "started_at": NOW.now() - timedelta(days=1),
                    "key_points": key_points,
                },
                {"account": Ref("crm", "g")},
            ),
        ]
    )
    app.command("globex", DANA)
    [card] = app.replies(1)
    texts = [b["text"]["text"] for b in card.blocks if b["type"] == "section"]
    assert card.via == "response_url"
    assert len(card.blocks[0]["text"]["text"]) == 150
    assert not card.text.startswith(":warning:")
    assert all(len(t) <= 3000 for t in texts)
    assert not any(re.search(r"&[a-z]{0,3}$", t) for t in texts)
    assert "_…more than fits here._" in "\n".join(texts)
    assert card.blocks[-1]["elements"][0]["text"]["text"] == "Share to channel"
    time.sleep(0.3)
    assert len(app.slack.messages) == 1


def test_passing_response_url_failure_is_retried(app: RunningApp) -> None:
    app.slack.fail_next("response_url", "internal_error", status=500)
    app.command("acme", DANA)
    [card] = app.replies(1)
    assert (card.via, card.blocks[0]["text"]["text"]) == (
        "response_url",
        "Acme Corporation",
    )


def test_expired_response_url_falls_back_to_an_ephemeral(app: RunningApp) -> None:
    app.slack.fail_next("response_url", "expired_url", status=404)
    app.command("acme", DANA)
    [card] = app.replies(1)
    assert (card.via, card.user) == ("chat.postEphemeral", DANA)
    assert card.blocks[0]["text"]["text"] == "Acme Corporation"


def test_expired_url_outside_the_bots_channels_becomes_a_dm(app: RunningApp) -> None:
    app.slack.add_channel("C0NOBOT001", "no-bot", members=[DANA], bot_member=False)
    app.slack.fail_next("response_url", "expired_url", status=404)
    body = app.slack.slash_command_body(
        "/account", "acme", DANA, channel_id="C0NOBOT001"
    )
    app.post(body)
    [card] = app.replies(1)
    assert card.via == "chat.postMessage"
    assert card.channel.startswith("D")
    assert card.blocks[0]["text"]["text"] == "Acme Corporation"


def test_a_store_without_the_sales_team_says_to_sync_first(engine: Engine) -> None:
    with running_app(engine, now=NOW) as running:
        running.slack.add_user(DANA, "dana.reyes@example.com", name="dana")
        running.command("acme", DANA)
        [reply] = running.replies(1)
    assert reply.text.startswith(
        "Foresight doesn't know the sales team yet: no synced source lists it"
    )
