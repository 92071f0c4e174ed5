"""The ``yyyy_mm`` path converter of report URLs (registered once, on import)."""

from django.urls import register_converter

from .months import MONTH_PATTERN


class MonthConverter:
    """Match a month written YYYY-MM only, so anything else never reaches a view."""

    regex = MONTH_PATTERN

    def to_python(self, value):
        return value

    def to_url(self, value):
        return str(value)


register_converter(MonthConverter, "yyyy_mm")
