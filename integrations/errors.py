"""What can go wrong when reading sources, and who can fix it.

::

    IntegrationError          anything raised by integrations/
    ├── ConfigError           the config file is wrong: the admin edits it
    └── SourceError           one source cannot run (a file is missing, the mapping
        │                     does not fit the data, a vendor kept failing): the
        │                     admin fixes the data, the mapping or waits; the other
        │                     sources still run
        └── CredentialError   a vendor refused the token (401/403): the admin
                              replaces the token or grants the missing scope

A bad row or record is neither: it becomes a ``Rejection`` with its origin and the
reason, and everything else still loads.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """Base class for errors raised by integrations/."""


class ConfigError(IntegrationError, ValueError):
    """The config file cannot be used; the message says where and what to change."""


class SourceError(IntegrationError):
    """One source cannot be read at all; the message says which file and why.

    ``retriable`` says whether the same sync may work later unchanged (a vendor's
    outage or rate limit) or needs someone to fix something first.
    """

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class CredentialError(SourceError):
    """A vendor refused the credential; only that source stops."""
