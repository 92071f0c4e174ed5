"""Cursor pagination: stable pages however many cases are filed while a client walks the list."""

from datetime import UTC, datetime

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class ApiCursorPagination(CursorPagination):
    """Cursor pagination that refuses a bad ``cursor`` or ``page_size`` with a 400 instead of guessing.

    DRF answers a cursor it cannot decode with 404 and ignores a page size it cannot read; a
    client that sent either has a bug it should hear about, and a cursor whose position is not a
    value of the ordering column must not reach the database.
    """

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = format_lazy(
        gettext_lazy("Results per page (1–{max}, default {default})."),
        max=MAX_PAGE_SIZE,
        default=DEFAULT_PAGE_SIZE,
    )
    max_page_size = MAX_PAGE_SIZE
    cursor_query_description = gettext_lazy("The cursor from the previous page's next or previous link.")
    # No HTML controls: the API renders JSON only.
    template = None

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            valid = True
            if cursor is not None and cursor.position is not None:
                position = self._position_normalised(cursor.position)
                valid = position is not None
                cursor = Cursor(offset=cursor.offset, reverse=cursor.reverse, position=position)
        if not valid:
            raise ValidationError({self.cursor_query_param: [_("This cursor is not valid for this list.")]})
        return cursor

    def _position_normalised(self, position: str) -> str | None:
        """Return the position as the database will read it, or None if it is no value of the column.

        A cursor is opaque but travels through clients: a hand-made one must not reach the database
        with text it cannot compare (a NUL, a time zone offset PostgreSQL refuses).
        """
        if "\x00" in position:
            return None
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
            value = field.to_python(position)
            if isinstance(value, datetime):
                value = value.astimezone(UTC) if timezone.is_aware(value) else None
        except (FieldDoesNotExist, DjangoValidationError, ValueError, TypeError, OverflowError):
            return None
        return None if value is None else str(value)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class CasePagination(ApiCursorPagination):
    """Newest cases first; the id breaks ties between cases filed in the same microsecond."""

    ordering = ("-created_at", "-id")


class ThreadPagination(ApiCursorPagination):
    """Oldest first, as a thread or a file list is read."""

    ordering = ("created_at", "id")


class EvidencePagination(ApiCursorPagination):
    ordering = ("uploaded_at", "id")


class EventPagination(ApiCursorPagination):
    """A case's timeline in order; ``seq`` is unique within the case."""

    ordering = ("seq",)
