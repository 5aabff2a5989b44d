"""Block Kit checks that reject what Slack rejects (SLACK.md §5.1–5.3).

Errors read like Slack's: ``"<problem> [json-pointer:/blocks/0/text/text]"``. The
wordings "must be less than N characters", "must be more than 0 characters", "no more
than N items allowed", "missing required field: x" and "unsupported type: x" come
from captured responses; "must be a valid enum value" and "must provide an object"
are guesses (unconfirmed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
# NOTE: undocumented; Slack answers msg_blocks_too_long at roughly 12–13k characters
# of text across all blocks (bolt-js issues 2509, 2867). 12,000 is the cautious end.
BLOCKS_TEXT_BUDGET = 12_000

JsonObject = dict[str, Any]


class _Check:
    """Collects Slack-style error strings while walking one payload."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, pointer: str, problem: str) -> None:
        self.errors.append(f"{problem} [json-pointer:{pointer}]")

    def obj(self, value: Any, pointer: str) -> JsonObject | None:
        if isinstance(value, dict):
            return value
        self.fail(pointer, "must provide an object")
        return None

    def string(
        self, parent: JsonObject, key: str, at: str, limit: int, required: bool = False
    ) -> None:
        value = parent.get(key)
        if value is None:
            if required:
                self.fail(at, f"missing required field: {key}")
        elif not isinstance(value, str):
            self.fail(f"{at}/{key}", "must be a string")
        elif len(value) > limit:
            self.fail(f"{at}/{key}", f"must be less than {limit + 1} characters")

    def text(
        self,
        parent: JsonObject,
        key: str,
        at: str,
        limit: int,
        *,
        required: bool = False,
        plain: bool = False,
    ) -> None:
        """A text object: ``{"type": "plain_text" | "mrkdwn", "text": "…"}``."""
        if key not in parent:
            if required:
                self.fail(at, f"missing required field: {key}")
            return
        text = self.obj(parent[key], f"{at}/{key}")
        if text is None:
            return
        kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if text.get("type") not in kinds:
            self.fail(f"{at}/{key}/type", "must be a valid enum value")
        value = text.get("text")
        if value == "":
            self.fail(f"{at}/{key}/text", "must be more than 0 characters")
        else:
            self.string(text, "text", f"{at}/{key}", limit, required=True)

    def items(
        self,
        parent: JsonObject,
        key: str,
        at: str,
        limit: int,
        *,
        required: bool = False,
    ) -> Iterator[tuple[Any, str]]:
        """Yields ``(item, pointer)`` for a list field after checking its length."""
        value = parent.get(key)
        if value is None:
            if required:
                self.fail(at, f"missing required field: {key}")
            return
        if not isinstance(value, list):
            self.fail(f"{at}/{key}", "must provide an array")
            return
        if len(value) > limit:
            self.fail(f"{at}/{key}", f"no more than {limit} items allowed")
        elif required and not value:
            self.fail(f"{at}/{key}", "must provide at least 1 items")
        for index, item in enumerate(value):
            yield item, f"{at}/{key}/{index}"


# -- composition objects and elements -------------------------------------------


def _option(check: _Check, option: JsonObject, at: str) -> None:
    check.text(option, "text", at, 75, required=True)
    check.string(option, "value", at, 150, required=True)
    check.text(option, "description", at, 75)
    check.string(option, "url", at, 3000)


def _options(check: _Check, element: JsonObject, at: str, limit: int) -> None:
    required = "option_groups" not in element
    for item, pointer in check.items(element, "options", at, limit, required=required):
        if (option := check.obj(item, pointer)) is not None:
            _option(check, option, pointer)
    for item, pointer in check.items(element, "option_groups", at, 100):
        if (group := check.obj(item, pointer)) is not None:
            check.text(group, "label", pointer, 75, required=True, plain=True)
            for inner, inner_at in check.items(group, "options", pointer, 100):
                if (option := check.obj(inner, inner_at)) is not None:
                    _option(check, option, inner_at)


def _confirm(check: _Check, element: JsonObject, at: str) -> None:
    if "confirm" not in element:
        return
    if (confirm := check.obj(element["confirm"], f"{at}/confirm")) is not None:
        at = f"{at}/confirm"
        check.text(confirm, "title", at, 100, required=True, plain=True)
        check.text(confirm, "text", at, 300, required=True)
        check.text(confirm, "confirm", at, 30, required=True, plain=True)
        check.text(confirm, "deny", at, 30, required=True, plain=True)


_SELECTS = {
    f"{prefix}{kind}_select"
    for prefix in ("", "multi_")
    for kind in ("static", "external", "users", "conversations", "channels")
}
_INPUTS = {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
    "file_input",
    "datepicker",
    "timepicker",
    "datetimepicker",
}
_OPTION_LIMITS = {"overflow": 5, "checkboxes": 10, "radio_buttons": 10}
_OPTION_LIMITS.update({name: 100 for name in _SELECTS if "static" in name})
_BUTTONS = {"button", "workflow_button"}
ELEMENT_TYPES = _SELECTS | _INPUTS | set(_OPTION_LIMITS) | _BUTTONS | {"image"}


def _element(check: _Check, value: Any, at: str, allowed: set[str]) -> None:
    element = check.obj(value, at)
    if element is None:
        return
    kind = element.get("type")
    if kind not in allowed:
        check.fail(f"{at}/type", f"unsupported type: {kind}")
        return
    if kind == "image":
        _image(check, element, at)
        return
    check.string(element, "action_id", at, 255)
    check.text(element, "placeholder", at, 150, plain=True)
    _confirm(check, element, at)
    if kind in _BUTTONS:
        check.text(element, "text", at, 75, required=True, plain=True)
        check.string(element, "value", at, 2000)
        check.string(element, "url", at, 3000)
        check.string(element, "accessibility_label", at, 75)
        if element.get("style") not in (None, "primary", "danger"):
            check.fail(f"{at}/style", "must be a valid enum value")
    if kind in _OPTION_LIMITS:
        _options(check, element, at, _OPTION_LIMITS[kind])


def _image(check: _Check, block: JsonObject, at: str) -> None:
    if "slack_file" not in block:
        check.string(block, "image_url", at, 3000, required=True)
    check.string(block, "alt_text", at, 2000, required=True)


# -- blocks ---------------------------------------------------------------------

_PICKERS = {"datepicker", "timepicker"}
_ACCESSORIES = (ELEMENT_TYPES - _INPUTS) | _PICKERS
_ACTIONS = (ELEMENT_TYPES - _INPUTS - {"image"}) | _PICKERS | {"datetimepicker"}


def _section(check: _Check, block: JsonObject, at: str) -> None:
    if "text" not in block and "fields" not in block:
        check.fail(at, "missing required field: text")
    check.text(block, "text", at, 3000)
    for item, pointer in check.items(block, "fields", at, 10):
        _field(check, item, pointer)
    if "accessory" in block:
        _element(check, block["accessory"], f"{at}/accessory", _ACCESSORIES)


def _field(check: _Check, item: Any, pointer: str) -> None:
    if (field := check.obj(item, pointer)) is None:
        return
    if field.get("type") not in ("plain_text", "mrkdwn"):
        check.fail(f"{pointer}/type", "must be a valid enum value")
    if field.get("text") == "":
        check.fail(f"{pointer}/text", "must be more than 0 characters")
    check.string(field, "text", pointer, 2000, required=True)


def _context(check: _Check, block: JsonObject, at: str) -> None:
    for item, pointer in check.items(block, "elements", at, 10, required=True):
        element = check.obj(item, pointer)
        if element is None:
            continue
        if element.get("type") == "image":
            _image(check, element, pointer)
        elif element.get("type") in ("plain_text", "mrkdwn"):
            check.string(element, "text", pointer, 3000, required=True)
        else:
            check.fail(f"{pointer}/type", f"unsupported type: {element.get('type')}")


def _actions(check: _Check, block: JsonObject, at: str) -> None:
    for item, pointer in check.items(block, "elements", at, 25, required=True):
        _element(check, item, pointer, _ACTIONS)


def _input(check: _Check, block: JsonObject, at: str) -> None:
    check.text(block, "label", at, 2000, required=True, plain=True)
    check.text(block, "hint", at, 2000, plain=True)
    if "element" not in block:
        check.fail(at, "missing required field: element")
    else:
        allowed = _INPUTS | _SELECTS | {"checkboxes", "radio_buttons"}
        _element(check, block["element"], f"{at}/element", allowed)


def _required(*fields: str) -> Callable[[_Check, JsonObject, str], None]:
    def validate(check: _Check, block: JsonObject, at: str) -> None:
        for name in fields:
            if name not in block:
                check.fail(at, f"missing required field: {name}")

    return validate


def _table(check: _Check, block: JsonObject, at: str) -> None:
    for row, pointer in check.items(block, "rows", at, 100, required=True):
        if isinstance(row, list) and len(row) > 20:
            check.fail(pointer, "no more than 20 items allowed")


def _markdown(check: _Check, block: JsonObject, at: str) -> None:
    check.string(block, "text", at, 12_000, required=True)


_BLOCKS: dict[str, Callable[[_Check, JsonObject, str], None]] = {
    "section": _section,
    "header": lambda c, b, at: c.text(b, "text", at, 150, required=True, plain=True),
    "divider": _required(),
    "context": _context,
    "actions": _actions,
    "image": _image,
    "input": _input,
    "rich_text": _required("elements"),
    "markdown": _markdown,
    "file": _required("external_id", "source"),
    "video": _required("alt_text", "title", "thumbnail_url", "video_url"),
    "table": _table,
}


def validate_blocks(blocks: list[Any], *, pointer: str, max_blocks: int) -> list[str]:
    """Every schema problem in ``blocks``, as Slack words them; empty if valid."""
    check = _Check()
    if len(blocks) > max_blocks:
        check.fail(pointer, f"no more than {max_blocks} items allowed")
    for index, value in enumerate(blocks):
        at = f"{pointer}/{index}"
        block = check.obj(value, at)
        if block is None:
            continue
        validate = _BLOCKS.get(block.get("type", ""))
        if validate is None:
            check.fail(f"{at}/type", f"unsupported type: {block.get('type')}")
            continue
        check.string(block, "block_id", at, 255)
        validate(check, block, at)
    return check.errors


def text_length(value: Any) -> int:
    """Characters under every ``text`` key: what msg_blocks_too_long counts."""
    if isinstance(value, list):
        return sum(text_length(item) for item in value)
    if isinstance(value, dict):
        return sum(
            len(item) if key == "text" and isinstance(item, str) else text_length(item)
            for key, item in value.items()
        )
    return 0
