"""Fast multi-row inserts for the hot paths (filing, the SLA sweep), with a portable fallback."""

import json
from contextlib import contextmanager

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.expressions import RawSQL


def allocate_ids(model, count: int) -> list[int]:
    """Reserve ``count`` primary keys from the table's sequence (PostgreSQL)."""
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_rows(model, columns: list[str], rows: list[tuple], *, with_ids: bool = False) -> list[int]:
    """Insert plain rows (values in ``columns`` order, by attribute name) and return their ids.

    On PostgreSQL the rows are streamed with COPY: Django's bulk_create prepares every value
    through the field API and psycopg quotes every array element, which together dominate a
    10,000-row insert. Values are written as given (JSON fields serialised), so only data the
    caller has already validated belongs here. Elsewhere (SQLite) it falls back to bulk_create.
    Ids are returned only when ``with_ids``.
    """
    if not rows:
        return []
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    json_positions = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create(
            [model(**{f.attname: value for f, value in zip(fields, row, strict=True)}) for row in rows],
            batch_size=500,
        )
        return [obj.pk for obj in objs] if with_ids else []
    ids = allocate_ids(model, len(rows)) if with_ids else []
    names = [f.column for f in fields]
    if with_ids:
        names.insert(0, meta.pk.column)
    quote = connection.ops.quote_name
    sql = f"COPY {quote(meta.db_table)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for index, row in enumerate(rows):
            values = list(row)
            for position in json_positions:
                values[position] = json.dumps(values[position], cls=DjangoJSONEncoder)
            if with_ids:
                values.insert(0, ids[index])
            copy.write_row(values)
    return ids


@contextmanager
def binding_cursor():
    """Yield a psycopg cursor on Django's connection that sends parameters apart from the SQL.

    Django's cursors bind on the client: psycopg quotes every element of an array parameter into
    the statement's text, which costs more than the insert of a filing's rows. A server-binding
    cursor sends the arrays as binary values, and psycopg prepares a statement it sees often
    (the same text for one row or a hundred). Same connection and transaction as the ORM's;
    errors are turned into Django's, as its own cursors do.
    """
    with (
        connection.cursor() as django_cursor,
        connection.wrap_database_errors,
        psycopg.Cursor(django_cursor.cursor.connection) as cursor,
    ):
        yield cursor


def any_of(ids) -> RawSQL | list:
    """Return a value for ``field__in=`` that sends many ids as one array parameter on PostgreSQL.

    ``pk__in=[10,000 ids]`` makes Django prepare and psycopg quote 10,000 parameters; one
    ``unnest(array)`` subquery costs nothing of the sort.
    """
    ids = list(ids)
    if connection.vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", [ids])


_INSERT_STATEMENTS: dict = {}


def _insert_statement(model, db) -> tuple[list, str]:
    """Return the fields and the ``INSERT … SELECT * FROM unnest(…)`` of a model, built once."""
    key = (model, db.alias)
    if key not in _INSERT_STATEMENTS:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = db.ops.quote_name
        arrays = ", ".join(f"%s::{field.db_type(db)}[]" for field in fields)
        _INSERT_STATEMENTS[key] = (
            fields,
            (
                f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                f"SELECT * FROM unnest({arrays}) RETURNING {quote(meta.pk.column)}"
            ),
        )
    return _INSERT_STATEMENTS[key]


def objects_insert(objs: list) -> None:
    """Insert new instances of one model in one statement and set their pks.

    On PostgreSQL each column travels as one array (``INSERT … SELECT * FROM unnest(…)
    RETURNING id``), so the statement's text is the same for one row or a hundred: psycopg
    parses it once, and the ORM's per-statement SQL compilation, which costs more than the
    insert of the few rows a filing writes, is skipped. Values are prepared by the fields as
    ``save()`` would (``pre_save`` fills auto_now dates); no signals are sent, so only models
    without save() logic or signal receivers belong here. Elsewhere (SQLite) it falls back to
    bulk_create, which also sets the pks.
    """
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    for obj in objs:
        # Copies the pk of a parent saved after this object was built, as save() would.
        obj._prepare_related_fields_for_save(operation_name="objects_insert")
    db = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup per use
    fields, sql = _insert_statement(model, db)
    params = [[field.get_db_prep_save(field.pre_save(obj, True), db) for obj in objs] for field in fields]
    with binding_cursor() as cursor:
        cursor.execute(sql, params)
        # Rows come back in the order of the arrays (Django's bulk_create relies on it too).
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = db.alias


def column_set_by_id(model, column: str, values: dict[int, object]) -> None:
    """Set one column of many rows, each to its own value, in one statement.

    On PostgreSQL the ids and values travel as two arrays; elsewhere bulk_update does it.
    """
    if not values:
        return
    field = model._meta.get_field(column)
    if connection.vendor != "postgresql":
        objs = [model(pk=pk, **{field.attname: value}) for pk, value in values.items()]
        model.objects.bulk_update(objs, [column])
        return
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    with binding_cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {quote(field.column)} = v.value "
            f"FROM unnest(%s::bigint[], %s::{field.db_type(connection)}[]) AS v(id, value) "
            f"WHERE {table}.{pk} = v.id",
            [list(values), list(values.values())],
        )
