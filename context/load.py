"""Bulk upsert of source records into the store, with counts and reasons.

Records arrive as a stream, grouped by kind in ``KINDS`` order. They are taken in
chunks: one query finds the rows a chunk already has, one ``executemany`` inserts the
new ones and one updates the changed ones, so the statement count grows with the
number of chunks, not of records. A record that cannot be loaded is rejected with its
origin and the reason; the rest of its chunk still loads.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Engine,
    Float,
    Numeric,
    String,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from context.account_merge import AccountMerge
from context.clock import Clock
from context.db import session_factory
from context.identity import (
    resolve_matches,
)
from context.jsonsafe import json_safe
from context.models import (
    Account,
    AccountAlias,
    Activity,
    Conversation,
    ConversationTurn,
    Deal,
    DealChange,
    Invoice,
    Meeting,
    MeetingAttendee,
    Person,
    Rep,
    Subscription,
    UsageRecord,
)
from context.names import domain_of, email_key, name_key
from context.records import Match, Record, Ref, Rejection, RepRef
from context.store_keys import (
    ID_LENGTH,
    alias_rows,
    batches,
    is_tombstone,
    rows_by_key,
)

logger = logging.getLogger(__name__)

CHUNK = 1000
INT_LIMIT = 2**31 - 1  # INTEGER columns on PostgreSQL
# PostgreSQL plans each chunk's lookups from table statistics. A table that grows from
# empty during a load has none, and the planner then reads every row of the source
# for every chunk, which makes a bulk load quadratic (760 usage rows/s at 74k rows).
# So the loader analyzes a table once it has inserted this many rows into it, and
# again each time that number doubles.
ANALYZE_AFTER = 1000

TABLES: dict[str, Any] = {
    "account_alias": AccountAlias,
    "rep": Rep,
    "account": Account,
    "person": Person,
    "deal": Deal,
    "subscription": Subscription,
    "invoice": Invoice,
    "usage": UsageRecord,
    "activity": Activity,
    "conversation": Conversation,
    "turn": ConversationTurn,
    "meeting": Meeting,
    "attendee": MeetingAttendee,
}

# Which reference fills which column, and the table it points into.
REF_COLUMNS: dict[str, tuple[str, Any]] = {
    "account": ("account_id", Account),
    "person": ("person_id", Person),
    "deal": ("deal_id", Deal),
    "subscription": ("subscription_id", Subscription),
    "conversation": ("conversation_id", Conversation),
    "meeting": ("meeting_id", Meeting),
}
REP_COLUMNS = {"owner": "owner_rep_id", "rep": "rep_id"}

REQUIRED: dict[str, tuple[str, ...]] = {
    "account_alias": ("alias_source", "alias_id", "target_source", "target_id"),
    "rep": ("name",),
    "account": ("name",),
    "person": ("name",),
    "usage": ("account_id", "day", "metric", "value"),
    "subscription": ("account_id",),
    "invoice": ("account_id", "status"),
    "turn": ("conversation_id", "position", "text"),
    "attendee": ("meeting_id",),
}

TRACKED_DEAL_FIELDS = ("stage", "amount", "close_date")
# How many merges in a row a reference is followed through (A into B into C …).
MERGE_HOPS = 5


@dataclass
class LoadReport:
    """Counts per (source, kind) and every rejection, in the order met."""

    counts: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    rejections: list[Rejection] = field(default_factory=list)
    # Sales-org people that records name (deal owners, call reps) but no rep matches:
    # (source, kind, who) → how many records. Loaded all the same, reported to admins.
    unmatched_reps: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def count(self, record: Record, outcome: str, n: int = 1) -> None:
        self.counts[(record.source, record.kind)][outcome] += n

    def reject(self, record: Record, reason: str) -> None:
        self.count(record, "rejected")
        self.rejections.append(
            Rejection(
                record.source, record.kind, record.origin, reason, record.source_id
            )
        )

    def rejected_any(self, kind: str) -> bool:
        return any(k == kind and c["rejected"] for (_, k), c in self.counts.items())

    def changed(self) -> int:
        return sum(c["new"] + c["updated"] for c in self.counts.values())

    def mark(self) -> tuple[Any, int, Counter[tuple[str, str, str]]]:
        counts = {key: Counter(value) for key, value in self.counts.items()}
        return counts, len(self.rejections), Counter(self.unmatched_reps)

    def restore(self, mark: tuple[Any, int, Counter[tuple[str, str, str]]]) -> None:
        counts, rejected, unmatched = mark
        self.counts = defaultdict(Counter, counts)
        del self.rejections[rejected:]
        self.unmatched_reps = unmatched


class Loader:
    """Loads record streams into one store. Not shared between threads."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or Clock()
        self.report = LoadReport()
        self._reps_by_email: dict[str, int] = {}
        self._reps_by_name: dict[str, int] = {}
        self._inserted: Counter[str] = Counter()
        self._analyzed_at: dict[str, int] = {}
        # Deal changes this load noticed itself: (deal id, field, new value) → when.
        self._derived: dict[tuple[Any, Any, Any], datetime] = {}
        # Conversations whose transcript this load handed over.
        self._transcribed: set[int] = set()
        self._accounts = AccountMerge(self)

    def load(self, records: Iterable[Record]) -> LoadReport:
        started = datetime.now(UTC)
        with session_factory(self.engine)() as session:
            self._read_reps(session)
            for chunk in _chunks(records):
                self._load_isolated(session, chunk)
            self._retire_turns(session, started)
        return self.report

    def _retire_turns(self, session: Session, started: datetime) -> None:
        """A transcript comes whole: turns of a call read again that this load did
        not see are gone from it (a recorder re-transcribed the call shorter)."""
        if not self._transcribed or self.report.rejected_any("turn"):
            return  # a turn that could not be read is still there: retire nothing
        for part in batches(sorted(self._transcribed)):
            session.execute(
                update(ConversationTurn)
                .where(
                    ConversationTurn.conversation_id.in_(part),
                    ConversationTurn.last_seen_at < started,
                    ConversationTurn.deleted_at.is_(None),
                )
                .values(deleted_at=datetime.now(UTC))
            )
        session.commit()

    def _load_isolated(self, session: Session, chunk: list[Record]) -> None:
        """Load a chunk; if the database refuses it, find and reject the bad records.

        A value the database will not take (a constraint, a type limit) fails the
        whole statement; retrying record by record keeps every good record.
        """
        mark = self.report.mark()
        try:
            self._load_chunk(session, chunk)
            session.commit()
        except (DataError, IntegrityError) as error:
            session.rollback()
            self.report.restore(mark)
            if len(chunk) == 1:
                reason = str(error.orig).strip().splitlines()[0][:300]
                self.report.reject(chunk[0], f"the database refused it: {reason}")
                return
            logger.warning(
                "a %s chunk was refused (%s); loading it record by record",
                chunk[0].kind,
                type(error.orig).__name__,
            )
            for record in chunk:
                self._load_isolated(session, [record])

    def _load_chunk(self, session: Session, chunk: list[Record]) -> None:
        kind = chunk[0].kind
        if kind == "deal_change":
            self._load_deal_changes(session, chunk)
            return
        rows = self._resolve(session, chunk)
        if kind == "account":
            self._accounts.upsert(session, rows)
        else:
            self._upsert(session, TABLES[kind], rows)
        if kind == "rep":
            self._read_reps(session)

    # -- references -------------------------------------------------------------

    def _resolve(
        self, session: Session, chunk: list[Record]
    ) -> list[tuple[Record, dict[str, Any]]]:
        """Turn each record's references into row ids; reject what cannot be found."""
        wanted: dict[str, set[tuple[str, str]]] = defaultdict(set)
        matches: dict[str, set[Match]] = defaultdict(set)
        for record in chunk:
            for name, ref in record.refs.items():
                if isinstance(ref, Ref):
                    wanted[name].add((ref.source, ref.id))
                elif isinstance(ref, Match):
                    matches[name].add(ref)
        found: dict[str, dict[Any, Any]] = {
            name: self._ids(session, name, keys) for name, keys in wanted.items()
        }
        for name, wanted_matches in matches.items():
            found.setdefault(name, {}).update(
                resolve_matches(session, name, wanted_matches)
            )

        resolved = []
        for record in chunk:
            values = self._values(record, found)
            if isinstance(values, str):
                self.report.reject(record, values)
            else:
                resolved.append((record, values))
        return resolved

    def _values(
        self, record: Record, found: dict[str, dict[Any, Any]]
    ) -> dict[str, Any] | str:
        values = dict(record.fields)
        for name, ref in record.refs.items():
            if isinstance(ref, RepRef):
                rep_id = self._rep_id(ref)
                if rep_id is None and (ref.email or ref.name):
                    who = str(ref.email or ref.name).strip()
                    self.report.unmatched_reps[(record.source, record.kind, who)] += 1
                values[REP_COLUMNS.get(name, f"{name}_rep_id")] = rep_id
                continue
            if isinstance(ref, Match):
                values[REF_COLUMNS[name][0]] = found[name].get(ref)
                continue
            hit = found[name].get((ref.source, ref.id))
            if hit is None and is_tombstone(record):
                continue  # only marks a stored row: keep what that row points at
            if hit is None:
                return (
                    f"{name} {ref.id!r} is not in source {ref.source!r}; load it first "
                    "or add it to the crosswalk"
                )
            column = REF_COLUMNS[name][0]
            if name == "subscription":
                values[column], account_id = hit
                values.setdefault("account_id", account_id)
            else:
                values[column] = hit
        table = TABLES.get(record.kind)
        columns = _columns(table) if table is not None else frozenset()
        if "deleted_at" in columns:
            # A record the source hands over again is live again, unless it says not.
            values.setdefault("deleted_at", None)
            values.setdefault("merged_into", None)
        _derive_keys(values, columns)
        for name in _json_columns(table) & set(values):
            values[name] = json_safe(values[name])
        if len(record.source_id) > ID_LENGTH:
            return f"id is {len(record.source_id)} characters; at most {ID_LENGTH} fit"
        for name, value in values.items():
            if isinstance(value, str):
                values[name] = _storable(value)
            elif isinstance(value, bool):
                continue
            elif isinstance(value, int) and abs(value) > INT_LIMIT:
                return f"{name} {value} is out of range for a whole-number field"
        for name, digits in _numeric_limits(table).items():
            value = values.get(name)
            if isinstance(value, Decimal | int | float) and abs(value) >= 10**digits:
                return f"{name} {value} is too large: at most {digits} digits fit"
        for name, limit in _string_limits(table).items():
            value = values.get(name)
            if isinstance(value, str) and len(value) > limit:
                # PostgreSQL refuses what does not fit (SQLite would keep it): cut
                # descriptive text visibly rather than lose the whole record.
                values[name] = value[: limit - 1] + "…"
        unknown = sorted(set(values) - columns) if table is not None else []
        if unknown:
            return f"unknown field {', '.join(unknown)} for a {record.kind} record"
        missing = [c for c in REQUIRED.get(record.kind, ()) if values.get(c) is None]
        if missing and not is_tombstone(record):
            return f"missing {', '.join(missing)}"
        return values

    def _ids(
        self, session: Session, name: str, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], Any]:
        """Row ids for (source, id) keys, following merges to the survivor."""
        table = REF_COLUMNS[name][1]
        follow_aliases = name == "account"
        extra = [Subscription.account_id] if name == "subscription" else []
        result: dict[tuple[str, str], Any] = {}
        at = {key: key for key in keys}
        for _ in range(MERGE_HOPS):
            moved = self._through_aliases(session, at) if follow_aliases else at
            rows = rows_by_key(
                session, table, set(at.values()) | set(moved.values()), extra
            )
            following = {}
            for key, target in moved.items():
                found = target if target in rows else at[key]
                row = rows.get(found)
                if row is None:
                    continue  # not stored; a merge target not loaded yet keeps the last
                result[key] = row[0] if not extra else (row[0], row[2])
                if row[1] and row[1] != found[1]:
                    following[key] = (found[0], row[1])
            at = following
            if not at:
                break
        return result

    def _through_aliases(
        self, session: Session, at: dict[tuple[str, str], tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, str]]:
        """Each key's last alias target (A → B → C gives C)."""
        moved = dict(at)
        for _ in range(MERGE_HOPS):
            aliases = self._aliases(session, set(moved.values()))
            step = {k: aliases.get(v, v) for k, v in moved.items()}
            if step == moved:
                break
            moved = step
        return moved

    def account_ids(
        self, session: Session, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """Account ids for (source, id) keys, directly or through a crosswalk alias
        or a merge (an alias wins: the same customer, stored under another id)."""
        return self._ids(session, "account", keys)

    def _aliases(
        self, session: Session, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, str]]:
        """Alias key → target key, for aliases of ``keys``."""
        return alias_rows(
            session, AccountAlias.alias_source, AccountAlias.alias_id, keys
        )

    def _read_reps(self, session: Session) -> None:
        rows = session.execute(select(Rep.id, Rep.email_key, Rep.name_key)).all()
        self._reps_by_email = {e: i for i, e, _ in rows if e}
        self._reps_by_name = {n: i for i, _, n in rows if n}

    def _rep_id(self, ref: RepRef) -> int | None:
        key = email_key(ref.email)
        if key and key in self._reps_by_email:
            return self._reps_by_email[key]
        if ref.name:
            return self._reps_by_name.get(name_key(ref.name))
        return None

    # -- writes -----------------------------------------------------------------

    def _upsert(
        self,
        session: Session,
        table: Any,
        rows: list[tuple[Record, dict[str, Any]]],
        existing: dict[tuple[str, str], Any] | None = None,
    ) -> None:
        """Insert, update or mark as seen; ``existing`` saves the lookup if known."""
        if existing is None:
            existing = self._existing(session, table, [r for r, _ in rows])
        now = datetime.now(UTC)
        inserts, updates, seen = [], [], []
        deal_changes: list[dict[str, Any]] = []
        if table is ConversationTurn:
            self._transcribed.update(v["conversation_id"] for _, v in rows)
        for record, values in rows:
            row = existing.get((record.source, record.source_id))
            if row is None and is_tombstone(record):
                self.report.count(record, "unchanged")  # gone before we saw it
                continue
            if row is None:
                inserts.append(_new_row(record, values, now))
                self.report.count(record, "new")
                continue
            if is_tombstone(record):
                values = {k: v for k, v in values.items() if v is not None}
                values |= {"merged_into": record.fields.get("merged_into")}
            changed = _changes(row, values)
            if not changed:
                seen.append(row.id)
                self.report.count(record, "unchanged")
                continue
            if table is Deal:
                deal_changes += self._deal_changes(row, changed, record.source)
            updates.append(
                {"id": row.id, **changed, "updated_at": now, "last_seen_at": now}
            )
            self.report.count(record, "updated")
        self._write(session, table, inserts, updates, seen, now)
        if deal_changes:
            session.execute(insert(DealChange), deal_changes)

    def _existing(
        self, session: Session, table: Any, records: list[Record]
    ) -> dict[tuple[str, str], Any]:
        by_source: dict[str, list[str]] = defaultdict(list)
        for record in records:
            by_source[record.source].append(record.source_id)
        found: dict[tuple[str, str], Any] = {}
        for source, ids in by_source.items():
            for part in batches(ids):
                # Plain rows, not ORM objects: only compared, never changed in place.
                query = select(table.__table__).where(
                    table.source == source,
                    table.source_id.in_(part),
                )
                for row in session.execute(query):
                    found[(row.source, row.source_id)] = row
        return found

    def _write(
        self,
        session: Session,
        table: Any,
        inserts: list[dict[str, Any]],
        updates: list[dict[str, Any]],
        seen: list[int],
        now: datetime,
    ) -> None:
        if inserts:
            self._insert_rows(session, table, inserts)
        if updates:
            for group in _same_keys(updates):
                session.execute(update(table), group)
        for part in batches(seen):
            session.execute(
                update(table)
                .where(table.id.in_(part))
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
        session.expunge_all()

    def _deal_changes(
        self, deal: Deal, changed: dict[str, Any], source: str
    ) -> list[dict[str, Any]]:
        at = self.clock.now()
        if "stage" in changed and "stage_entered_on" not in changed:
            changed["stage_entered_on"] = at.date()
        rows = [
            {
                "deal_id": deal.id,
                "field": name,
                "old_value": _text(getattr(deal, name)),
                "new_value": _text(changed[name]),
                "changed_at": at,
                "source": source,
            }
            for name in TRACKED_DEAL_FIELDS
            if name in changed
        ]
        for row in rows:
            self._derived[(row["deal_id"], row["field"], row["new_value"])] = at
        return rows

    def _insert_rows(
        self, session: Session, table: Any, rows: list[dict[str, Any]]
    ) -> None:
        _insert(session, table, rows)
        if self.engine.dialect.name != "postgresql":
            return
        name = table.__tablename__
        self._inserted[name] += len(rows)
        done = self._inserted[name]
        if done >= max(ANALYZE_AFTER, 2 * self._analyzed_at.get(name, 0)):
            session.execute(text(f"ANALYZE {name}"))
            self._analyzed_at[name] = done

    def _drop_derived(self, session: Session, changes: list[dict[str, Any]]) -> None:
        """The source's own history replaces the change this sync noticed itself.

        When a deal's stage changes, the update above records the change at sync
        time; the source's history then brings the same change with its real
        time. Keeping both would count it twice.
        """
        doomed = []
        for values in changes:
            key = (values["deal_id"], values.get("field"), values.get("new_value"))
            at = self._derived.pop(key, None)
            if at is not None:
                doomed.append({"deal": key[0], "field": key[1], "at": at})
        if doomed:
            table: Any = DealChange.__table__  # Core: one executemany
            session.execute(
                delete(table).where(
                    table.c.deal_id == bindparam("deal"),
                    table.c.field == bindparam("field"),
                    table.c.changed_at == bindparam("at"),
                ),
                doomed,
            )

    def _load_deal_changes(self, session: Session, chunk: list[Record]) -> None:
        """History rows from a source (stage / amount / close-date changes).

        A change already stored for the same deal, field and instant is not added
        again. One query per chunk finds those, so a chunk costs two statements.
        """
        resolved = self._resolve(session, chunk)
        self._drop_derived(session, [values for _, values in resolved])
        seen = _stored_changes(session, {values["deal_id"] for _, values in resolved})
        rows = []
        for record, values in resolved:
            key = (values["deal_id"], values.get("field"), values.get("changed_at"))
            if key in seen:
                self.report.count(record, "unchanged")
                continue
            seen.add(key)
            rows.append({**values, "source": record.source})
            self.report.count(record, "new")
        if rows:
            self._insert_rows(session, DealChange, rows)


def _storable(text: str) -> str:
    """Text every database takes: no NUL, no lone surrogate (a vendor's cut-off
    emoji escape decodes to one, and no driver can encode it)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _stored_changes(session: Session, deal_ids: set[Any]) -> set[tuple[Any, ...]]:
    found: set[tuple[Any, ...]] = set()
    for part in batches(sorted(deal_ids)):
        rows = session.execute(
            select(DealChange.deal_id, DealChange.field, DealChange.changed_at).where(
                DealChange.deal_id.in_(part)
            )
        )
        found.update((row[0], row[1], row[2]) for row in rows)
    return found


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk insert with one executemany per column set, through Core.

    NOTE: ORM bulk INSERT leaves None values out of a row and starts a new
    executemany whenever a row's set of columns differs from the previous row's:
    1,000 people whose roles are sometimes None took 534 statements. A Core insert
    of the table sends None as NULL and also skips the ORM's per-row bookkeeping
    (about a quarter of the insert time). A None is still left out where the
    column has a default, so that the default applies as before.
    """
    defaulted = _defaulted(table)
    if defaulted:
        rows = [
            {k: v for k, v in row.items() if v is not None or k not in defaulted}
            for row in rows
        ]
    for group in _same_keys(rows):
        session.execute(insert(table.__table__), group)


@functools.cache
def _numeric_limits(table: Any) -> dict[str, int]:
    """Digits before the point that each NUMERIC column holds."""
    if table is None:
        return {}
    return {
        c.key: c.type.precision - (c.type.scale or 0)
        for c in table.__table__.columns
        if isinstance(c.type, Numeric)
        and not isinstance(c.type, Float)
        and c.type.precision
    }


@functools.cache
def _string_limits(table: Any) -> dict[str, int]:
    if table is None:
        return {}
    return {
        c.key: c.type.length
        for c in table.__table__.columns
        if isinstance(c.type, String) and c.type.length and c.key != "source_id"
    }


@functools.cache
def _columns(table: Any) -> frozenset[str]:
    return frozenset(table.__table__.columns.keys())


@functools.cache
def _defaulted(table: Any) -> frozenset[str]:
    return frozenset(
        c.name
        for c in table.__table__.columns
        if c.default is not None or c.server_default is not None
    )


def _chunks(records: Iterable[Record]) -> Iterator[list[Record]]:
    """Consecutive records of one kind, at most CHUNK, never one id twice."""
    chunk: list[Record] = []
    keys: set[tuple[str, str]] = set()
    iterator = iter(records)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            break
        except Exception:
            if chunk:
                yield chunk  # load what the source handed over before it failed
            raise
        key = (record.source, record.source_id)
        if chunk and (
            record.kind != chunk[0].kind or key in keys or len(chunk) >= CHUNK
        ):
            yield chunk
            chunk, keys = [], set()
        chunk.append(record)
        keys.add(key)
    if chunk:
        yield chunk


def _same_keys(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """executemany needs one column set per call; partial records may differ."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    yield from groups.values()


@functools.cache
def _json_columns(table: Any) -> frozenset[str]:
    if table is None:
        return frozenset()
    return frozenset(c.key for c in table.__table__.columns if isinstance(c.type, JSON))


def _derive_keys(values: dict[str, Any], columns: frozenset[str]) -> None:
    if "name_key" in columns and values.get("name") is not None:
        values["name_key"] = name_key(str(values["name"]))
    if "email_key" in columns and "email" in values:
        values["email_key"] = email_key(values["email"])
    if "domain" in columns and values.get("domain") is not None:
        values["domain"] = domain_of(str(values["domain"]))


def _new_row(record: Record, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        **values,
        "source": record.source,
        "source_id": record.source_id,
        "last_seen_at": now,
        "updated_at": now,
    }


def _changes(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not _same(getattr(row, k), v)}


def _same(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is new
    try:
        return bool(old == new) or float(old) == float(new)
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
