"""One account per customer: the accounts of several sources become one.

A record tied to another source's account (by a crosswalk, an explicit link such
as a CRM id in Stripe metadata, a shared web domain, or a unique equal name where
the source allows it) fills that account's empty fields instead of making a second
account. A billing account (``secondary``) yields to a CRM account of the same
customer whichever arrives first; a row of its own stored before the tie is folded
into the survivor, children and all.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from context.identity import accounts_by_domain, accounts_by_name, company_domain
from context.models import (
    Account,
    AccountAlias,
    Activity,
    Conversation,
    Deal,
    Invoice,
    Meeting,
    Person,
    Subscription,
    UsageRecord,
)
from context.records import Record
from context.store_keys import (
    ID_LENGTH,
    alias_rows,
    batches,
    is_tombstone,
    key_of,
    rows_by_key,
)

if TYPE_CHECKING:
    from context.load import Loader

logger = logging.getLogger(__name__)

# What a merged account never takes from the record merged into it.
KEPT_ON_MERGE = frozenset(
    {"name", "name_key", "deleted_at", "merged_into", "secondary"}
)
# Tables whose rows hang off an account: moved when two accounts become one.
ACCOUNT_CHILDREN = (
    Person,
    Deal,
    Activity,
    Conversation,
    UsageRecord,
    Subscription,
    Invoice,
    Meeting,
)
# The source name of aliases the loader itself stores when it joins accounts.
IDENTITY_SOURCE = "foresight.identity"


class AccountMerge:
    """The account part of one ``Loader``: it writes through the loader's upsert
    and counts in its report."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader

    def upsert(
        self, session: Session, rows: list[tuple[Record, dict[str, Any]]]
    ) -> None:
        """Accounts also merge: a record tied to another source's account (by a
        crosswalk, a link, a domain or a name) fills that account's empty fields
        instead of making a second one; a row of its own stored before the tie is
        folded into that account, children and all."""
        own = self.loader._existing(session, Account, [r for r, _ in rows])
        keys = {key_of(r) for r, _ in rows}
        aliased = set(self.loader._aliases(session, keys))
        newcomers = [
            (r, v)
            for r, v in rows
            if key_of(r) not in own and key_of(r) not in aliased and not is_tombstone(r)
        ]
        aliased |= self._join_accounts(session, newcomers)
        plain: list[tuple[Record, dict[str, Any]]] = []
        tied: list[tuple[Record, dict[str, Any]]] = []
        survivors: dict[int, tuple[str, str]] = {}
        for record, values in rows:
            row = own.get(key_of(record))
            if is_tombstone(record) and row is not None:
                plain.append((record, values))  # marks the stored row
                if record.fields.get("merged_into") and row.deleted_at is None:
                    survivors[row.id] = (record.source, record.fields["merged_into"])
            elif key_of(record) in aliased:
                tied.append((record, values))
            else:
                plain.append((record, values))
        if plain:
            self.loader._upsert(session, Account, plain, own)

        # Targets are looked up once this chunk's own accounts are stored.
        ids = (
            self.loader.account_ids(session, {key_of(r) for r, _ in tied})
            if tied
            else {}
        )
        alone: list[tuple[Record, dict[str, Any]]] = []
        merging: list[tuple[Record, dict[str, Any], int]] = []
        folded: dict[int, int] = {}
        for record, values in tied:
            row, target = own.get(key_of(record)), ids.get(key_of(record))
            if target is None or (row is not None and target == row.id):
                alone.append((record, values))  # its CRM account is not stored yet
                continue
            merging.append((record, values, target))
            if row is not None and row.deleted_at is None:
                folded[row.id] = target
        if alone:
            self.loader._upsert(session, Account, alone, own)
        if survivors:
            found = self.loader.account_ids(session, set(survivors.values()))
            folded |= {
                old: found[key]
                for old, key in survivors.items()
                if key in found and found[key] != old
            }
        if folded:
            self._fold(session, folded)
        self._merge_into(session, merging)
        claimants = [
            (r, v)
            for r, v in plain + alone
            if key_of(r) not in own and not v.get("secondary") and not is_tombstone(r)
        ]
        self._claim_secondary(session, claimants)

    def _merge_into(
        self, session: Session, merging: list[tuple[Record, dict[str, Any], int]]
    ) -> None:
        """Fill the target accounts' empty fields from the records tied to them."""
        if not merging:
            return
        wanted = {target for _, _, target in merging}
        targets = {
            a.id: a
            for a in session.scalars(select(Account).where(Account.id.in_(wanted)))
        }
        now = datetime.now(UTC)
        for record, values, target_id in merging:
            target = targets[target_id]
            if is_tombstone(record):
                self.loader.report.count(record, "unchanged")  # the survivor stays live
                continue
            fill = {
                k: v
                for k, v in values.items()
                if k not in KEPT_ON_MERGE
                and v is not None
                and getattr(target, k) is None
            }
            if fill:
                session.execute(
                    update(Account),
                    [{"id": target.id, **fill, "updated_at": now, "last_seen_at": now}],
                )
                for name, value in fill.items():
                    setattr(target, name, value)
            self.loader.report.count(record, "updated" if fill else "unchanged")
        session.expunge_all()

    def _fold(self, session: Session, moves: dict[int, int]) -> None:
        """Move everything on account A to account B, and mark A deleted: A was a
        second row for B's customer."""
        now = datetime.now(UTC)
        pairs = [{"old": old, "new": new} for old, new in moves.items()]
        for model in ACCOUNT_CHILDREN:
            table: Any = model.__table__  # Core: one executemany per table
            move = update(table).where(table.c.account_id == bindparam("old"))
            session.execute(move.values(account_id=bindparam("new")), pairs)
        session.execute(
            update(Account)
            .where(Account.id.in_(moves), Account.deleted_at.is_(None))
            .values(deleted_at=now, updated_at=now)
        )
        logger.info(
            "folded %d accounts into the account of the same customer", len(moves)
        )

    def _claim_secondary(
        self, session: Session, rows: list[tuple[Record, dict[str, Any]]]
    ) -> None:
        """New CRM accounts take over billing or product accounts of the same
        customer stored before them: those that linked to them, or that share their
        domain. Whatever order sources are synced in, the CRM account survives."""
        if not rows:
            return
        mine = self.loader.account_ids(session, {key_of(r) for r, _ in rows})
        moves: dict[int, int] = {}
        aliases: dict[tuple[str, str], tuple[str, str]] = {}
        awaiting = self._links_to(session, set(mine))
        stored = rows_by_key(session, Account, set(awaiting), [Account.deleted_at])
        for alias, target in awaiting.items():
            row = stored.get(alias)  # its own row, not through the alias
            if row is not None and row[2] is None and row[0] != mine[target]:
                moves[row[0]] = mine[target]
        domains = {
            d: key_of(r) for r, v in rows if (d := company_domain(v.get("domain")))
        }
        sharing = _secondary_accounts(session, set(domains))
        tied = self.loader._aliases(session, {(a.source, a.source_id) for a in sharing})
        for account in sharing:
            claimant = domains[str(account.domain)]
            key = (account.source, account.source_id)
            if account.source == claimant[0] or account.id in moves or key in tied:
                continue  # its own CRM's, taken already, or tied to another account
            moves[account.id] = mine[claimant]
            aliases[key] = claimant
        if aliases:
            self._store_aliases(session, aliases)
        if moves:
            self._fold(session, moves)

    def _links_to(
        self, session: Session, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, str]]:
        """Alias key → target key, for aliases pointing at ``keys``."""
        return alias_rows(
            session, AccountAlias.target_source, AccountAlias.target_id, keys
        )

    def _join_accounts(
        self, session: Session, rows: list[tuple[Record, dict[str, Any]]]
    ) -> set[tuple[str, str]]:
        """Tie new accounts to the same customer already stored by another source.

        Strongest evidence first: an explicit link (a CRM id in Stripe metadata),
        then the web domain, then a unique equal name where the source allows it.
        The tie is stored as an alias, so the record and everything pointing at it
        land on that account.
        """
        if not rows:
            return set()
        links = {(link.source, link.id) for r, _ in rows for link in r.links}
        linked = self.loader.account_ids(session, links) if links else {}
        targets: dict[tuple[str, str], tuple[int, str]] = {}
        awaited: dict[tuple[str, str], tuple[str, str]] = {}
        for record, values in rows:
            hit = next(
                (
                    linked[(k.source, k.id)]
                    for k in record.links
                    if (k.source, k.id) in linked
                ),
                None,
            )
            if hit is not None:
                targets[key_of(record)] = (hit, "link")
            elif record.links and values.get("secondary"):
                # The CRM account is not stored yet: keep the tie for when it is.
                awaited[key_of(record)] = (record.links[0].source, record.links[0].id)
        for source in {r.source for r, _ in rows}:
            pending = [
                (r, v)
                for r, v in rows
                if r.source == source and key_of(r) not in targets | awaited.keys()
            ]
            self._join_by_keys(session, source, pending, targets)
        if targets:
            self._store_joins(session, targets)
        if awaited:
            self._store_aliases(session, awaited)
        return set(targets) | set(awaited)

    def _join_by_keys(
        self,
        session: Session,
        source: str,
        rows: list[tuple[Record, dict[str, Any]]],
        targets: dict[tuple[str, str], tuple[int, str]],
    ) -> None:
        domains = {d for _, v in rows if (d := company_domain(v.get("domain")))}
        keys = {str(v["name_key"]) for r, v in rows if r.join_by_name and v["name_key"]}
        by_domain, by_name = {}, {}
        for primary_only in (False, True):
            # A billing account joins any account; a CRM account only another CRM's.
            chosen = [
                (r, v) for r, v in rows if bool(v.get("secondary")) != primary_only
            ]
            if not chosen:
                continue
            found_domains = accounts_by_domain(
                session, domains, exclude_source=source, primary_only=primary_only
            )
            found_names = accounts_by_name(
                session, keys, exclude_source=source, primary_only=primary_only
            )
            for record, _ in chosen:
                by_domain[key_of(record)] = found_domains
                by_name[key_of(record)] = found_names
        for record, values in rows:
            domain = company_domain(values.get("domain"))
            key = (record.source, record.source_id)
            if key not in by_domain:
                continue
            if domain and domain in by_domain[key]:
                targets[key] = (by_domain[key][domain], "domain")
            elif record.join_by_name and values.get("name_key") in by_name[key]:
                targets[key] = (by_name[key][str(values["name_key"])], "name")

    def _store_joins(
        self, session: Session, targets: dict[tuple[str, str], tuple[int, str]]
    ) -> None:
        ids = {account_id for account_id, _ in targets.values()}
        query = select(Account.id, Account.source, Account.source_id)
        keys = {
            row.id: (row.source, row.source_id)
            for row in session.execute(query.where(Account.id.in_(ids)))
        }
        self._store_aliases(
            session,
            {alias: keys[account_id] for alias, (account_id, _) in targets.items()},
        )
        by_how = Counter(how for _, how in targets.values())
        logger.info(
            "joined %d new accounts to accounts already stored (%s)",
            len(targets),
            ", ".join(f"{n} by {how}" for how, n in sorted(by_how.items())),
        )

    def _store_aliases(
        self, session: Session, ties: dict[tuple[str, str], tuple[str, str]]
    ) -> None:
        """Store that each alias key is the account at its target key."""
        now = datetime.now(UTC)
        rows = [
            {
                "source": IDENTITY_SOURCE,
                "source_id": f"{source}:{source_id}"[:ID_LENGTH],
                "alias_source": source,
                "alias_id": source_id,
                "target_source": target[0],
                "target_id": target[1],
                "last_seen_at": now,
                "updated_at": now,
            }
            for (source, source_id), target in ties.items()
        ]
        self.loader._insert_rows(session, AccountAlias, rows)


def _secondary_accounts(session: Session, domains: set[str]) -> list[Any]:
    """Live billing or product accounts with one of ``domains``."""
    found: list[Any] = []
    for part in batches(sorted(domains)):
        query = select(
            Account.id, Account.source, Account.source_id, Account.domain
        ).where(
            Account.domain.in_(part),
            Account.secondary.is_(True),
            Account.deleted_at.is_(None),
            Account.merged_into.is_(None),
        )
        found.extend(session.execute(query.order_by(Account.id)))
    return found
