"""Error codes are declared once, as classes, and raised by class name (SPEC §8).

Every `code` the API can answer with is the class attribute of exactly one `ApplicationError` subclass
(a subclass that keeps its parent's code does not declare it again); the codes the API document and the
status mapping name are all among them; and no call passes a code of its own.
"""
import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import admin_ext
import api
import hotlead
import reports
from api.errors import STATUS_ERRORS, error_response
from api.openapi import DESCRIPTIONS, ERROR_SCHEMA
from hotlead.core.exceptions import ApplicationError, DomainRuleViolation

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (hotlead, api, admin_ext, reports)
NOT_IMPORTED = re.compile(r"\.migrations(\.|$)|^hotlead\.settings|^hotlead\.gunicorn_conf$")


def _import_every_module() -> None:
    for package in PACKAGES:
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if not NOT_IMPORTED.search(module.name):
                importlib.import_module(module.name)


def _error_classes() -> list[type[ApplicationError]]:
    _import_every_module()
    found, stack = [ApplicationError], [ApplicationError]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return found


def _declared() -> dict[str, list[str]]:
    codes: dict[str, list[str]] = {}
    for cls in _error_classes():
        if "code" in vars(cls):
            codes.setdefault(cls.code, []).append(f"{cls.__module__}.{cls.__qualname__}")
    return codes


def test_every_error_code_is_declared_by_exactly_one_class():
    declared = _declared()
    assert {code: owners for code, owners in declared.items() if len(owners) > 1} == {}
    assert all(re.fullmatch(ERROR_SCHEMA["properties"]["error"]["properties"]["code"]["pattern"], code)
               for code in declared)


def test_the_codes_the_api_document_names_are_declared():
    # given: every `code` the OpenAPI descriptions and the ErrorOut schema mention
    documented = set()
    for text in [*DESCRIPTIONS.values(), str(ERROR_SCHEMA)]:
        documented |= set(re.findall(r"`([a-z][a-z0-9_]*)`", text))
    documented |= {"validation_error", "not_found", "rate_limited"}  # the schema's examples, named bare
    # then
    assert documented - set(_declared()) == set()


def test_an_error_answered_by_status_alone_uses_its_class_code():
    for status, cls in STATUS_ERRORS.items():
        body = error_response(status).content
        assert f'"code": "{cls.code}"'.encode() in body
        assert cls.http_status == status and "code" in vars(cls)
    assert set(STATUS_ERRORS) == {400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500}


def test_a_code_cannot_be_invented_where_raised():
    with pytest.raises(TypeError):
        DomainRuleViolation("Some rule.", code="made_up_here")


def test_no_call_passes_a_code_to_an_application_error():
    # given: the names of every ApplicationError class
    names = {cls.__name__ for cls in _error_classes()}
    offenders = []
    # when: every call of one of them in the project's code
    for package in PACKAGES:
        for path in Path(package.__path__[0]).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in names and any(keyword.arg == "code" for keyword in node.keywords):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    # then
    assert offenders == []
