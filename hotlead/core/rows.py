"""New rows of several tables written in one round trip: one statement for all of them, their ids known before.

Django writes a row per statement and waits for each. A lead submission writes five (the lead, its history, its
code, its e-mail and the e-mail's queued job), and that waiting, the five statements' parsing and planning and the
ORM's work to build them were most of what a submission cost (docs/performance.md, "Lead intake"). On PostgreSQL
`ids_draw` gives ids that each process reserves from the tables' own sequences a block at a time (one round trip
per `ID_BLOCK` ids), so every row (and every reference between them, and a job's arguments) is known before
anything is written; `rows_insert` then writes them all with one statement of data-modifying CTEs, prepared once per
connection (its text depends only on the models), with at most one row read in the same statement (`read`, and
`FromRead` values computed from it: the intake's duplicate check). Values go through each field's `pre_save` and
`get_db_prep_save`, as `Model.save()` does them (the columns worked out once per model; the calls skipped where
they would return the value unchanged, `_AS_IS`); foreign keys are deferred (Django creates them so), so the order
of the rows does not matter within the statement. No save signals are sent: a model with pre_save/post_save
receivers is refused.

Drawn ids are unique and never reused, but not in time order across processes: a process uses its block while
others draw later ones (as PostgreSQL's own sequence CACHE does). Nothing orders rows by id alone — lists order by
their time, the id breaks ties — and a database restored under a running process needs the process restarted (its
reserved ids may be the restored sequence's next ones; an insert that meets one in use drops the blocks).

Elsewhere (SQLite, the demo) `ids_draw` reads the next ids off the tables — sound there because SQLite writes one
transaction at a time and this project opens them IMMEDIATE (the write lock is taken at BEGIN), so it must be called
inside `transaction.atomic()` — and `rows_insert` reads its `read` first, then saves the rows one by one with
`save()`.
"""
from __future__ import annotations

import os
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
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


# Ids a process reserves per table at a time: one round trip per block instead of one per submission; at most a
# block per table is left unused when the process ends (a gap in the ids, as a rolled-back insert leaves).
ID_BLOCK = 32

_blocks: dict[tuple, deque[int]] = {}
_blocks_lock = threading.Lock()  # one thread at a time takes ids from (and refills) this process's blocks
_sequences: dict[type[models.Model], str] = {}


def ids_draw(*model_classes: type[models.Model]) -> list[int]:
    """One new id per model given (a model twice: two ids). PostgreSQL: from this process's block of the table's
    sequence, refilled (every table given whose block is short, in one statement) when it runs out."""
    if connection.vendor != "postgresql":
        return _ids_draw_serialised(model_classes)
    database = connection.settings_dict
    where = (os.getpid(), database["HOST"], database["PORT"], database["NAME"])  # a forked process draws its own
    needed = Counter(model_classes)
    with _blocks_lock:
        short = [model for model, count in needed.items() if len(_blocks.get((*where, model), ())) < count]
        if short:
            _blocks_refill(where, short, max(needed[model] for model in short))
        return [_blocks[(*where, model)].popleft() for model in model_classes]


def _blocks_refill(where: tuple, model_classes: list[type[models.Model]], needed: int) -> None:
    size = max(ID_BLOCK, needed)
    with connection.cursor() as cursor:
        for model in model_classes:
            if model not in _sequences:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                               [_qn(model._meta.db_table), model._meta.pk.column])
                _sequences[model] = _sequence_name(cursor.fetchone()[0])
    draws = ", ".join(f"nextval('{_sequences[model]}'::regclass)" for model in model_classes)
    with prepared_cursor() as cursor:  # the sequences' names in the text: resolved once, when it is prepared
        cursor.execute(f"SELECT {draws} FROM generate_series(1, %s::integer)", [size])  # noqa: S608 - names checked
        rows = cursor.fetchall()
    for n, model in enumerate(model_classes):
        block = _blocks.setdefault((*where, model), deque())
        block.extend(sorted(row[n] for row in rows))  # after what is left: a sequence only counts up


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
    most it may be: `rows_insert` writes its rows only when the number is at most `most`, and tells the number."""

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


@dataclass(frozen=True, slots=True)
class FromRead:
    """A column value that depends on the row `rows_insert`'s `read` finds (the same value two ways, which must
    agree): `sql`, an expression the statement computes (it may select from `found`, the read's row — none found:
    no row), so that the read costs no round trip of its own; `python(row)`, from the row as read (None: none found),
    used off PostgreSQL, where the read runs first, and to give an instance's attribute its value once written.
    Given as a `Row`'s value or as a model instance's attribute."""

    sql: str
    python: Callable[[tuple | None], Any]


class Written(NamedTuple):
    """What `rows_insert` tells: the gate's number (None without a gate) and the row its read found (None: no read,
    or nothing found)."""

    number: int | None
    found: tuple | None


def rows_insert(objs: list[models.Model | Row], *, gate: Gate | None = None, read: tuple[str, list] | None = None
                ) -> Written:
    """INSERT every object or `Row` (new rows only); with a gate, only when the gate's number is at most its `most`.

    PostgreSQL: one statement (atomic by itself: no transaction needed around it), the read, the gate's statement and
    the inserts as its CTEs; the ids of the rows others point to (and of any row whose id is needed) drawn before
    with `ids_draw`. `read` is a query (text with %s parameters, the parameters) of at most one row, which `FromRead`
    values use. The objects are saved only when the gate passed; their `FromRead` attributes then hold their values."""
    if connection.vendor != "postgresql":
        return _rows_saved(objs, gate=gate, read=read)
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each use of the `connection` proxy looks it up again
    shapes, params, now, computed = [], [], None, []
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
        specials = ()  # (field, text in place of its parameter): DEFAULT, or a FromRead's expression
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
            elif type(value) is FromRead:
                if read is None:
                    raise ValueError(f"{model._meta.label}.{field.name}: a value from a read, and no read")
                specials += ((field, f"({value.sql})"),)
                if row is None:
                    computed.append((obj, attname, value))
            elif isinstance(value, DatabaseDefault):
                specials += ((field, "DEFAULT"),)
            else:
                params.append(field.get_db_prep_save(value, db))
        shapes.append((plan, specials))
    key = ("insert", *((plan.model, plan.with_pk, specials) for plan, specials in shapes),
           gate.sql if gate else None, read[0] if read else None)
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql = _STATEMENTS[key] = _insert_statement(
            [(plan.model._meta.db_table, plan.fields, dict(specials)) for plan, specials in shapes], gate, read)
    try:
        with prepared_cursor() as cursor:
            cursor.execute(sql, [*(read[1] if read else ()), *((*gate.params, gate.most) if gate else ()), *params])
            result = cursor.fetchone() if gate or read else None
    except IntegrityError as exc:
        if id_taken(exc):  # a drawn id already used: the sequences were set back under this process (a restore)
            _blocks.clear()  # the next draw reserves from them afresh
        raise
    number = result[0] if gate else None
    found = _found(result[1 if gate else 0:]) if read else None
    for obj, attname, value in computed:
        setattr(obj, attname, value.python(found))
    if gate is None or number <= gate.most:
        for obj in objs:  # as after save(): the rows exist, a later save() updates them
            if not isinstance(obj, Row):
                obj._state.adding = False
                obj._state.db = db.alias
    return Written(number, found)


def id_taken(exc: IntegrityError) -> bool:
    """Whether the insert failed on a primary key (PostgreSQL: a `…_pkey` constraint), e.g. a drawn id in use."""
    return (getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) or "").endswith("_pkey")


def _found(row: tuple) -> tuple | None:
    return row if any(value is not None for value in row) else None  # the read's columns, NULL: nothing found


def _rows_saved(objs: list[models.Model | Row], *, gate: Gate | None, read: tuple[str, list] | None) -> Written:
    """`rows_insert` off PostgreSQL: the read, the gate, then `save()` for each row, in one transaction."""
    with transaction.atomic():
        number = found = None
        with connection.cursor() as cursor:
            if read is not None:
                cursor.execute(*read)
                found = cursor.fetchone()
            if gate is not None:
                cursor.execute(gate.sql, gate.params)
                number = cursor.fetchone()[0]
        for obj in objs:
            if isinstance(obj, Row):
                values = {name: value.python(found) if type(value) is FromRead else value
                          for name, value in obj.values.items()}
                obj = obj.model(**values)  # noqa: PLW2901 - the row as an instance, to save
            else:
                for field in obj._meta.concrete_fields:
                    if type(value := getattr(obj, field.attname)) is FromRead:
                        setattr(obj, field.attname, value.python(found))
            if gate is None or number <= gate.most:
                obj.save(force_insert=True)
        return Written(number, found)


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


def _insert_statement(shapes: list[tuple[str, tuple, dict]], gate: Gate | None, read: tuple[str, list] | None
                      ) -> str:
    # Names come from the models; every value is a parameter, typed: in a SELECT list (the gated form) an untyped
    # parameter is text, which some columns (inet, …) do not take. A FromRead's expression is typed the same way.
    inserts = []
    for table, fields, specials in shapes:
        if gate is not None and "DEFAULT" in specials.values():
            raise ValueError("a gated insert cannot use database defaults (INSERT … SELECT has no DEFAULT)")
        for field in fields:
            if hasattr(field, "get_placeholder"):
                raise ValueError(f"{field.model._meta.label}.{field.name}: its own placeholder is not supported")
        values = ", ".join("DEFAULT" if specials.get(field) == "DEFAULT"
                           else f"{specials.get(field, '%s')}::{field.cast_db_type(connection)}" for field in fields)
        columns = ", ".join(_qn(field.column) for field in fields)
        rows = f"SELECT {values} FROM passed" if gate else f"VALUES ({values})"  # noqa: S608 - see above
        inserts.append(f"INSERT INTO {_qn(table)} ({columns}) {rows}")
    ctes = [f"found AS ({read[0]})"] if read else []
    if gate:
        ctes += [f"counted (number) AS ({gate.sql})", "passed AS (SELECT 1 FROM counted WHERE number <= %s::integer)"]
    last = inserts if gate or read else inserts[:-1]  # the final statement: the last insert, or what is told
    ctes += [f"row_{n} AS ({insert})" for n, insert in enumerate(last)]
    if gate and read:
        final = "SELECT counted.number, found.* FROM counted LEFT JOIN found ON true"
    elif gate:
        final = "SELECT number FROM counted"
    elif read:
        final = "SELECT found.* FROM (SELECT 1) AS one LEFT JOIN found ON true"
    else:
        final = inserts[-1]
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
