"""The account card: an AccountView turned into Block Kit.

Each section names its source and how fresh its newest fact is, so a rep can judge
what to trust. Everything from data is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from bot import messages
from bot.blocks import (
    Block,
    actions,
    button,
    clip,
    clip_lines,
    context,
    divider,
    escape,
    fallback_text,
    header,
    sections,
)
from context.account_view import AccountView, DealFacts, Freshness
from context.resolve import Candidate, Resolution

SHARE_ACTION = "account_share"
PICK_ACTION = "account_pick"
# Six sections of this size, with the header and context lines, stay well inside
# Slack's ~12k characters per message, so a card is always one message.
SECTION_BUDGET = 1500
MAX_NAME = 120  # a person's, deal's or plan's name as shown
MAX_POINT = 300  # one key point of a call
MAX_TEAM = 4
MAX_DEALS = 8
MAX_CLOSED = 3
MAX_STAKEHOLDERS = 8
QUIET_DAYS = 30


def account_card(
    view: AccountView, labels: Mapping[str, str], *, shareable: bool = True
) -> tuple[list[Block], str]:
    """The card's blocks and its fallback text."""
    blocks: list[Block] = [header(escape(view.name))]
    about = _about(view, labels)
    if about:
        blocks.append(context(*about))
    for title, body, key in _sections(view):
        blocks.append(divider())
        body = clip_lines(body, SECTION_BUDGET, "_…more than fits here._")
        blocks += sections(f"*{title}*\n{body}")
        if key in view.freshness:
            blocks.append(context(_freshness(view.freshness[key], view.as_of, labels)))
    if shareable:
        blocks.append(
            actions([button("Share to channel", SHARE_ACTION, str(view.account_id))])
        )
    return blocks, fallback_text(_summary(view))


def picker(
    resolution: Resolution, labels: Mapping[str, str] | None = None
) -> tuple[list[Block], str]:
    """Buttons to pick from; each choice says where it comes from."""
    labels = labels or {}
    choices = resolution.candidates
    if len(choices) == 1:
        text = messages.user_did_you_mean(show(choices[0].name))
    else:
        text = messages.user_pick_one(show(resolution.query))
    lines = []
    labels_shown = _button_labels(choices, labels)
    buttons = []
    for i, choice in enumerate(choices):
        where = [labels.get(choice.source, choice.source), choice.place]
        detail = " · ".join(show(w) for w in where if w)
        lines.append(f"• *{show(choice.name)}*" + (f" — {detail}" if detail else ""))
        buttons.append(
            button(
                escape(labels_shown[i]), f"{PICK_ACTION}:{i}", str(choice.account_id)
            )
        )
    if resolution.total > len(choices):
        more = f"{resolution.total}+" if resolution.total >= 25 else resolution.total
        lines.append(messages.user_more_matches(len(choices), more))
    body = text + ("\n" + "\n".join(lines) if len(choices) > 1 else "")
    return [*sections(body), actions(buttons, block_id="account_pick")], text


def _button_labels(
    choices: Sequence[Candidate], labels: Mapping[str, str]
) -> list[str]:
    """Each choice's name, told apart from its namesakes by place, then source,
    then a number: two buttons that read the same cannot be chosen between."""
    shown = [c.name for c in choices]
    for extra in (
        lambda c: c.place,
        lambda c: labels.get(c.source, c.source),
        lambda c: f"{c.place or labels.get(c.source, c.source)}, #{c.account_id}",
    ):
        twins = {s for s in shown if shown.count(s) > 1}
        if not twins:
            break
        shown = [
            f"{c.name} ({extra(c)})" if s in twins and extra(c) else s
            for c, s in zip(choices, shown, strict=True)
        ]
    return shown


def no_match(resolution: Resolution) -> tuple[list[Block], str]:
    nearest = [show(c.name) for c in resolution.candidates]
    text = messages.user_no_match(show(resolution.query), nearest)
    return sections(text), text


def _about(view: AccountView, labels: Mapping[str, str]) -> list[str]:
    facts = [
        view.industry,
        f"{view.employees:,} employees" if view.employees else None,
        view.location,
        f"part of {view.parent}" if view.parent else None,
        view.domain,
    ]
    about = " · ".join(show(f) for f in facts if f)
    team = ", ".join(f"{show(r.name)} ({show(r.role)})" for r in view.team[:MAX_TEAM])
    if len(view.team) > MAX_TEAM:
        team += f" and {len(view.team) - MAX_TEAM} more"
    fresh = view.freshness.get("account")
    origin = _freshness(fresh, view.as_of, labels) if fresh else ""
    return [t for t in (about, f"Our team: {team}" if team else "", origin) if t]


def _sections(view: AccountView) -> list[tuple[str, str, str]]:
    today = view.as_of.date()
    found = [
        ("Open deals", _open_deals(view, today), "deals"),
        ("Won and lost, last 90 days", _closed(view.recent_closed, today), "deals"),
        ("Stakeholders", _stakeholders(view), "stakeholders"),
        ("Product usage, last 30 days vs the 30 before", _usage(view), "usage"),
        ("Billing", _billing(view), "billing"),
        ("Last conversation", _conversation(view), "conversation"),
    ]
    shown = [(t, b, k) for t, b, k in found if b]
    # The freshness line belongs to the last section drawn from the same data.
    seen: set[str] = set()
    result = []
    for title, body, key in reversed(shown):
        result.append((title, body, "" if key in seen else key))
        seen.add(key)
    return list(reversed(result))


def _open_deals(view: AccountView, today: date) -> str:
    deals = view.open_deals
    if "deals" not in view.freshness:
        return ""  # no deal source knows this account: say nothing rather than "none"
    if not deals:
        return "No open deals."
    total = sum((d.amount or d.list_value or Decimal(0) for d in deals), Decimal(0))
    lines = [f"{len(deals)} open, {money(total)} in all"]
    for deal in deals[:MAX_DEALS]:
        lines.append("• " + _deal_line(deal, today))
    if len(deals) > MAX_DEALS:
        lines.append(f"…and {len(deals) - MAX_DEALS} more")
    return "\n".join(lines)


def _deal_line(deal: DealFacts, today: date) -> str:
    value = (
        money(deal.amount)
        if deal.amount is not None
        else f"{money(deal.list_value)} list"
        if deal.list_value is not None
        else "no amount"
    )
    parts = [f"*{show(deal.name)}*", show(deal.stage or "open"), value]
    if deal.age_days is not None:
        parts.append(f"{deal.age_days} d old")
    if deal.days_in_stage is not None:
        parts.append(f"{deal.days_in_stage} d in stage")
    if deal.close_date:
        parts.append(f"closes {deal.close_date.isoformat()}")
    if deal.pushes:
        parts.append(f"pushed {deal.pushes}×")
    if deal.owner:
        parts.append(show(deal.owner))
    return " · ".join(parts)


def _closed(deals: list[DealFacts], today: date) -> str:
    if not deals:
        return ""
    won = [d for d in deals if d.status == "won"]
    lost = [d for d in deals if d.status == "lost"]
    won_total = sum((d.amount or Decimal(0) for d in won), Decimal(0))
    lines = [f"Won {len(won)} ({money(won_total)}) · lost {len(lost)}"]
    for deal in deals[:MAX_CLOSED]:
        amount = money(deal.amount) if deal.amount else "no amount"
        when = deal.close_date.isoformat() if deal.close_date else "?"
        lines.append(f"• {deal.status} {when}: *{show(deal.name)}* · {amount}")
    return "\n".join(lines)


def _stakeholders(view: AccountView) -> str:
    if not view.stakeholders:
        return ""
    lines = []
    for person in view.stakeholders[:MAX_STAKEHOLDERS]:
        who = f"*{show(person.name)}*"
        if person.title:
            who += f", {show(person.title)}"
        if person.role:
            who += f" ({show(person.role)})"
        lines.append(
            f"• {who} · {_touch(person.last_touch, person.last_touch_kind, view.as_of)}"
        )
    if len(view.stakeholders) > MAX_STAKEHOLDERS:
        lines.append(f"…and {len(view.stakeholders) - MAX_STAKEHOLDERS} more")
    return "\n".join(lines)


def _touch(at: datetime | None, kind: str | None, now: datetime) -> str:
    if at is None:
        return "no touch on record"
    days = days_between(at, now)
    quiet = " :zzz: quiet" if days >= QUIET_DAYS else ""
    return f"last touch {escape(kind or 'activity')} {ago(at, now)}{quiet}"


def _usage(view: AccountView) -> str:
    usage = view.usage
    if usage is None:
        return ""
    if usage.days_with_data == 0:
        trend = "no usage data in the last 30 days (no data is not zero use)"
    elif usage.change_pct is None:
        trend = f"{number(usage.last_period)} (nothing to compare: no data before)"
    else:
        arrow = (
            ":chart_with_downwards_trend:"
            if usage.change_pct < 0
            else ":chart_with_upwards_trend:"
        )
        trend = (
            f"{number(usage.last_period)} vs {number(usage.previous_period)} "
            f"{arrow} {usage.change_pct:+.0f}%"
        )
    lines = [trend]
    for metric, last, previous in usage.top_metrics:
        lines.append(f"• {show(metric)}: {number(last)} (was {number(previous)})")
    return "\n".join(lines)


def _billing(view: AccountView) -> str:
    billing = view.billing
    if billing is None:
        return ""
    parts = []
    if billing.plan:
        parts.append(f"*{show(billing.plan)}* plan")
    if billing.subscriptions > 1:
        parts.append(f"{billing.subscriptions} live subscriptions")
    if billing.status:
        parts.append(show(billing.status))
    if billing.mrr is not None:
        parts.append(f"MRR {money(billing.mrr)}")
    if billing.arr is not None:
        parts.append(f"ARR {money(billing.arr)}")
    if billing.seats is not None:
        parts.append(f"{billing.seats} seats")
    if billing.status == "ended" and billing.ends_on:
        parts.append(f"ended {billing.ends_on.isoformat()}")
    elif billing.renews_on:
        parts.append(f"renews {billing.renews_on.isoformat()}")
    elif billing.ends_on:
        parts.append(f"ends {billing.ends_on.isoformat()}")
    if billing.auto_renew is not None:
        parts.append("auto-renew on" if billing.auto_renew else "auto-renew *off*")
    lines = [" · ".join(parts) or "Subscription details unknown"]
    if billing.unpaid_invoices:
        lines.append(
            f":warning: {billing.unpaid_invoices} unpaid invoice(s), "
            f"{money(billing.unpaid_amount)} outstanding"
        )
    if billing.failed_invoices:
        lines.append(f":x: {billing.failed_invoices} failed payment(s)")
    if not billing.unpaid_invoices and not billing.failed_invoices:
        lines.append("No open or failed invoices on record.")
    return "\n".join(lines)


def _conversation(view: AccountView) -> str:
    call = view.last_conversation
    if call is None:
        return ""
    head = [f"*{show(call.title or 'Call')}*"]
    if call.started_at:
        head.append(
            f"{call.started_at.astimezone(view.as_of.tzinfo).date().isoformat()} "
            f"({ago(call.started_at, view.as_of)})"
        )
    if call.duration_minutes:
        head.append(f"{call.duration_minutes} min")
    who = list(
        dict.fromkeys([call.rep, *call.participants] if call.rep else call.participants)
    )
    who = [show(p) for p in who if p]
    if who:
        head.append("with " + ", ".join(who[:6]) + ("…" if len(who) > 6 else ""))
    lines = [" · ".join(head)]
    lines += [f"• {show(point, MAX_POINT)}" for point in call.key_points]
    return "\n".join(lines)


def _freshness(fresh: Freshness, now: datetime, labels: Mapping[str, str]) -> str:
    names = ", ".join(show(labels.get(s, s)) for s in fresh.sources) or "unknown"
    text = f"Source: {names}"
    if fresh.newest:
        days = (now.date() - fresh.newest).days
        text += f" · newest {fresh.newest.isoformat()} ({_days(days)})"
    if fresh.synced_at:
        text += f" · synced {ago(fresh.synced_at, max(now, fresh.synced_at))}"
    return text


def _summary(view: AccountView) -> str:
    open_total = sum(
        (d.amount or d.list_value or Decimal(0) for d in view.open_deals), Decimal(0)
    )
    return escape(
        f"{view.name}: {len(view.open_deals)} open deals ({money(open_total)}), "
        f"{len(view.stakeholders)} stakeholders"
    )


def show(value: object, limit: int = MAX_NAME) -> str:
    """A value from data, escaped for mrkdwn and cut to a readable length."""
    return clip(escape(value), limit)


def money(value: Decimal | None) -> str:
    if value is None:
        return "?"
    return f"${value:,.0f}"


def number(value: float) -> str:
    return f"{value:,.0f}"


def days_between(at: datetime, now: datetime) -> int:
    """Calendar days from ``at`` to ``now``, counted in ``now``'s time zone."""
    return (now.date() - at.astimezone(now.tzinfo).date()).days


def ago(at: datetime, now: datetime) -> str:
    """Minutes or hours within a day; beyond that, calendar days."""
    seconds = (now - at).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return _days(days_between(at, now))


def _days(days: int) -> str:
    if days <= 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"
