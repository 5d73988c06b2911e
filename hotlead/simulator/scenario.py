"""Scenario files for the what-if simulator (SPEC §10.1): what to change before the leads are replayed.

    {"levels": {"<slug>": {"price_cents": N, "max_recipients": N, "active": true, "rank": N}},
     "providers": {"balance_scale": 1.5, "daily_cap": N|null, "weekly_cap": N|null, "monthly_cap": N|null,
                   "monthly_budget_cents": N|null},
     "deposits": {"scale": 1.0, "top_up_below_cents": N, "top_up_cents": N}}

Every key is optional. An unknown section, level slug or field is refused by name (ScenarioInvalid), so a
typo can never silently simulate the baseline. JSON always; YAML when PyYAML is importable.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotlead.core.exceptions import ValidationFailed

LEVEL_FIELDS = {"price_cents": int, "max_recipients": int, "active": bool, "rank": int}
CAP_FIELDS = ("daily_cap", "weekly_cap", "monthly_cap", "monthly_budget_cents")
PROVIDER_FIELDS = {"balance_scale", *CAP_FIELDS}
DEPOSIT_FIELDS = {"scale", "top_up_below_cents", "top_up_cents"}
SECTIONS = {"levels", "providers", "deposits"}
UNSET = object()


class ScenarioInvalid(ValidationFailed):
    code = "scenario_invalid"
    default_message = "The scenario is not valid."

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}", details={"fields": [{"field": field_name, "message": message}]})


@dataclass(frozen=True)
class Scenario:
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)
    # subscription caps set on every subscription (None = remove the cap); absent = unchanged
    caps: dict[str, int | None] = field(default_factory=dict)
    balance_scale: float = 1.0
    deposit_scale: float = 1.0
    top_up_below_cents: int | None = None
    top_up_cents: int | None = None

    @property
    def is_empty(self) -> bool:
        return self == Scenario()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.levels:
            out["levels"] = self.levels
        providers = dict(self.caps)
        if self.balance_scale != 1.0:
            providers["balance_scale"] = self.balance_scale
        if providers:
            out["providers"] = providers
        deposits: dict[str, Any] = {}
        if self.deposit_scale != 1.0:
            deposits["scale"] = self.deposit_scale
        if self.top_up_cents is not None:
            deposits["top_up_below_cents"] = self.top_up_below_cents
            deposits["top_up_cents"] = self.top_up_cents
        if deposits:
            out["deposits"] = deposits
        return out


def _int(name: str, value: Any, *, minimum: int, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioInvalid(name, "must be a whole number" + (" or null" if nullable else "") + ".")
    if value < minimum:
        raise ScenarioInvalid(name, f"must be at least {minimum}.")
    return value


def _scale(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ScenarioInvalid(name, "must be a number, 0 or more.")
    return float(value)


def _object(name: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ScenarioInvalid(name, "must be an object.")
    return value


def _unknown(name: str, given: dict, allowed: set[str]) -> None:
    for key in given:
        if key not in allowed:
            raise ScenarioInvalid(f"{name}.{key}" if name else str(key),
                                  f"unknown field '{key}' (known: {', '.join(sorted(allowed))}).")


def scenario_parse(data: Any, *, level_slugs: set[str]) -> Scenario:
    """Validate a scenario document against the market's level slugs; refuse anything unknown by name."""
    if data is None:
        return Scenario()
    data = _object("scenario", data)
    _unknown("", data, SECTIONS)
    levels: dict[str, dict[str, Any]] = {}
    for slug, changes in _object("levels", data.get("levels", {})).items():
        if slug not in level_slugs:
            raise ScenarioInvalid(f"levels.{slug}",
                                  f"unknown level '{slug}' (known: {', '.join(sorted(level_slugs)) or 'none'}).")
        changes = _object(f"levels.{slug}", changes)
        _unknown(f"levels.{slug}", changes, set(LEVEL_FIELDS))
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            name = f"levels.{slug}.{key}"
            if LEVEL_FIELDS[key] is bool:
                if not isinstance(value, bool):
                    raise ScenarioInvalid(name, "must be true or false.")
                clean[key] = value
            else:
                clean[key] = _int(name, value, minimum=0 if key == "price_cents" else 1)
        if clean:
            levels[slug] = clean
    providers = _object("providers", data.get("providers", {}))
    _unknown("providers", providers, PROVIDER_FIELDS)
    caps = {key: _int(f"providers.{key}", providers[key], minimum=0, nullable=True)
            for key in CAP_FIELDS if key in providers}
    balance_scale = _scale("providers.balance_scale", providers.get("balance_scale", 1.0))
    deposits = _object("deposits", data.get("deposits", {}))
    _unknown("deposits", deposits, DEPOSIT_FIELDS)
    deposit_scale = _scale("deposits.scale", deposits.get("scale", 1.0))
    top_up_cents = top_up_below = None
    if "top_up_cents" in deposits or "top_up_below_cents" in deposits:
        top_up_cents = _int("deposits.top_up_cents", deposits.get("top_up_cents"), minimum=1)
        top_up_below = _int("deposits.top_up_below_cents", deposits.get("top_up_below_cents"), minimum=0)
    return Scenario(levels=levels, caps=caps, balance_scale=balance_scale, deposit_scale=deposit_scale,
                    top_up_below_cents=top_up_below, top_up_cents=top_up_cents)


def scenario_load(path: str | Path) -> Any:
    """Read a scenario file: JSON, or YAML (.yaml/.yml) when PyYAML is installed. Returns the raw document."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioInvalid("scenario", f"cannot read {path}: {exc.strerror}.") from exc
    if path.suffix.lower() in {".yaml", ".yml"}:
        try:
            import yaml  # optional: PyYAML is not a dependency of the project
        except ImportError as exc:  # not a dependency of the project: JSON always works
            raise ScenarioInvalid("scenario", "YAML needs PyYAML installed; use a .json file.") from exc
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScenarioInvalid("scenario", f"not valid YAML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioInvalid("scenario", f"not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
