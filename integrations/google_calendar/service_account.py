"""A Google Workspace service account with domain-wide delegation: one key reads
every rep's calendar by acting as each rep.

The key file (the JSON Google offers for download) is named by an environment
variable, ``GOOGLE_APPLICATION_CREDENTIALS`` unless configured otherwise. For each
calendar, a JWT signed with its private key (RS256) asks the token endpoint for
an access token of the calendar's owner (``sub``, the rep's e-mail). Tokens are
per rep: each calendar's requests carry its own, kept until shortly before it
expires and fetched again once on a 401. Google refuses (``unauthorized_client``)
until a Workspace admin grants the key's client id the calendar scope.

The private key, the signed assertion and the tokens are never logged nor put in a
message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from integrations.errors import CredentialError
from integrations.google_calendar.auth import (
    SCOPE,
    Granted,
    Token,
    TokenEndpoint,
    bearer,
)

logger = logging.getLogger(__name__)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # seconds; Google refuses an assertion living longer
REQUIRED = ("client_email", "private_key")
DELEGATION = (
    "in the Google Admin console (Security › Access and data control › API "
    "controls › Manage domain-wide delegation)"
)


@dataclass(frozen=True)
class Key:
    """A service-account key file: who signs, with what, and where to send it."""

    path: str
    env: str
    client_email: str
    client_id: str | None
    key_id: str | None
    token_uri: str | None
    private_key: RSAPrivateKey = field(repr=False)

    def client(self) -> str:
        """The client id the Admin console asks for, as the admin knows it."""
        if self.client_id:
            return f"client id {self.client_id} (service account {self.client_email})"
        return (
            f"the client id of the service account {self.client_email} (its "
            "unique id in Google Cloud IAM)"
        )


def read_key(source: str, env: str, path: str) -> Key:
    """The key file at ``path`` (named by ``env``), checked field by field."""
    where = f"the service-account key file {path} (named by {env})"
    fix = (
        f"set {env} to the path of a JSON key of the service account (Google Cloud "
        "IAM › Service accounts › Keys), or unset it to use OAuth credentials"
    )
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise CredentialError(
            f"source {source!r}: cannot read {where}: {reason}; {fix}"
        ) from None
    except UnicodeDecodeError:
        raise CredentialError(
            f"source {source!r}: {where} is not text (not a JSON key); {fix}"
        ) from None
    try:
        raw: Any = json.loads(text)
    except ValueError as error:
        detail = getattr(error, "msg", "not JSON")  # never the document itself
        raise CredentialError(
            f"source {source!r}: {where} is not JSON ({detail}); {fix}"
        ) from None
    return _key(source, raw if isinstance(raw, dict) else {}, path, env, where, fix)


def _key(
    source: str, raw: dict[str, Any], path: str, env: str, where: str, fix: str
) -> Key:
    kind = raw.get("type")
    if kind is not None and kind != "service_account":
        raise CredentialError(
            f"source {source!r}: {where} holds a credential of type {kind!s:.40}, "
            f"not a service-account key; {fix}"
        )
    missing = [name for name in REQUIRED if not _text(raw.get(name))]
    if missing:
        raise CredentialError(
            f"source {source!r}: {where} lacks {' and '.join(missing)}; download a "
            "new JSON key for the service account (Google Cloud IAM › Service "
            f"accounts › Keys) and set {env} to its path"
        )
    try:
        private_key = load_pem_private_key(raw["private_key"].encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        private_key = None
    if not isinstance(private_key, RSAPrivateKey):
        raise CredentialError(
            f"source {source!r}: the private_key in {where} is not an unencrypted "
            f"PEM RSA key; download a new JSON key for the service account and set "
            f"{env} to its path"
        )
    return Key(
        path,
        env,
        str(_text(raw["client_email"])),
        _text(raw.get("client_id")),
        _text(raw.get("private_key_id")),
        _text(raw.get("token_uri")),
        private_key,
    )


class ServiceAccount:
    """Each calendar's token, from a JWT that names the calendar's owner."""

    def __init__(
        self,
        source: str,
        key: Key,
        endpoint: TokenEndpoint,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.key = key
        self.endpoint = endpoint
        self.clock = clock  # wall time: Google checks iat and exp against its own
        self._tokens: dict[str, Token] = {}

    def headers(self, calendar: str) -> dict[str, str]:
        token = self._tokens.get(calendar)
        if token is None or not token.fresh():
            return self.refresh(calendar)
        return bearer(token)

    def refresh(self, calendar: str) -> dict[str, str]:
        form = {"grant_type": JWT_BEARER, "assertion": self.assertion(calendar)}
        granted = self.endpoint.grant(form)
        if granted.token is None:
            raise self._refused(calendar, granted)
        self._tokens[calendar] = granted.token
        return bearer(granted.token)

    def assertion(self, calendar: str) -> str:
        """The signed request for a token acting as ``calendar``'s owner."""
        now = int(self.clock())
        claims = {
            "iss": self.key.client_email,
            "scope": SCOPE,
            "aud": self.endpoint.url,
            "sub": calendar,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        headers = {"kid": self.key.key_id} if self.key.key_id else None
        return jwt.encode(
            claims, self.key.private_key, algorithm="RS256", headers=headers
        )

    def hint(self) -> str:
        return (
            f"check that {self.key.client()} has domain-wide delegation for the "
            f"scope {SCOPE} {DELEGATION}, that the Google Calendar API is enabled "
            "in its Google Cloud project, and that each calendar id is the e-mail "
            "of a user in the Workspace"
        )

    def _refused(self, calendar: str, granted: Granted) -> CredentialError:
        what = (
            f"source {self.source!r}: Google would not let the service account "
            f"{self.key.client_email} act as {calendar} (HTTP {granted.status} from "
            f"{self.endpoint.url}: {granted.error()})"
        )
        code = granted.body.get("error")
        if code == "unauthorized_client":
            return CredentialError(
                f"{what}; domain-wide delegation is not granted: {DELEGATION} add "
                f"{self.key.client()} with the scope {SCOPE}"
            )
        if code == "invalid_grant":
            return CredentialError(
                f"{what}; check that {calendar} is a user of the Workspace (a "
                "calendar id must be a rep's e-mail, not a group or a room), that "
                f"the key in {self.key.path} (named by {self.key.env}) is not "
                "deleted or disabled, and that this machine's clock is right"
            )
        return CredentialError(f"{what}; {self.hint()}")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
