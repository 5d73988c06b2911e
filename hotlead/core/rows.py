"""New rows of several tables written in one round trip: the ids drawn first, then one statement for all of them.

Django writes a row per statement and waits for each. A lead submission writes five (the lead, its history, its
code, its e-mail and the e-mail's queued job), and that waiting, the five statements' parsing and planning and the
ORM's work to build them were most of what a submission cost (docs/performance.md, "Lead intake"). On PostgreSQL
`ids_draw` takes the ids from the tables' own sequences in one statement, so every row (and every reference
between them, and a job's arguments) is known before anything is written; `rows_insert` then writes them all with
one statement of data-modifying CTEs, prepared once per connection (its text depends only on the models). Values go
through each field's `pre_save` and `get_db_prep_save`, as `Model.save()` does them (the columns worked out once per
model; the calls skipped where they would return the value unchanged, `_AS_IS`); foreign keys are deferred
(Django creates them so), so the order of the rows does not matter within the statement. No save signals are sent:
a model with pre_save/post_save receivers is refused.

Elsewhere (SQLite, the demo) `ids_draw` reads the next ids off the tables — sound there because SQLite writes one
transaction at a time and this project opens them IMMEDIATE (the write lock is taken at BEGIN), so it must be called
inside `transaction.atomic()` — and `rows_insert` saves the rows one by one with `save()`.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import signals
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from hotlead.core.prepared import prepared_cursor

_STATEMENTS: dict[tuple, str] = {}


def rows_scope():
    """What `ids_draw` and `rows_insert` need around them. PostgreSQL: nothing (the insert is one statement, atomic by
    itself; the ids come from sequences), or a savepoint inside a caller's transaction, so that a failed insert (a
    unique clash the caller retries) rolls back only itself. Elsewhere a transaction (the next ids are read)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return nullcontext()
    return transaction.atomic()


def ids_draw(*model_classes: type[models.Model]) -> list[int]:
    """One new id per model given (a model twice: two ids), from its table's sequence (PostgreSQL)."""
    return ids_draw_and_read(*model_classes)[0]


def ids_draw_and_read(*model_classes: type[models.Model], read: tuple[str, dict] | None = None
                      ) -> tuple[list[int], tuple | None]:
    """`ids_draw`, and a query reading at most one row (text with %(name)s parameters, the parameters) sent in the
    same round trip on PostgreSQL: (the ids, the row or None)."""
    if connection.vendor != "postgresql":
        ids = _ids_draw_serialised(model_classes)
        if read is None:
            return ids, None
        with connection.cursor() as cursor:
            cursor.execute(*read)
            return ids, cursor.fetchone()
    key = ("ids", *(m._meta.label_lower for m in model_classes), read[0] if read else None)
    sql = _STATEMENTS.get(key)
    if sql is None:
        with connection.cursor() as cursor:
            sequences = []
            for model in model_classes:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                               [_qn(model._meta.db_table), model._meta.pk.column])
                sequences.append(cursor.fetchone()[0])
        # the sequences' names in the text: resolved once, when the statement is prepared
        draws = ", ".join(f"nextval('{_sequence_name(name)}'::regclass)" for name in sequences)
        joined = f", found.* FROM (SELECT 1) AS one LEFT JOIN ({read[0]}) AS found ON true" if read else ""  # noqa: S608
        sql = _STATEMENTS[key] = f"SELECT {draws}{joined}"
    with prepared_cursor() as cursor:
        cursor.execute(sql, read[1] if read else None)
        row = cursor.fetchone()
    count = len(model_classes)
    found = row[count:] if read else ()
    return list(row[:count]), (found if any(value is not None for value in found) else None)


def _ids_draw_serialised(model_classes) -> list[int]:
    if not connection.in_atomic_block:
        raise RuntimeError("ids_draw off PostgreSQL reads the tables' next ids: call it inside transaction.atomic()")
    drawn: dict[type, int] = {}
    ids = []
    with connection.cursor() as cursor:
        for model in model_classes:
            if model not in drawn:
                table, pk = model._meta.db_table, model._meta.pk.column
                cursor.execute(f"SELECT MAX({_qn(pk)}) FROM {_qn(table)}")  # noqa: S608 - names from the model
                largest = cursor.fetchone()[0] or 0
                if connection.vendor == "sqlite":  # AUTOINCREMENT never gives an id again, even a deleted row's
                    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                    row = cursor.fetchone()
                    largest = max(largest, row[0] if row else 0)
                drawn[model] = largest
            drawn[model] += 1
            ids.append(drawn[model])
    return ids


@dataclass(frozen=True)
class Gate:
    """A statement giving one row of one number (e.g. a rate-limit counter's upsert, RETURNING the count) and the
    most it may be: `rows_insert` writes its rows only when the number is at most `most`, and returns the number."""

    sql: str
    params: list
    most: int


@dataclass(frozen=True, slots=True)
class Row:
    """A new row given by its column values, for `rows_insert`: a row nobody reads back needs no model instance
    (building one, field by field through its descriptors, cost more than writing it). `values` by attribute name
    (`lead_id`, not `lead`); a column left out takes its field's default, and an auto_now(_add) date-time now."""

    model: type[models.Model]
    values: dict[str, Any]


def rows_insert(objs: list[models.Model | Row], *, gate: Gate | None = None) -> int | None:
    """INSERT every object or `Row` (new rows only); with a gate, only when the gate's number is at most its `most`.

    PostgreSQL: one statement (atomic by itself: no transaction needed around it), the gate's statement and the
    inserts as its CTEs; the ids of the rows others point to (and of any row whose id is needed) drawn before with
    `ids_draw`. Returns the gate's number (None without a gate); the objects are saved only when it passed."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            number = None
            if gate is not None:
                with connection.cursor() as cursor:
                    cursor.execute(gate.sql, gate.params)
                    number = cursor.fetchone()[0]
            if gate is None or number <= gate.most:
                for obj in objs:
                    (obj.model(**obj.values) if isinstance(obj, Row) else obj).save(force_insert=True)
            return number
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each use of the `connection` proxy looks it up again
    shapes, params, now = [], [], None
    for obj in objs:
        row = obj if isinstance(obj, Row) else None
        model = row.model if row else type(obj)
        if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
            # save() would tell them; this statement cannot: refuse rather than skip them silently
            raise ValueError(f"{model._meta.label} has save signal receivers: save it with save()")
        if row is None:
            obj._prepare_related_fields_for_save(operation_name="rows_insert")  # FK ids of the related objects
            plan = _plan(model, with_pk=obj.pk is not None)
        else:
            plan = _plan(model, with_pk=row.values.get(model._meta.pk.attname) is not None)
            if unknown := row.values.keys() - plan.attnames - {model._meta.pk.attname}:
                raise ValueError(f"{model._meta.label} has no column {', '.join(sorted(unknown))}")
        defaults = ()
        for field, attname, plain, as_is, typed in plan.steps:
            if row is None:
                value = getattr(obj, attname) if plain else field.pre_save(obj, add=True)
            elif attname in row.values:
                value = row.values[attname]
            elif plain or (isinstance(field, models.DateField) and not (field.auto_now or field.auto_now_add)):
                value = field.get_default()
            elif isinstance(field, models.DateTimeField):  # auto_now(_add): as its pre_save, one moment for all
                value = now = now or timezone.now()
            else:
                raise ValueError(f"{model._meta.label}.{field.name} is set by its field when saved: give its value")
            if as_is and (value is None or type(value) in as_is) and (type(value) is not datetime
                                                                        or value.tzinfo is not None):
                # what get_db_prep_save would give, without its five calls
                params.append(value if typed is None or value is None else typed(value))
            elif isinstance(value, DatabaseDefault):
                defaults += (field,)
            else:
                params.append(field.get_db_prep_save(value, db))
        shapes.append((plan, defaults))
    key = ("insert", *((plan.model, plan.with_pk, defaults) for plan, defaults in shapes), gate.sql if gate else None)
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql = _STATEMENTS[key] = _insert_statement(
            [(plan.model._meta.db_table, plan.fields, defaults) for plan, defaults in shapes], gate)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [*gate.params, gate.most, *params] if gate else params)
        number = cursor.fetchone()[0] if gate else None
    if gate is None or number <= gate.most:
        for obj in objs:  # as after save(): the rows exist, a later save() updates them
            if not isinstance(obj, Row):
                obj._state.adding = False
                obj._state.db = db.alias
    return number


# Values that a field of one of these Django classes (exactly: a subclass may convert) writes to PostgreSQL as they
# are: its get_db_prep_save returns them unchanged, or for an integer column only typed (psycopg's Int2/Int4/Int8,
# as Django's backend types them) — tests/core/test_rows.py checks it for every such field of every model. None
# too. Datetimes only aware ones: a naive one is converted (with a warning).
_AS_IS: dict[type[models.Field], tuple[type, ...]] = {
    **dict.fromkeys((models.CharField, models.TextField, models.EmailField, models.SlugField, models.URLField), (str,)),
    **dict.fromkeys((models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
                     models.PositiveBigIntegerField, models.PositiveSmallIntegerField, models.AutoField,
                     models.BigAutoField, models.SmallAutoField), (int,)),
    models.BooleanField: (bool,),
    models.UUIDField: (uuid.UUID,),
    models.DateTimeField: (datetime,),
}


@dataclass(frozen=True)
class _Plan:
    """How `rows_insert` writes a model's row: its columns, and for each the field, its attribute, whether its
    pre_save only reads the attribute, the types of value it writes as they are (`_AS_IS`) and the type those are
    given (or None)."""

    model: type[models.Model]
    with_pk: bool
    fields: tuple[models.Field, ...]
    attnames: frozenset[str]
    steps: tuple[tuple[models.Field, str, bool, tuple[type, ...], Callable | None], ...]


_PLANS: dict[tuple[type, bool], _Plan] = {}


def _plan(model: type[models.Model], *, with_pk: bool) -> _Plan:
    """Worked out once per model (and whether the row's id is given): it was, field by field, for every row."""
    plan = _PLANS.get((model, with_pk))
    if plan is None:
        fields = tuple(field for field in model._meta.local_concrete_fields if not field.generated and not (
            field.primary_key and not with_pk and isinstance(field, AutoFieldMixin)))  # an id drawn by the insert
        plan = _PLANS[(model, with_pk)] = _Plan(model, with_pk, fields, frozenset(f.attname for f in fields), tuple(
            (field, field.attname, type(field).pre_save is models.Field.pre_save, *_as_is(field)) for field in fields))
    return plan


def _as_is(field: models.Field) -> tuple[tuple[type, ...], Callable | None]:
    """The types of value `field` writes as they are, and the type it gives them (None: none)."""
    if isinstance(field, models.ForeignKey):  # a ForeignKey gives its value to the field it points to
        return _as_is(field.target_field) if type(field) in (models.ForeignKey, models.OneToOneField) else ((), None)
    if isinstance(field, AutoFieldMixin):  # an id is checked, not typed
        return _AS_IS.get(type(field), ()), None
    return _AS_IS.get(type(field), ()), getattr(connection.ops, "integerfield_type_map", {}).get(
        field.get_internal_type())


def _insert_statement(shapes: list[tuple[str, tuple, tuple]], gate: Gate | None) -> str:
    # Names come from the models; every value is a parameter, typed: in a SELECT list (the gated form) an untyped
    # parameter is text, which some columns (inet, …) do not take.
    inserts = []
    for table, fields, defaults in shapes:
        if gate is not None and defaults:
            raise ValueError("a gated insert cannot use database defaults (INSERT … SELECT has no DEFAULT)")
        for field in fields:
            if hasattr(field, "get_placeholder"):
                raise ValueError(f"{field.model._meta.label}.{field.name}: its own placeholder is not supported")
        values = ", ".join("DEFAULT" if field in defaults else f"%s::{field.cast_db_type(connection)}"
                           for field in fields)
        columns = ", ".join(_qn(field.column) for field in fields)
        rows = f"SELECT {values} FROM passed" if gate else f"VALUES ({values})"  # noqa: S608 - see above
        inserts.append(f"INSERT INTO {_qn(table)} ({columns}) {rows}")
    ctes = ([f"counted (number) AS ({gate.sql})", "passed AS (SELECT 1 FROM counted WHERE number <= %s::integer)"]
            if gate else [])
    ctes += [f"row_{n} AS ({insert})" for n, insert in enumerate(inserts if gate else inserts[:-1])]
    final = "SELECT number FROM counted" if gate else inserts[-1]
    return f"WITH {', '.join(ctes)} {final}" if ctes else final


def _sequence_name(name: str | None) -> str:
    if not name or not name.replace("_", "").replace(".", "").replace('"', "").isalnum():
        raise ValueError(f"no sequence gives this table's ids: {name!r}")
    return name


def _qn(name: str) -> str:
    """A table or column name of a model, quoted for the statement's text (checked: names only, never values)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected identifier {name!r}")
    return connection.ops.quote_name(name)
