"""What can go wrong when reading sources, and who can fix it.

::

    IntegrationError          anything raised by integrations/
    ├── ConfigError           the config file is wrong: the admin edits it
    └── SourceError           one source cannot run (a file is missing, the mapping
                              does not fit the data): the admin fixes the data or
                              the mapping; the other sources still run

A bad row or record is neither: it becomes a ``Rejection`` with its origin and the
reason, and everything else still loads.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """Base class for errors raised by integrations/."""


class ConfigError(IntegrationError, ValueError):
    """The config file cannot be used; the message says where and what to change."""


class SourceError(IntegrationError):
    """One source cannot be read at all; the message says which file and why."""
