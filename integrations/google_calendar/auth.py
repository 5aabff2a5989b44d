"""OAuth credentials for Google Calendar: an access token, renewed on expiry.

Google's access tokens live an hour. With a client id, a client secret and a
refresh token (all from the environment) a new one is fetched from the token
endpoint when Google answers 401, through ``SourceClient``'s ``refresh`` hook.
Secrets are read when needed, sent only to the token endpoint and never logged.

A service account with domain-wide delegation (a JWT signed per rep's calendar) is
not supported yet: it needs an RS256 signer (``google-auth`` or ``PyJWT[crypto]``),
which is not a dependency.
"""

from __future__ import annotations

import logging
import os
import time

import httpx

from integrations.errors import CredentialError, SourceError

logger = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/calendar.readonly"


class OAuth:
    """Bearer headers for one source, from its environment variables."""

    def __init__(
        self,
        source: str,
        http: httpx.Client,
        token_url: str,
        token_env: str,
        client_env: tuple[str, str, str],
    ) -> None:
        self.source = source
        self.http = http
        self.token_url = token_url
        self.token_env = token_env
        self.client_env = client_env  # client id, client secret, refresh token

    def headers(self) -> dict[str, str]:
        """The access token from the environment, or a fresh one if only the
        refresh credentials are set."""
        token = os.environ.get(self.token_env, "").strip()
        if token:
            return _bearer(token)
        if not self._can_refresh():
            unset = [n for n in self.client_env if not os.environ.get(n, "").strip()]
            if len(unset) < len(self.client_env):
                raise CredentialError(
                    f"source {self.source!r}: {' and '.join(unset)} not set, so the "
                    f"refresh token cannot be used; {self.hint()}"
                )
            raise CredentialError(
                f"source {self.source!r}: no Google credential is set; {self.hint()}"
            )
        return self.refresh()

    def refresh(self) -> dict[str, str]:
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
        return _bearer(self._exchange(form))

    def hint(self) -> str:
        """What an admin does about a refused or missing credential."""
        client_id, secret, refresh_token = self.client_env
        return (
            f"set {client_id}, {secret} and {refresh_token} to an OAuth client and "
            f"a refresh token granted the scope {SCOPE} by a user who can read the "
            f"configured calendars (or {self.token_env} to a current access token), "
            "and check that each calendar is shared with that user"
        )

    def _can_refresh(self) -> bool:
        return all(os.environ.get(name, "").strip() for name in self.client_env)

    def _exchange(self, form: dict[str, str]) -> str:
        started = time.monotonic()
        try:
            response = self.http.post(self.token_url, data=form)
        except httpx.TransportError as error:
            raise SourceError(
                f"source {self.source!r}: the token endpoint {self.token_url} could "
                f"not be reached ({type(error).__name__}); the next sync will try "
                "again",
                retriable=True,
            ) from None
        logger.info(
            "%s POST %s %d %.0f ms",
            self.source,
            self.token_url,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return self._token_of(response)

    def _token_of(self, response: httpx.Response) -> str:
        if response.status_code >= 500:
            raise SourceError(
                f"source {self.source!r}: the token endpoint answered HTTP "
                f"{response.status_code}; the next sync will try again",
                retriable=True,
            )
        body = _json(response)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            error = body.get("error_description") or body.get("error") or "no token"
            raise CredentialError(
                f"source {self.source!r}: Google would not renew the access token "
                f"(HTTP {response.status_code} from {self.token_url}: {error}); "
                f"{self.hint()}"
            )
        return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _json(response: httpx.Response) -> dict[str, str]:
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    return {str(k): str(v) for k, v in body.items() if isinstance(v, str | int)}
