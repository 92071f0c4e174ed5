"""Calendar months in Tokyo time: the unit every report covers. Pure functions, no database."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
MONTH_PATTERN = r"[0-9]{4}-(?:0[1-9]|1[0-2])"
_MONTH_RE = re.compile(rf"^{MONTH_PATTERN}$")


@dataclass(frozen=True, order=True)
class Month:
    """One calendar month; its bounds are midnight in Tokyo, as the association counts."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @classmethod
    def parse(cls, value: str) -> "Month":
        """Return the month of ``"2026-10"``; raise ValueError for anything else."""
        if not isinstance(value, str) or not _MONTH_RE.match(value):
            raise ValueError(f"Not a month (YYYY-MM): {value!r}")
        year, month = value.split("-")
        return cls(int(year), int(month))

    @classmethod
    def of(cls, moment: datetime) -> "Month":
        """Return the Tokyo month an aware datetime falls in."""
        local = moment.astimezone(TOKYO)
        return cls(local.year, local.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=TOKYO)

    @property
    def end(self) -> datetime:
        """The first moment of the next month (exclusive bound)."""
        return self.next().start

    def next(self) -> "Month":
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "Month":
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def back(self, count: int) -> "Month":
        """Return the month ``count`` months earlier."""
        index = self.year * 12 + self.month - 1 - count
        return Month(index // 12, index % 12 + 1)


def months_between(first: Month, last: Month) -> list[Month]:
    """Return every month from ``first`` to ``last`` inclusive, oldest first."""
    months = []
    current = first
    while current <= last:
        months.append(current)
        current = current.next()
    return months
