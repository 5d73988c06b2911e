"""Report date ranges (SPEC §10): inclusive dates in the site's time zone, default the last 30 days."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from hotlead.core.exceptions import ValidationFailed

DEFAULT_DAYS = 30
MAX_DAYS = 731


@dataclass(frozen=True)
class DateRange:
    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        """The first instant of date_from in the site's time zone (aware)."""
        return timezone.make_aware(datetime.combine(self.date_from, time.min), timezone.get_default_timezone())

    @property
    def end(self) -> datetime:
        """The first instant after date_to (exclusive bound)."""
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min),
                                   timezone.get_default_timezone())

    @property
    def days(self) -> list[date]:
        return [self.date_from + timedelta(days=i) for i in range((self.date_to - self.date_from).days + 1)]

    def key(self) -> str:
        return f"{self.date_from.isoformat()}..{self.date_to.isoformat()}"


def site_today() -> date:
    return timezone.localtime(timezone.now(), timezone.get_default_timezone()).date()


def report_range(*, date_from: date | None = None, date_to: date | None = None,
                 today: date | None = None) -> DateRange:
    """Validate a range: `date_to < date_from` is a 422 on date_to, a span over 731 days a 422 on date_from."""
    today = today or site_today()
    if date_to is None:
        date_to = max(today, date_from) if date_from else today
    if date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_to < date_from:
        raise ValidationFailed.for_field("date_to", "date_to must not be before date_from.")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise ValidationFailed.for_field("date_from", f"The range may span at most {MAX_DAYS} days.")
    return DateRange(date_from=date_from, date_to=date_to)
