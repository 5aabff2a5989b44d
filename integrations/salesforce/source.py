"""``kind: salesforce``: the config keys and the sync of one Salesforce org.

Each object is read with one SOQL query ordered by ``SystemModstamp, Id``; the
object's cursor is the newest ``SystemModstamp`` seen (``CreatedDate`` for field
history, whose rows never change), and a later sync asks only for what changed
after it. Deleted and merged records are not in ``/query``: a later sync also asks
``/queryAll`` for ``IsDeleted = true`` since the cursor and marks them. The first
sync reads everything live and no recycle bin, so nothing deleted is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from context.clock import Clock
from context.records import Record, Rejection
from integrations.http import HttpSource, RetryPolicy, SourceClient, make_client
from integrations.salesforce import records, soql
from integrations.salesforce.auth import DEFAULT_TOKEN_URL, credentials, renewer
from integrations.salesforce.client import SalesforceApi
from integrations.source import SyncState
from integrations.vendor_values import cursor_time

logger = logging.getLogger(__name__)

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
Converter = Callable[[str, Any], Record | Rejection]


class SalesforceSource(HttpSource):
    """A Salesforce org at ``base_url``, its instance URL
    (``https://<domain>.my.salesforce.com``), read with an OAuth access token."""

    kind: Literal["salesforce"]
    api_version: str = Field("v61.0", pattern=r"^v\d+\.\d$")
    token_env: str = Field("SALESFORCE_ACCESS_TOKEN", pattern=ENV_NAME)
    client_id_env: str = Field("SALESFORCE_CLIENT_ID", pattern=ENV_NAME)
    client_secret_env: str = Field("SALESFORCE_CLIENT_SECRET", pattern=ENV_NAME)
    refresh_token_env: str = Field("SALESFORCE_REFRESH_TOKEN", pattern=ENV_NAME)
    token_url: str = Field(DEFAULT_TOKEN_URL, min_length=1)
    users_as_reps: bool = False
    # Only opportunities of orgs with multiple currencies have CurrencyIsoCode;
    # asking for it elsewhere is an INVALID_FIELD error.
    multi_currency: bool = False
    # OpportunityFieldHistory exists once field history tracking is on.
    deal_history: bool = True
    # Read only these accounts (by owner e-mail, by name) and what hangs under them.
    account_owners: tuple[str, ...] = ()
    account_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listing:
    """One object read by one query: what to select and how to convert it.

    ``account`` is the relationship path from the object to its account, for the
    configured account scope; None: the object is never scoped (users).
    """

    sobject: str
    fields: tuple[str, ...]
    convert: Converter
    account: str | None
    stamp: str = "SystemModstamp"
    deletable: bool = True
    where: tuple[str, ...] = ()


def listings(source: SalesforceSource) -> list[Listing]:
    """The objects a sync reads, in the order the loader needs their kinds."""
    currency = ("CurrencyIsoCode",) if source.multi_currency else ()
    found = [
        Listing(
            "Account",
            (
                *("Id", "Name", "Website", "Industry", "NumberOfEmployees"),
                *("AnnualRevenue", "BillingCity", "BillingState", "BillingCountry"),
                *("Parent.Name", "OwnerId", "Owner.Email", "Owner.Name"),
                *("IsDeleted", "MasterRecordId", "SystemModstamp"),
            ),
            records.account,
            "",
        ),
        Listing(
            "Contact",
            (
                *("Id", "Name", "FirstName", "LastName", "Email", "Title"),
                *("AccountId", "IsDeleted", "MasterRecordId", "SystemModstamp"),
            ),
            records.contact,
            "Account.",
        ),
        Listing(
            "Opportunity",
            (
                *("Id", "Name", "StageName", "IsClosed", "IsWon", "Amount"),
                *("CloseDate", "CreatedDate", "AccountId", "OwnerId", "Owner.Email"),
                *("Owner.Name", *currency, "IsDeleted", "SystemModstamp"),
            ),
            records.opportunity,
            "Account.",
        ),
    ]
    if source.deal_history:
        found.append(
            Listing(
                "OpportunityFieldHistory",
                ("Id", "OpportunityId", "Field", "OldValue", "NewValue", "CreatedDate"),
                records.field_change,
                "Opportunity.Account.",
                stamp="CreatedDate",
                deletable=False,
                where=(soql.one_of("Field", records.HISTORY_FIELDS),),
            )
        )
    activity = ("Id", "Subject", "Description", "Type", "ActivityDate", "CreatedDate")
    links = ("WhatId", "WhoId", "AccountId", "IsDeleted", "SystemModstamp")
    found += [
        Listing("Task", (*activity, "TaskSubtype", *links), records.task, "Account."),
        Listing(
            "Event",
            (*activity, "EventSubtype", "ActivityDateTime", "StartDateTime", *links),
            records.event,
            "Account.",
        ),
    ]
    if source.users_as_reps:
        users = ("Id", "Name", "FirstName", "LastName", "Email", "SystemModstamp")
        found.insert(0, Listing("User", users, records.user, None, deletable=False))
    return found


def read_salesforce(
    source: SalesforceSource, state: SyncState, clock: Clock
) -> Iterator[Record | Rejection]:
    """Users (as reps if asked), accounts, contacts, opportunities, their history,
    tasks and events; ``state.next_cursor`` is set once all are handed over."""
    del clock  # Salesforce's times are real times, whatever "now" the config fixes
    grant_envs = (
        source.client_id_env,
        source.client_secret_env,
        source.refresh_token_env,
    )
    found = credentials(source.name, source.token_env, grant_envs, source.token_url)
    policy = RetryPolicy(source.max_attempts, max_wait=source.max_retry_wait)
    with make_client(source, {"Accept": "application/json"}, state.transport) as http:
        renew = renewer(found, http)
        if found.access_token is not None:
            http.headers["Authorization"] = f"Bearer {found.access_token}"
        elif renew is not None:
            http.headers.update(renew())
        client = SourceClient(source.name, http, policy, found.hint(), refresh=renew)
        api = SalesforceApi(client, source.api_version)
        cursor = dict(state.cursor or {})
        listed = []
        for listing in listings(source):
            since = _since(cursor.get(listing.sobject))
            listed.append(since is None)
            newest = yield from _read(source, api, listing, since)
            if newest is not None:
                cursor[listing.sobject] = newest.isoformat()
    state.next_cursor = cursor
    state.complete = all(listed)


def _read(
    source: SalesforceSource,
    api: SalesforceApi,
    listing: Listing,
    since: datetime | None,
) -> Generator[Record | Rejection, None, datetime | None]:
    """One object's changes (and, after the first sync, its deletions); returns the
    newest stamp seen, or ``since`` when nothing changed."""
    newest, count, deleted = since, 0, 0
    where = [*listing.where, *_scope(source, listing)]
    if since is not None:
        where.append(f"{listing.stamp} > {soql.moment(since)}")
    order = (listing.stamp, "Id")
    queries = [(soql.select(listing.fields, listing.sobject, where, order), False)]
    if since is not None and listing.deletable:
        gone = soql.select(
            listing.fields, listing.sobject, ["IsDeleted = true", *where]
        )
        queries.append((gone, True))
    for text, with_deleted in queries:
        for page in api.query(text, with_deleted=with_deleted):
            for raw in page.items:
                yield listing.convert(source.name, raw)
                moment = records.stamp(raw, listing.stamp)
                if moment is not None and (newest is None or moment > newest):
                    newest = moment
            count += 0 if with_deleted else len(page.items)
            deleted += len(page.items) if with_deleted else 0
    logger.info(
        "%s: %d %s read, %d deleted", source.name, count, listing.sobject, deleted
    )
    return newest


def _scope(source: SalesforceSource, listing: Listing) -> list[str]:
    """The configured account scope as conditions on ``listing``'s object."""
    if listing.account is None:
        return []
    conditions = []
    if source.account_owners:
        field = f"{listing.account}Owner.Email"
        conditions.append(soql.one_of(field, source.account_owners))
    if source.account_names:
        conditions.append(soql.one_of(f"{listing.account}Name", source.account_names))
    return conditions


def _since(value: Any) -> datetime | None:
    return cursor_time(value, "Salesforce")


SETTINGS = SalesforceSource
read = read_salesforce
