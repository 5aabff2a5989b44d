"""Stripe objects as store records: customers, subscriptions, invoices.

Stripe sends amounts as whole minor units of the currency (cents, but yen for JPY:
zero-decimal currencies have no minor unit) and every time as epoch seconds; both
are read here, to ``Decimal`` major units and aware UTC. A subscription's current
period moved from the subscription onto each item in API version 2025-03-31 (CASES
B28): the items are read first, the old top-level field is the fallback, and a
period found in neither is left empty. An object that cannot be read becomes a
``Rejection`` naming it (``invoice in_123``); the rest still load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from context.identity import company_domain
from context.records import AnyRef, Record, Ref, Rejection
from integrations.vendor_values import Malformed
from integrations.vendor_values import text as _text

logger = logging.getLogger(__name__)

# docs.stripe.com/currencies: amounts in these are whole units, not hundredths.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
# ... and in these thousandths (Stripe requires the last digit to be 0).
THREE_DECIMAL = frozenset(("bhd", "jod", "kwd", "omr", "tnd"))
CENT = Decimal("0.01")  # the store keeps money as Numeric(16, 2)
# How many months one billing interval lasts, to bring every price to a month.
MONTHS = {
    "day": Decimal(12) / Decimal(365),
    "week": Decimal(12) / Decimal(52),
    "month": Decimal(1),
    "year": Decimal(12),
}
FREQUENCY = {
    ("day", 1): "daily",
    ("week", 1): "weekly",
    ("month", 1): "monthly",
    ("month", 3): "quarterly",
    ("month", 6): "semiannual",
    ("year", 1): "annual",
}
ENDED = frozenset({"canceled", "incomplete_expired"})


def customer(
    source: str,
    raw: Any,
    links: Mapping[str, str],
    deleted_at: datetime | None = None,
) -> Record | Rejection:
    """A customer as an account, linked to the CRM accounts its metadata names.

    A customer needs a name in the store; without one its e-mail, description or
    finally its id stands in, so that its subscriptions and invoices still load.
    """

    def build(record_id: str) -> Record:
        email = _text(raw.get("email"))
        name = (
            _text(raw.get("name"))
            or email
            or _text(raw.get("description"))
            or f"Stripe customer {record_id}"
        )
        fields: dict[str, Any] = {
            "name": name,
            "domain": company_domain(email),
            "secondary": True,  # a billing customer yields to its CRM account
        }
        extra = {key: raw[key] for key in ("delinquent", "currency") if key in raw} | {
            "stripe_customer": record_id
        }
        fields["extra"] = extra
        if deleted_at is not None:
            fields["deleted_at"] = deleted_at
        record = Record("account", source, record_id, fields, join_by_name=True)
        record.links = _links(raw.get("metadata"), links)
        return record

    return _convert(source, "account", "customer", raw, build)


def subscription(
    source: str,
    raw: Any,
    items: Sequence[Any],
    products: Mapping[str, str],
) -> Record | Rejection:
    """A subscription with its seats and recurring revenue summed over ``items``
    (all of them: the caller fetches those past the first page)."""

    def build(record_id: str) -> Record:
        currency = _currency(raw.get("currency"))
        prices = [_price(item) for item in items]
        monthly = [_monthly(p, q, currency) for p, q in prices]
        known = [m for m in monthly if m is not None]
        mrr = sum(known, Decimal(0)) if known else None
        status = _text(raw.get("status"))
        ended = _moment(raw.get("ended_at"), "ended_at")
        fields: dict[str, Any] = {
            "plan": _plan([p for p, _ in prices], products),
            "status": status,
            "seats": _seats([q for _, q in prices]),
            "mrr": None if mrr is None else mrr.quantize(CENT, ROUND_HALF_UP),
            "arr": None if mrr is None else (mrr * 12).quantize(CENT, ROUND_HALF_UP),
            "currency": currency.upper() if currency else None,
            "started_on": _day(raw.get("start_date"), "start_date"),
            "ends_on": _date(ended or _moment(raw.get("cancel_at"), "cancel_at")),
            "renews_on": None if status in ENDED else _period_end(raw, items),
            "cancel_at_period_end": _flag(raw.get("cancel_at_period_end")),
            "auto_renew": _renews(raw, status),
            "billing_frequency": _frequency([p for p, _ in prices]),
        }
        refs: dict[str, AnyRef] = {
            "account": Ref(source, _id_of(raw.get("customer"), "customer"))
        }
        return Record("subscription", source, record_id, fields, refs)

    return _convert(source, "subscription", "subscription", raw, build)


def invoice(
    source: str, raw: Any, deleted_at: datetime | None = None
) -> Record | Rejection:
    """An invoice. Stripe's status is kept as it is (draft, open, paid,
    uncollectible, void): an open one past ``due_on`` is overdue, and a failed
    payment shows on its subscription, which Stripe moves to ``past_due``."""

    def build(record_id: str) -> Record:
        status = _text(raw.get("status"))
        if status is None:
            raise Malformed("the invoice has no status")
        currency = _currency(raw.get("currency"))
        transitions = raw.get("status_transitions") or {}
        fields: dict[str, Any] = {
            "number": _text(raw.get("number")),
            "status": status,
            "amount_due": _money(raw.get("amount_due"), currency, "amount_due"),
            "amount_paid": _money(raw.get("amount_paid"), currency, "amount_paid"),
            "currency": currency.upper() if currency else None,
            "issued_on": _day(raw.get("created"), "created"),
            "due_on": _day(raw.get("due_date"), "due_date"),
            "paid_at": _moment(transitions.get("paid_at"), "paid_at"),
        }
        if deleted_at is not None:
            fields["deleted_at"] = deleted_at
        refs: dict[str, AnyRef] = {
            "account": Ref(source, _id_of(raw.get("customer"), "customer"))
        }
        subscription_id = _subscription_of(raw)
        if subscription_id is not None:
            refs["subscription"] = Ref(source, subscription_id)
        return Record("invoice", source, record_id, fields, refs)

    return _convert(source, "invoice", "invoice", raw, build)


def _convert(
    source: str, kind: str, object_type: str, raw: Any, build: Callable[[str], Record]
) -> Record | Rejection:
    record_id = raw.get("id") if isinstance(raw, dict) else None
    origin = f"{object_type} {record_id if record_id is not None else '(no id)'}"
    try:
        if not isinstance(raw, dict):
            raise Malformed(f"expected an object, got {type(raw).__name__}")
        if not isinstance(record_id, str) or not record_id:
            raise Malformed("the object has no id")
        record = build(record_id)
    except Malformed as error:
        return Rejection(source, kind, origin, str(error), _text(record_id))
    record.origin = origin
    return record


def _links(metadata: Any, links: Mapping[str, str]) -> tuple[Ref, ...]:
    """``Ref(source, id)`` for each configured metadata key the customer has set."""
    if not isinstance(metadata, dict):
        return ()
    found = []
    for key, other_source in links.items():
        value = _text(metadata.get(key))
        if value is not None:
            found.append(Ref(other_source, value))
    return tuple(found)


def _subscription_of(raw: Mapping[str, Any]) -> str | None:
    """NOTE: from 2025-03-31 the invoice's subscription is under ``parent``."""
    parent = raw.get("parent") or {}
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    value = raw.get("subscription") or (details or {}).get("subscription")
    return None if value is None else _id_of(value, "subscription")


def _price(item: Any) -> tuple[Mapping[str, Any], int | None]:
    if not isinstance(item, dict) or not isinstance(item.get("price"), dict):
        raise Malformed("a subscription item has no price")
    quantity = item.get("quantity")
    if quantity is not None and (type(quantity) is not int or quantity < 0):
        raise Malformed(f"a subscription item's quantity {quantity!r} is not a count")
    return item["price"], quantity


def _monthly(
    price: Mapping[str, Any], quantity: int | None, currency: str | None
) -> Decimal | None:
    """What one item brings in a month at list price; None for a metered or tiered
    price, whose amount depends on usage."""
    recurring = price.get("recurring") or {}
    unit = price.get("unit_amount_decimal") or price.get("unit_amount")
    months = MONTHS.get(str(recurring.get("interval")))
    if unit is None or months is None or recurring.get("usage_type") == "metered":
        return None
    count = recurring.get("interval_count") or 1
    if type(count) is not int or count < 1:
        raise Malformed(f"the price's interval_count {count!r} is not a count")
    amount = _major(unit, price.get("currency") or currency, "unit_amount")
    return amount * (1 if quantity is None else quantity) / (months * count)


def _plan(
    prices: Sequence[Mapping[str, Any]], products: Mapping[str, str]
) -> str | None:
    names: list[str] = []
    for price in prices:
        product = price.get("product")
        product_id = product.get("id") if isinstance(product, dict) else product
        name = (
            _text(price.get("nickname"))
            or products.get(str(product_id))
            or _text(price.get("id"))
        )
        if name and name not in names:
            names.append(name)
    return " + ".join(names) or None


def _seats(quantities: Sequence[int | None]) -> int | None:
    counted = [q for q in quantities if q is not None]
    return sum(counted) if counted else None


def _frequency(prices: Sequence[Mapping[str, Any]]) -> str | None:
    for price in prices:
        recurring = price.get("recurring") or {}
        interval = recurring.get("interval")
        count = recurring.get("interval_count") or 1
        if interval:
            return FREQUENCY.get((interval, count), f"every {count} {interval}s")
    return None


def _period_end(raw: Mapping[str, Any], items: Sequence[Any]) -> date | None:
    """B28: the latest period end of the items (2025-03-31 on), else the
    subscription's own (older versions); missing in both is unknown, not an error."""
    ends = [
        _moment(item.get("current_period_end"), "current_period_end")
        for item in items
        if isinstance(item, dict)
    ]
    known = [end for end in ends if end is not None]
    if known:
        return max(known).date()
    return _day(raw.get("current_period_end"), "current_period_end")


def _renews(raw: Mapping[str, Any], status: str | None) -> bool | None:
    if status in ENDED:
        return False
    if status is None:
        return None
    return not raw.get("cancel_at_period_end") and raw.get("cancel_at") is None


def _money(value: Any, currency: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    return _major(value, currency, name).quantize(CENT, ROUND_HALF_UP)


def _major(value: Any, currency: str | None, name: str) -> Decimal:
    """Minor units (an int, or Stripe's ``*_decimal`` string) as major units."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Malformed(f"{name} {value!r} is not an amount in minor units")
    if currency is None:
        raise Malformed(f"{name} has no currency")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise Malformed(f"{name} {value!r} is not an amount in minor units") from None
    if not amount.is_finite():
        raise Malformed(f"{name} {value!r} is not an amount in minor units")
    return amount.scaleb(-_exponent(currency))


def _exponent(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def _currency(value: Any) -> str | None:
    text = _text(value)
    if text is not None and (len(text) != 3 or not text.isalpha()):
        raise Malformed(f"currency {text!r} is not a three-letter code")
    return text.lower() if text else None


def _moment(value: Any, name: str) -> datetime | None:
    """Stripe's epoch seconds as an aware UTC time."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Malformed(f"{name} {value!r} is not a time in epoch seconds")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise Malformed(f"{name} {value!r} is out of range for a time") from None


def _day(value: Any, name: str) -> date | None:
    return _date(_moment(value, name))


def _date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.date()


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _id_of(value: Any, name: str) -> str:
    """An id, whether Stripe sent it bare or as an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str) or not value:
        raise Malformed(f"the object has no {name} id")
    return value
