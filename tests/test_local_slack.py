"""The loopback Slack, driven by the real slack-sdk clients and a real Bolt app."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.local_slack import LocalSlack, post_to_app, sign

SECRET = "test-signing-secret"


@pytest.fixture
def local() -> Iterator[LocalSlack]:
    with LocalSlack() as slack:
        slack.add_user("U0ALICE001", "alice.ng@example.com", tz="America/Los_Angeles")
        yield slack


@pytest.fixture
def client(local: LocalSlack) -> WebClient:
    return WebClient(token=local.bot_token, base_url=local.api_url)


def api_error(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as raised:
        call()
    data: dict[str, Any] = raised.value.response.data
    return data


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# -- Web API ----------------------------------------------------------------------


def test_auth_test_returns_bot_identity(local: LocalSlack, client: WebClient) -> None:
    response = client.auth_test()

    assert response["user_id"] == local.bot_user_id
    assert response["bot_id"] == local.bot_id
    assert response["team_id"] == local.team_id
    assert "chat:write" in response.headers["x-oauth-scopes"].split(",")


def test_bad_token_is_invalid_auth(local: LocalSlack) -> None:
    stranger = WebClient(token="xoxb-not-ours", base_url=local.api_url)

    assert api_error(stranger.auth_test)["error"] == "invalid_auth"


def test_token_may_come_as_a_form_field(local: LocalSlack) -> None:
    anonymous = WebClient(base_url=local.api_url)

    response = anonymous.api_call("auth.test", data={"token": local.bot_token})
    refused = api_error(lambda: anonymous.api_call("auth.test"))

    assert response["user_id"] == local.bot_user_id
    assert refused["error"] == "not_authed"
    assert "token" not in local.calls[0].args


def test_users_have_real_shapes(local: LocalSlack, client: WebClient) -> None:
    found = client.users_lookupByEmail(email="Alice.Ng@Example.com")["user"]
    info = client.users_info(user="U0ALICE001")["user"]

    assert found["id"] == info["id"] == "U0ALICE001"
    assert info["profile"]["email"] == "alice.ng@example.com"
    assert info["real_name"] == "Alice Ng"
    assert info["is_restricted"] is False
    now = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles"))
    assert info["tz"] == "America/Los_Angeles"
    assert info["tz_label"].startswith("Pacific ")
    assert info["tz_offset"] == int(now.utcoffset().total_seconds())  # type: ignore[union-attr]


def test_unknown_users_use_slacks_error_codes(client: WebClient) -> None:
    missing = api_error(lambda: client.users_lookupByEmail(email="nobody@example.com"))
    unknown = api_error(lambda: client.users_info(user="U0NOBODY01"))

    assert missing["error"] == "users_not_found"
    assert unknown["error"] == "user_not_found"


def test_dm_opens_and_takes_messages(local: LocalSlack, client: WebClient) -> None:
    channel = client.conversations_open(users="U0ALICE001")["channel"]["id"]
    again = client.conversations_open(users="U0ALICE001")
    posted = client.chat_postMessage(channel=channel, text="Morning brief")

    assert channel.startswith("D")
    assert again["channel"]["id"] == channel and again["already_open"] is True
    assert posted["message"]["bot_id"] == local.bot_id
    [message] = local.wait_for_messages(1)
    assert (message.via, message.channel, message.text) == (
        "chat.postMessage",
        channel,
        "Morning brief",
    )


def test_parallel_posts_get_distinct_ts(local: LocalSlack, client: WebClient) -> None:
    def post(n: int) -> None:
        client.chat_postMessage(channel=local.general_channel_id, text=f"n{n}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    messages = local.wait_for_messages(10)
    assert len({m.ts for m in messages}) == 10


def test_channel_errors(local: LocalSlack, client: WebClient) -> None:
    local.add_channel("C0DEALS001", "deals", ["U0ALICE001"], bot_member=False)

    unknown = api_error(lambda: client.chat_postMessage(channel="C0NONE0001", text="x"))
    outside = api_error(lambda: client.chat_postMessage(channel="C0DEALS001", text="x"))
    empty = api_error(
        lambda: client.api_call(
            "chat.postMessage", json={"channel": local.general_channel_id}
        )
    )

    assert unknown["error"] == "channel_not_found"
    assert outside["error"] == "not_in_channel"
    assert empty["error"] == "no_text"


def test_ephemeral_needs_a_member(local: LocalSlack, client: WebClient) -> None:
    general = local.general_channel_id
    local.add_user("U0GUEST001", "guest@example.com", is_restricted=True)

    sent = client.chat_postEphemeral(channel=general, user="U0ALICE001", text="psst")
    refused = api_error(
        lambda: client.chat_postEphemeral(channel=general, user="U0GUEST001", text="x")
    )

    assert sent["message_ts"]
    assert refused["error"] == "user_not_in_channel"
    assert local.messages[0].ephemeral and local.messages[0].user == "U0ALICE001"


def test_fifty_one_blocks_are_invalid(local: LocalSlack, client: WebClient) -> None:
    blocks = [section(f"row {n}") for n in range(51)]

    error = api_error(
        lambda: client.chat_postMessage(
            channel=local.general_channel_id, text="rows", blocks=blocks
        )
    )

    assert error["error"] == "invalid_blocks"
    assert error["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert local.messages == []


def test_long_section_names_its_json_pointer(
    local: LocalSlack, client: WebClient
) -> None:
    blocks = [{"type": "divider"}, section("x" * 3001)]

    error = api_error(
        lambda: client.chat_postMessage(
            channel=local.general_channel_id, text="long", blocks=blocks
        )
    )

    assert error["error"] == "invalid_blocks"
    pointer = "must be less than 3001 characters [json-pointer:/blocks/1/text/text]"
    assert error["errors"] == [pointer]
    assert error["response_metadata"]["messages"] == [f"[ERROR] {pointer}"]


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (
            {"type": "sections"},
            "unsupported type: sections [json-pointer:/blocks/0/type]",
        ),
        ({"type": "header"}, "missing required field: text [json-pointer:/blocks/0]"),
        (
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open"},
                        "value": "v" * 2001,
                    }
                ],
            },
            "must be less than 2001 characters"
            " [json-pointer:/blocks/0/elements/0/value]",
        ),
    ],
)
def test_block_kit_rules(
    local: LocalSlack, client: WebClient, block: dict[str, Any], problem: str
) -> None:
    error = api_error(
        lambda: client.chat_postMessage(
            channel=local.general_channel_id, text="t", blocks=[block]
        )
    )

    assert error["errors"] == [problem]


def test_blocks_as_a_bad_form_field(local: LocalSlack, client: WebClient) -> None:
    error = api_error(
        lambda: client.api_call(
            "chat.postMessage",
            data={"channel": local.general_channel_id, "blocks": "{not json"},
        )
    )

    assert error["error"] == "invalid_blocks_format"


def test_too_much_block_text(local: LocalSlack, client: WebClient) -> None:
    blocks = [section("y" * 3000) for _ in range(5)]

    error = api_error(
        lambda: client.chat_postMessage(
            channel=local.general_channel_id, text="big", blocks=blocks
        )
    )

    assert error["error"] == "msg_blocks_too_long"


def test_long_text_is_truncated_with_a_warning(
    local: LocalSlack, client: WebClient
) -> None:
    response = client.chat_postMessage(
        channel=local.general_channel_id, text="z" * 40_050
    )

    assert response["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(local.messages[0].text) == 40_000


def test_assistant_store_round_trip(local: LocalSlack, client: WebClient) -> None:
    channel = client.conversations_open(users="U0ALICE001")["channel"]["id"]
    question = local.add_message(channel, "How is Acme?", user="U0ALICE001")
    reply = client.chat_postMessage(channel=channel, thread_ts=question, text="Looking")
    context = {"event_type": "assistant_thread_context", "event_payload": {"c": "1"}}

    client.chat_update(
        channel=channel, ts=reply["ts"], text="Looking", metadata=context
    )
    thread = client.conversations_replies(
        channel=channel, ts=question, include_all_metadata=True, limit=4
    )["messages"]

    assert [m["ts"] for m in thread] == [question, reply["ts"]]
    assert thread[1]["metadata"] == context
    assert thread[0]["reply_count"] == 1
    assert [m.via for m in local.messages] == ["chat.postMessage", "chat.update"]


def test_home_view_over_a_hundred_blocks(local: LocalSlack, client: WebClient) -> None:
    view = {"type": "home", "blocks": [{"type": "divider"}] * 101}

    error = api_error(lambda: client.views_publish(user_id="U0ALICE001", view=view))
    client.views_publish(user_id="U0ALICE001", view={"type": "home", "blocks": []})

    assert error["error"] == "invalid_arguments"
    assert error["response_metadata"]["messages"] == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]
    assert local.home_view("U0ALICE001") is not None


def test_unknown_method(client: WebClient) -> None:
    assert api_error(lambda: client.api_call("deals.list"))["error"] == "unknown_method"


# -- failure injection --------------------------------------------------------------


def test_rate_limit_raises_without_retry_handler(
    local: LocalSlack, client: WebClient
) -> None:
    local.fail_next("chat.postMessage", status=429, retry_after=2)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=local.general_channel_id, text="hi")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "2"
    assert raised.value.response["error"] == "ratelimited"
    assert local.messages == []


def test_rate_limit_retried_after_waiting(local: LocalSlack, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    local.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()

    client.chat_postMessage(channel=local.general_channel_id, text="hi")

    assert time.monotonic() - started >= 1
    assert [c.status for c in local.calls_to("chat.postMessage")] == [429, 200]
    assert len(local.messages) == 1


def test_delay_slows_one_method(local: LocalSlack, client: WebClient) -> None:
    local.delay("auth.test", 0.2)
    started = time.monotonic()

    client.auth_test()

    assert time.monotonic() - started >= 0.2


def test_wait_for_messages_names_what_arrived(local: LocalSlack) -> None:
    with pytest.raises(TimeoutError, match="got 0"):
        local.wait_for_messages(1, timeout=0.05)


# -- response_url -------------------------------------------------------------------


def test_response_url_records_the_message(local: LocalSlack) -> None:
    url = local.response_url_for("commands", user_id="U0ALICE001")

    response = WebhookClient(url).send(text="Only you", response_type="ephemeral")

    assert response.status_code == 200
    [message] = local.messages
    assert (message.via, message.text, message.user) == (
        "response_url",
        "Only you",
        "U0ALICE001",
    )


def test_response_url_rejects_bad_blocks(local: LocalSlack) -> None:
    webhook = WebhookClient(local.response_url_for("actions"))

    response = webhook.send(text="t", blocks=[section("")])

    assert (response.status_code, response.body) == (400, "invalid_blocks")
    assert local.messages == []


def test_response_url_allows_five_uses(local: LocalSlack) -> None:
    webhook = WebhookClient(local.response_url_for("commands"))

    statuses = [webhook.send(text=f"update {n}").status_code for n in range(6)]

    assert statuses == [200] * 5 + [404]
    assert len(local.messages) == 5


def test_response_url_expires_after_thirty_minutes() -> None:
    now = [1_800_000_000.0]
    with LocalSlack(clock=lambda: now[0]) as local:
        webhook = WebhookClient(local.response_url_for("commands"))
        now[0] += 30 * 60 + 1

        response = webhook.send(text="late")

    assert (response.status_code, response.body) == (404, "expired_url")


# -- requests to the app -----------------------------------------------------------


def test_signature_passes_slack_sdk_verifier() -> None:
    body = b"token=x&command=%2Fping&text="

    headers = sign(body, SECRET)

    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)


def test_slash_command_body_has_every_field(local: LocalSlack) -> None:
    body = local.slash_command_body("/deals", "acme", "U0ALICE001")

    fields = {key: value[0] for key, value in parse_qs(body.decode()).items()}

    assert fields["command"] == "/deals" and fields["text"] == "acme"
    assert fields["response_url"].startswith(local.url + "commands/")
    assert {"team_id", "channel_id", "user_id", "trigger_id", "api_app_id"} <= set(
        fields
    )


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bolt_url(local: LocalSlack) -> Iterator[str]:
    app = App(
        token=local.bot_token,
        signing_secret=SECRET,
        client=WebClient(token=local.bot_token, base_url=local.api_url),
    )

    @app.command("/ping")
    def ping(ack: Ack, respond: Respond) -> None:
        ack()
        respond("pong")

    @app.action("approve")
    def approve(ack: Ack, respond: Respond) -> None:
        ack()
        respond(text="Approved", replace_original=True)

    server: WSGIServer = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events"
    server.shutdown()
    server.server_close()


def test_bolt_app_answers_a_signed_command(local: LocalSlack, bolt_url: str) -> None:
    body = local.slash_command_body("/ping", "", "U0ALICE001")

    status, _, _ = post_to_app(bolt_url, body, SECRET)

    assert status == 200
    [message] = local.wait_for_messages(1)
    assert (message.via, message.text) == ("response_url", "pong")
    assert message.channel == local.general_channel_id


def test_bolt_app_answers_a_button(local: LocalSlack, bolt_url: str) -> None:
    body = local.block_actions_body(
        "U0ALICE001", [{"action_id": "approve", "block_id": "b", "value": "1"}]
    )

    status, _, _ = post_to_app(bolt_url, body, SECRET)

    assert status == 200
    [message] = local.wait_for_messages(1)
    assert message.replace_original and message.text == "Approved"


def test_bolt_app_refuses_unsigned_requests(local: LocalSlack, bolt_url: str) -> None:
    body = local.slash_command_body("/ping", "", "U0ALICE001")

    status, _, payload = post_to_app(bolt_url, body, secret=None)

    assert status == 401
    assert json.loads(payload) == {"error": "invalid request"}
    assert local.messages == []
