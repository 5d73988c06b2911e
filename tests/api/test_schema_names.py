"""Ninja names OpenAPI components after schema classes: two classes with one name overwrite each other."""
from __future__ import annotations

import collections
import importlib
import inspect
import pkgutil

from ninja import Schema

import api.schemas


def test_every_api_schema_class_has_a_unique_name():
    owners: dict[str, list[str]] = collections.defaultdict(list)
    for module_info in pkgutil.iter_modules(api.schemas.__path__):
        module = importlib.import_module(f"api.schemas.{module_info.name}")
        for name, obj in inspect.getmembers(module, inspect.isclass):
            # private bases (leading underscore) are never an endpoint's schema, so never a component
            if issubclass(obj, Schema) and obj.__module__ == module.__name__ and not name.startswith("_"):
                owners[name].append(module.__name__)
    duplicates = {name: modules for name, modules in owners.items() if len(modules) > 1}
    assert duplicates == {}
