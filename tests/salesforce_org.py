"""A Salesforce org stand-in for ``httpx.MockTransport``, filled from the recorded
REST responses in ``../shared/data`` and answering as Salesforce does: SOQL through
``/query`` and ``/queryAll`` (SELECT with relationship fields, WHERE with ``=``,
``>`` and ``IN`` joined by AND, ORDER BY), ``nextRecordsUrl`` paging, 400
INVALID_FIELD / MALFORMED_QUERY, 401 INVALID_SESSION_ID for an expired token and the
OAuth refresh-token endpoint. Every SOQL text received is kept, to check escaping.
"""

from __future__ import annotations

import copy
import json
import re
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

TOKEN = "00Dtest!access-token"
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = (
    "3MVG9-client",
    "client-secret",
    "5Aep-refresh",
)
RECORDED = Path("api_shapes/recorded_responses_nango_elv2/salesforce")
SAMPLES = Path("crm/salesforce_sample_data")
VERSION = "v61.0"
OWNER = "005dM00000aYf0qQAC"  # the recorded user who owns every opportunity
STAMP = "2026-05-01T07:25:37.000+0000"
# The fields each object has; selecting another is INVALID_FIELD, as in a real org.
SCHEMA = {
    "User": "Id Name FirstName LastName Email Username IsActive SystemModstamp",
    "Account": "Id Name Website Industry NumberOfEmployees AnnualRevenue BillingCity "
    "BillingState BillingCountry ParentId OwnerId IsDeleted MasterRecordId "
    "SystemModstamp Type",
    "Contact": "Id Name FirstName LastName Email Title AccountId IsDeleted "
    "MasterRecordId SystemModstamp",
    "Opportunity": "Id Name StageName IsClosed IsWon Amount CloseDate CreatedDate "
    "AccountId OwnerId IsDeleted SystemModstamp",
    "OpportunityFieldHistory": "Id OpportunityId Field OldValue NewValue CreatedDate "
    "IsDeleted",
    "Task": "Id Subject Description Type TaskSubtype ActivityDate CreatedDate WhatId "
    "WhoId AccountId IsDeleted SystemModstamp",
    "Event": "Id Subject Description Type EventSubtype ActivityDate ActivityDateTime "
    "StartDateTime CreatedDate WhatId WhoId AccountId IsDeleted SystemModstamp",
}
# relationship name → (id field, object)
LOOKUPS = {
    "Owner": ("OwnerId", "User"),
    "Parent": ("ParentId", "Account"),
    "Account": ("AccountId", "Account"),
    "Opportunity": ("OpportunityId", "Opportunity"),
}
TOKENS = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>[=>(),])|(?P<word>[\w.:+\-]+))"
)
UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


class BadQuery(ValueError):
    """What Salesforce answers 400 for: an error code and its message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def recorded(data: Path, name: str) -> list[dict[str, Any]]:
    body = json.loads((data / RECORDED / f"{name}.json").read_text())
    return copy.deepcopy(body[0]["response"]["records"])


class Org:
    """Records by object, the valid tokens, faults to inject and a request log."""

    def __init__(self, data: Path, page_size: int = 25) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMA}
        for user in recorded(data, "users"):
            user["Name"] = " ".join(
                p for p in (user["FirstName"], user["LastName"]) if p
            )
            self.add("User", user)
        self._accounts(data)
        for contact in recorded(data, "contacts"):
            contact["Name"] = " ".join(
                p for p in (contact["FirstName"], contact["LastName"]) if p
            )
            self.add("Contact", contact)
        accounts = [a["Id"] for a in self.objects["Account"]]
        for index, deal in enumerate(recorded(data, "opportunities")):
            closed = deal["StageName"].startswith("Closed")
            deal.update(IsClosed=closed, IsWon=deal["StageName"] == "Closed Won")
            deal.update(AccountId=accounts[index % len(accounts)], CreatedDate=STAMP)
            self.add("Opportunity", deal)
        self.tokens = {TOKEN}
        self.instance_url: str | None = None  # sent back with a refreshed token
        self.multi_currency = False
        self.page_size = page_size
        self.ignore_locator = False  # answer every nextRecordsUrl with page one
        self.faults: dict[str, deque[httpx.Response | Exception]] = {}
        self.queries: list[tuple[str, str]] = []  # (endpoint, SOQL)
        self.requests: list[httpx.Request] = []
        self._locators: dict[str, list[dict[str, Any]]] = {}

    def _accounts(self, data: Path) -> None:
        """The recorded accounts, and those the recorded contacts point at, named
        after the sample data's accounts."""
        accounts = recorded(data, "query-records")
        samples = json.loads((data / SAMPLES / "lwc_recipes_Accounts.json").read_text())
        names = iter(r["Name"] for r in samples["records"])
        known = {a["Id"] for a in accounts}
        wanted = sorted(
            {c["AccountId"] for c in recorded(data, "contacts") if c["AccountId"]}
        )
        accounts += [{"Id": i, "Name": next(names)} for i in wanted if i not in known]
        for account in accounts:
            account.update(OwnerId=OWNER, IsDeleted=False)
            self.add("Account", account)

    def add(self, sobject: str, record: dict[str, Any]) -> dict[str, Any]:
        record.setdefault("attributes", {"type": sobject, "url": self._url(sobject)})
        record.setdefault("IsDeleted", False)
        if sobject != "OpportunityFieldHistory":
            record.setdefault("SystemModstamp", STAMP)
        self.objects[sobject].append(record)
        return record

    def find(self, sobject: str, record_id: str) -> dict[str, Any]:
        return next(r for r in self.objects[sobject] if r["Id"] == record_id)

    def touch(self, sobject: str, record_id: str, at: datetime, **fields: Any) -> None:
        """Change a record as a Salesforce user would, at ``at``."""
        record = self.find(sobject, record_id)
        record.update(fields)
        record["SystemModstamp"] = stamp(at)

    def fail(self, path: str, *answers: httpx.Response | Exception) -> None:
        self.faults.setdefault(path, deque()).extend(answers)

    def soql(self, sobject: str) -> list[str]:
        return [q for _, q in self.queries if f" FROM {sobject}" in q]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        queue = self.faults.get(path)
        if queue:
            fault = queue.popleft()
            if isinstance(fault, Exception):
                raise fault
            return fault
        if path == "/services/oauth2/token":
            return self._token(request)
        if request.headers.get("authorization") not in {
            f"Bearer {t}" for t in self.tokens
        }:
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        root = f"/services/data/{VERSION}/"
        if not path.startswith(root):
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        endpoint, _, locator = path[len(root) :].partition("/")
        if locator:
            return self._more(locator)
        soql = request.url.params.get("q", "")
        self.queries.append((endpoint, soql))
        try:
            found = self._select(soql, with_deleted=endpoint == "queryAll")
        except BadQuery as error:
            return _error(400, error.code, str(error))
        return self._page(found, 0)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        expected = {
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        }
        if form != expected:
            body = {
                "error": "invalid_grant",
                "error_description": "expired access/refresh token",
            }
            return httpx.Response(400, json=body)
        token = f"00Dtest!renewed-{len(self.tokens)}"
        self.tokens.add(token)
        body = {"access_token": token, "token_type": "Bearer", "issued_at": "1"}
        if self.instance_url:
            body["instance_url"] = self.instance_url
        return httpx.Response(200, json=body)

    def _more(self, locator: str) -> httpx.Response:
        key, _, offset = locator.rpartition("-")
        found = self._locators.get(key)
        if found is None:
            return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(found, 0 if self.ignore_locator else int(offset))

    def _page(self, found: list[dict[str, Any]], start: int) -> httpx.Response:
        rows = found[start : start + self.page_size]
        body: dict[str, Any] = {"totalSize": len(found), "done": True, "records": rows}
        if start + self.page_size < len(found):
            key = f"01gTEST{len(self._locators):08d}"
            self._locators[key] = found
            body["done"] = False
            body["nextRecordsUrl"] = (
                f"/services/data/{VERSION}/query/{key}-{start + self.page_size}"
            )
        return httpx.Response(200, json=body)

    def _select(self, soql: str, with_deleted: bool) -> list[dict[str, Any]]:
        fields, sobject, where, order = parse(soql)
        valid = set(SCHEMA[sobject].split())
        if sobject == "Opportunity" and self.multi_currency:
            valid.add("CurrencyIsoCode")
        for name in fields:
            if name.split(".")[0] not in valid and name.split(".")[0] not in LOOKUPS:
                raise BadQuery("INVALID_FIELD", f"No such column '{name}' on {sobject}")
        rows = [
            r
            for r in self.objects[sobject]
            if (with_deleted or not r["IsDeleted"])
            and all(self._holds(sobject, r, c) for c in where)
        ]
        rows.sort(key=lambda r: [str(self._value(sobject, r, n) or "") for n in order])
        return [self._project(sobject, r, fields) for r in rows]

    def _holds(self, sobject: str, row: dict[str, Any], condition: Any) -> bool:
        name, op, wanted = condition
        value = self._value(sobject, row, name)
        if op == "IN":
            return value in wanted
        if op == ">":
            return value is not None and moment(value) > moment(wanted)
        return bool(value == wanted)

    def _value(self, sobject: str, row: dict[str, Any] | None, path: str) -> Any:
        head, _, rest = path.partition(".")
        if row is None:
            return None
        if not rest:
            return row.get(head)
        id_field, target = LOOKUPS[head]
        related = next(
            (r for r in self.objects[target] if r["Id"] == row.get(id_field)), None
        )
        return self._value(target, related, rest)

    def _project(
        self, sobject: str, row: dict[str, Any], fields: list[str]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": row["attributes"]}
        for name in fields:
            head, _, rest = name.partition(".")
            if not rest:
                out[head] = row.get(head)
                continue
            id_field, target = LOOKUPS[head]
            if row.get(id_field) is None:
                out[head] = None
                continue
            nested = out.get(head) or {"attributes": {"type": target}}
            nested[rest] = self._value(sobject, row, name)
            out[head] = nested
        return out

    def _url(self, sobject: str) -> str:
        return f"/services/data/{VERSION}/sobjects/{sobject}"


def parse(soql: str) -> tuple[list[str], str, list[Any], list[str]]:
    """SELECT fields FROM object [WHERE c AND c …] [ORDER BY f, f …]."""
    tokens = _tokens(soql)
    _expect(tokens, "SELECT")
    fields = _names(tokens, stop="FROM")
    sobject = tokens.pop(0)[1]
    if sobject not in SCHEMA:
        raise BadQuery("INVALID_TYPE", f"sObject type '{sobject}' is not supported")
    where: list[Any] = []
    if tokens and tokens[0][1].upper() == "WHERE":
        tokens.pop(0)
        where.append(_condition(tokens))
        while tokens and tokens[0][1].upper() == "AND":
            tokens.pop(0)
            where.append(_condition(tokens))
    order: list[str] = []
    if tokens:
        _expect(tokens, "ORDER")
        _expect(tokens, "BY")
        order = _names(tokens, stop=None)
    return fields, sobject, where, order


def _tokens(soql: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(soql.rstrip()):
        match = TOKENS.match(soql, at)
        if match is None or match.end() == at:
            raise BadQuery(
                "MALFORMED_QUERY", f"unexpected text at {soql[at : at + 20]!r}"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


def _names(tokens: list[tuple[str, str]], stop: str | None) -> list[str]:
    names = []
    while tokens and (stop is None or tokens[0][1].upper() != stop):
        kind, text = tokens.pop(0)
        if kind == "word":
            names.append(text)
        elif text != ",":
            raise BadQuery("MALFORMED_QUERY", f"unexpected token {text!r}")
    if stop is not None:
        _expect(tokens, stop)
    return names


def _condition(tokens: list[tuple[str, str]]) -> tuple[str, str, Any]:
    name = tokens.pop(0)[1]
    op = tokens.pop(0)[1].upper()
    if op == "IN":
        _expect(tokens, "(")
        values = [_value(tokens.pop(0))]
        while tokens[0][1] == ",":
            tokens.pop(0)
            values.append(_value(tokens.pop(0)))
        _expect(tokens, ")")
        return name, op, values
    if op not in ("=", ">"):
        raise BadQuery("MALFORMED_QUERY", f"unexpected operator {op!r}")
    return name, op, _value(tokens.pop(0))


def _value(token: tuple[str, str]) -> Any:
    kind, text = token
    if kind == "str":
        return unescape(text[1:-1])
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind == "word" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text):
        return text
    raise BadQuery("MALFORMED_QUERY", f"unexpected value {text!r}")


def unescape(text: str) -> str:
    """A SOQL string's content; ``\\%`` and ``\\_`` are valid only in LIKE."""
    out, chars = [], iter(text)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars)
        if escaped in "'\"\\":
            out.append(escaped)
        elif escaped in UNESCAPE:
            out.append(UNESCAPE[escaped])
        else:
            raise BadQuery(
                "MALFORMED_QUERY",
                f"Invalid string literal '{text}'. Illegal "
                "character sequence '\\" + escaped + "' in string literal.",
            )
    return "".join(out)


def _expect(tokens: list[tuple[str, str]], word: str) -> None:
    if not tokens or tokens.pop(0)[1].upper() != word:
        raise BadQuery("MALFORMED_QUERY", f"expected {word}")


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def stamp(at: datetime) -> str:
    """Salesforce's own format: ``2026-05-06T11:36:42.000+0000``."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json=[{"message": message, "errorCode": code}])
