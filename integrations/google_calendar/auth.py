"""Google credentials for the Calendar source: the token endpoint, and OAuth.

A ``Credential`` gives the Authorization header for one calendar's requests and,
when Google answers 401, a fresh one (``SourceClient``'s ``refresh`` hook). Two
kinds exist: a Workspace service account acting as each rep (``service_account``)
and, here, OAuth: an access token, or a client id, a client secret and a refresh
token from which one is fetched. Secrets are read when needed, sent only to the
token endpoint and never logged.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from integrations.errors import CredentialError, SourceError

logger = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
# A token this close to its expiry is replaced before use rather than sent and
# refused mid-page (Google's tokens live an hour; requests and clocks drift).
EARLY = 300.0
LIFETIME = 3600.0  # seconds, when the token endpoint does not say (``expires_in``)


class Credential(Protocol):
    """Authorization headers for one calendar's requests."""

    def headers(self, calendar: str) -> dict[str, str]:
        """The current header, fetched or renewed first when needed."""

    def refresh(self, calendar: str) -> dict[str, str]:
        """A new header after Google refused the current one (401)."""

    def hint(self) -> str:
        """What an admin does about a refused credential."""


@dataclass(frozen=True)
class Token:
    """An access token and the moment (``time.monotonic``) it is to be replaced."""

    value: str = field(repr=False)  # never shown in a traceback or log
    renew_at: float = math.inf

    def fresh(self) -> bool:
        return time.monotonic() < self.renew_at


@dataclass(frozen=True)
class Granted:
    """The token endpoint's answer: its status, its text fields, and the token."""

    status: int
    body: dict[str, str]
    token: Token | None

    def error(self) -> str:
        """Google's reason, e.g. ``unauthorized_client: Client is unauthorized…``."""
        code = self.body.get("error", "")
        text = self.body.get("error_description", "")
        return ": ".join(p for p in (code, text) if p) or "no token"


class TokenEndpoint:
    """Forms POSTed to Google's token endpoint: one INFO line each; an outage is
    retriable, a refusal is for the caller to explain."""

    def __init__(self, source: str, http: httpx.Client, url: str) -> None:
        self.source = source
        self.http = http
        self.url = url

    def grant(self, form: dict[str, str]) -> Granted:
        started = time.monotonic()
        try:
            response = self.http.post(self.url, data=form)
        except httpx.TransportError as error:
            raise SourceError(
                f"source {self.source!r}: the token endpoint {self.url} could not be "
                f"reached ({type(error).__name__}); the next sync will try again",
                retriable=True,
            ) from None
        logger.info(
            "%s POST %s %d %.0f ms",
            self.source,
            self.url,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if response.status_code >= 500:
            raise SourceError(
                f"source {self.source!r}: the token endpoint answered HTTP "
                f"{response.status_code}; the next sync will try again",
                retriable=True,
            )
        body = _json(response)
        value = body.get("access_token")
        if response.status_code != 200 or not value:
            return Granted(response.status_code, body, None)
        return Granted(response.status_code, body, _token(value, body))


class OAuth:
    """An OAuth access token for every calendar, from environment variables."""

    def __init__(
        self,
        source: str,
        endpoint: TokenEndpoint,
        token_env: str,
        client_env: tuple[str, str, str],
        service_account_note: str = "",
    ) -> None:
        self.source = source
        self.endpoint = endpoint
        self.token_env = token_env
        self.client_env = client_env  # client id, client secret, refresh token
        # The other way in, said when nothing is set: the service-account variable.
        self.service_account_note = service_account_note
        self._token: Token | None = None

    def headers(self, calendar: str) -> dict[str, str]:
        """The access token from the environment, or one fetched with the refresh
        credentials (and fetched again shortly before it expires)."""
        if self._token is not None and self._token.fresh():
            return bearer(self._token)
        if self._token is not None:
            return self.refresh(calendar)
        token = os.environ.get(self.token_env, "").strip()
        if token:
            self._token = Token(token)
            return bearer(self._token)
        if not self._can_refresh():
            unset = [n for n in self.client_env if not os.environ.get(n, "").strip()]
            if len(unset) < len(self.client_env):
                raise CredentialError(
                    f"source {self.source!r}: {' and '.join(unset)} not set, so the "
                    f"refresh token cannot be used; {self.hint()}"
                )
            raise CredentialError(
                f"source {self.source!r}: no Google credential is set; {self.hint()}"
                f"{self.service_account_note}"
            )
        return self.refresh(calendar)

    def refresh(self, calendar: str) -> dict[str, str]:
        """A new access token from the refresh token (Google's token endpoint)."""
        if not self._can_refresh():
            raise CredentialError(
                f"source {self.source!r}: Google refused the access token in "
                f"{self.token_env} (expired?) and no refresh token is set; "
                f"{self.hint()}"
            )
        client_id, secret, refresh_token = (
            os.environ[name].strip() for name in self.client_env
        )
        form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": secret,
            "refresh_token": refresh_token,
        }
        granted = self.endpoint.grant(form)
        if granted.token is None:
            raise CredentialError(
                f"source {self.source!r}: Google would not renew the access token "
                f"(HTTP {granted.status} from {self.endpoint.url}: "
                f"{granted.body.get('error_description') or granted.error()}); "
                f"{self.hint()}"
            )
        self._token = granted.token
        return bearer(granted.token)

    def hint(self) -> str:
        client_id, secret, refresh_token = self.client_env
        return (
            f"set {client_id}, {secret} and {refresh_token} to an OAuth client and "
            f"a refresh token granted the scope {SCOPE} by a user who can read the "
            f"configured calendars (or {self.token_env} to a current access token), "
            "and check that each calendar is shared with that user"
        )

    def _can_refresh(self) -> bool:
        return all(os.environ.get(name, "").strip() for name in self.client_env)


def bearer(token: Token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.value}"}


def _token(value: str, body: dict[str, str]) -> Token:
    try:
        lifetime = float(body.get("expires_in", LIFETIME))
    except ValueError:
        lifetime = LIFETIME
    if not math.isfinite(lifetime) or lifetime <= 0:
        lifetime = LIFETIME
    return Token(value, time.monotonic() + lifetime - EARLY)


def _json(response: httpx.Response) -> dict[str, str]:
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {str(k): str(v) for k, v in body.items() if isinstance(v, str | int)}
