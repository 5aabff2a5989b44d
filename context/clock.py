"""What "now" means for the whole program.

A fixed "now" (``--as-of`` or ``FORESIGHT_NOW``) lets historical data read as current.
Everything that derives a view asks a Clock, never ``datetime.now`` directly, so that
nothing dated after "now" leaks in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


class ClockError(ValueError):
    """The fixed "now" could not be read."""


@dataclass(frozen=True)
class Clock:
    fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else datetime.now(UTC)

    def today(self, zone: str = "UTC") -> date:
        return self.now().astimezone(ZoneInfo(zone)).date()

    @classmethod
    def parse(cls, text: str | None) -> Clock:
        """Read ``2024-12-02``, ``2024-12-02T09:00`` or an ISO value with an offset.

        A bare date means the start of that day in UTC; a value without an offset is
        taken as UTC.
        """
        if text is None or not text.strip():
            return cls()
        value = text.strip()
        try:
            if len(value) == 10:
                moment = datetime.combine(date.fromisoformat(value), time(), UTC)
            else:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise ClockError(
                f"cannot read the fixed time {text!r}: use an ISO date such as "
                "2024-12-02 or 2024-12-02T09:00:00+00:00"
            ) from error
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls(moment.astimezone(UTC))
