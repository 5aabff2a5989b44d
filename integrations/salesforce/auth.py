"""Salesforce credentials: an access token, renewed through OAuth when it expires.

Access tokens of a connected app live for the org's session timeout (two hours by
default). With a client id, secret and refresh token in the environment, an
expired one (401 INVALID_SESSION_ID) is replaced through the refresh-token flow,
and the org's ``instance_url`` from that answer becomes the base URL (it changes
when an org moves instances). Without them an expired token stops the source with
a message that says which variables to set.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from integrations.errors import CredentialError, SourceError

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"
SCOPES = "api refresh_token"


@dataclass(frozen=True)
class RefreshGrant:
    """What the OAuth refresh-token flow needs; never logged."""

    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str


@dataclass(frozen=True)
class Credentials:
    """The names of the variables to tell an admin about, and what they hold."""

    source: str
    token_env: str
    grant_envs: tuple[str, str, str]  # client id, client secret, refresh token
    access_token: str | None
    grant: RefreshGrant | None

    def hint(self) -> str:
        """What an admin does about a refused credential."""
        client_id, secret, refresh = self.grant_envs
        return (
            f"put a valid access token in {self.token_env}, or set {client_id}, "
            f"{secret} and {refresh} (a connected app with the OAuth scopes "
            f"{SCOPES!r}) so that Foresight can renew it; the Salesforce user "
            "needs the 'API Enabled' permission and read access to User, Account, "
            "Contact, Opportunity (with field history), Task and Event"
        )


def credentials(
    source: str, token_env: str, grant_envs: tuple[str, str, str], token_url: str
) -> Credentials:
    """The token and refresh grant in the environment; at least one must be there."""
    token = _env(token_env)
    values = [_env(name) for name in grant_envs]
    grant = None
    if all(values):
        grant = RefreshGrant(token_url, *(v for v in values if v))
    elif any(values):
        unset = [n for n, v in zip(grant_envs, values, strict=True) if not v]
        verb = "is" if len(unset) == 1 else "are"
        raise CredentialError(
            f"source {source!r}: {' and '.join(unset)} {verb} not set; set "
            f"{'it' if len(unset) == 1 else 'them'} as well, or unset the other "
            "refresh-token variables and use an access token alone"
        )
    found = Credentials(source, token_env, grant_envs, token, grant)
    if token is None and grant is None:
        raise CredentialError(f"source {source!r}: no credential; {found.hint()}")
    return found


def renewer(
    credentials: Credentials, http: httpx.Client
) -> Callable[[], Mapping[str, str]] | None:
    """The ``refresh=`` hook for ``SourceClient``; None without a refresh grant."""
    grant = credentials.grant
    if grant is None:
        return None

    def renew() -> Mapping[str, str]:
        return _renew(credentials, grant, http)

    return renew


def _renew(
    credentials: Credentials, grant: RefreshGrant, http: httpx.Client
) -> dict[str, str]:
    source = credentials.source
    form = {
        "grant_type": "refresh_token",
        "client_id": grant.client_id,
        "client_secret": grant.client_secret,
        "refresh_token": grant.refresh_token,
    }
    started = time.monotonic()
    try:
        response = http.post(grant.token_url, data=form)
    except httpx.TransportError as error:
        raise SourceError(
            f"source {source!r}: could not reach {grant.token_url} to renew the "
            f"access token ({type(error).__name__}); the sync will try again",
            retriable=True,
        ) from None
    logger.info(
        "%s POST %s %s %.0f ms",
        source,
        httpx.URL(grant.token_url).path,
        response.status_code,
        (time.monotonic() - started) * 1000,
    )
    token, instance = _token_answer(response)
    if token is None and response.status_code not in (400, 401, 403):
        # Not an OAuth refusal: the address is wrong or the endpoint is down.
        raise SourceError(
            f"source {source!r}: the token endpoint {grant.token_url} answered HTTP "
            f"{response.status_code} ({_oauth_error(response)}); check the source's "
            "token_url (https://login.salesforce.com/services/oauth2/token, or "
            "test.salesforce.com for a sandbox)",
            retriable=response.status_code >= 500,
        )
    if token is None:
        raise CredentialError(
            f"source {source!r}: Salesforce refused to renew the access token "
            f"(HTTP {response.status_code} from {grant.token_url}: "
            f"{_oauth_error(response)}); authorise the connected app again and put "
            f"the new refresh token in {credentials.grant_envs[2]} (check "
            f"{credentials.grant_envs[0]} and {credentials.grant_envs[1]} too)"
        )
    if instance:
        http.base_url = httpx.URL(instance)
    return {"Authorization": f"Bearer {token}"}


def _token_answer(response: httpx.Response) -> tuple[str | None, str | None]:
    if response.status_code != 200:
        return None, None
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict) or not body.get("access_token"):
        return None, None
    instance = body.get("instance_url")
    return str(body["access_token"]), str(instance) if instance else None


def _oauth_error(response: httpx.Response) -> str:
    """OAuth errors are ``{"error": …, "error_description": …}``; never a token."""
    try:
        body = response.json()
    except ValueError:
        return "no readable answer"
    if not isinstance(body, dict):
        return "no readable answer"
    parts = [str(body.get(k)) for k in ("error", "error_description") if body.get(k)]
    return ": ".join(parts)[:200] or "no reason given"


def _env(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None
