"""Fast multi-row inserts for the hot paths (the SLA sweep), with a portable fallback."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

_PG_TYPES = {
    models.BigAutoField: "bigint",
    models.BigIntegerField: "bigint",
    models.ForeignKey: "bigint",
    models.PositiveIntegerField: "integer",
    models.PositiveSmallIntegerField: "smallint",
    models.IntegerField: "integer",
    models.CharField: "text",
    models.TextField: "text",
    models.JSONField: "jsonb",
    models.DateTimeField: "timestamptz",
}


def _pg_type(field) -> str:
    for cls in type(field).__mro__:
        if cls in _PG_TYPES:
            return _PG_TYPES[cls]
    raise TypeError(f"No PostgreSQL array type known for {field!r}")


def bulk_insert(objs: list, *, fields: list[str], returning_ids: bool = False) -> list:
    """Insert model instances; on PostgreSQL as one INSERT … SELECT FROM unnest(arrays).

    Django's bulk_create prepares every value of every row through the field API, which
    dominates a 10,000-row insert; unnest() of one array per column skips that. Values are
    taken as they are (JSON fields are serialised), so only plain, already-validated data
    belongs here. Sets ``pk`` on the instances when ``returning_ids``.
    """
    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, batch_size=1000)
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns, arrays, casts = [], [], []
    for field in model_fields:
        values = [getattr(obj, field.attname) for obj in objs]
        if isinstance(field, models.JSONField):
            values = [json.dumps(v, cls=DjangoJSONEncoder) for v in values]
        columns.append(connection.ops.quote_name(field.column))
        arrays.append(values)
        casts.append(f"%s::{_pg_type(field)}[]")
    sql = (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({', '.join(casts)})"
    )
    if returning_ids:
        sql += f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        if returning_ids:
            # INSERT … SELECT unnest() returns rows in input order; bulk_create relies on it too.
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs
