"""`manage.py simulate`: text, --json, --xlsx, scenario files, errors by name."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db

KEYS = {"leads", "sold", "unsold", "assignments", "revenue_cents", "sell_through", "gini", "max_spread",
        "providers_out_of_funds"}


def _run(*args) -> str:
    out = io.StringIO()
    call_command("simulate", *args, stdout=out)
    return out.getvalue()


def test_synthetic_json_has_both_sides(exclusive, semi, shared, tmp_path):
    scenario = tmp_path / "one.json"
    scenario.write_text(json.dumps({"levels": {"shared": {"max_recipients": 1}}}))
    data = json.loads(_run("synthetic", "--providers", "20", "--leads", "60", "--seed", "5", "--days", "3",
                           "--scenario", str(scenario), "--json"))
    assert set(data) == {"baseline", "scenario"}
    for side in data.values():
        assert set(side) >= KEYS and side["leads"] == 60
    assert data["scenario"]["levels"][2]["max_recipients"] == 1


def test_synthetic_text_and_xlsx(exclusive, semi, shared, tmp_path):
    target = tmp_path / "out.xlsx"
    text = _run("synthetic", "--providers", "20", "--leads", "60", "--seed", "5", "--days", "3",
                "--xlsx", str(target))
    assert "Sell-through" in text and "nothing was written" in text
    wb = load_workbook(target)
    assert wb.sheetnames == ["Summary", "Levels", "Unsold", "Providers", "Starving"]
    rows = {row[0]: row[1:] for row in wb["Summary"].iter_rows(values_only=True)}
    assert rows["Leads"][:2] == (60, 60)


def test_yaml_scenario(exclusive, semi, shared, tmp_path):
    pytest.importorskip("yaml")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("levels:\n  exclusive:\n    price_cents: 15000\n")
    data = json.loads(_run("synthetic", "--providers", "10", "--leads", "30", "--seed", "1", "--days", "2",
                           "--scenario", str(scenario), "--json"))
    assert data["scenario"]["levels"][0]["price_cents"] == 15_000


def test_unknown_slug_is_refused_by_name(exclusive, semi, shared, tmp_path):
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps({"levels": {"gold": {"price_cents": 1}}}))
    with pytest.raises(CommandError, match="levels.gold"):
        _run("synthetic", "--providers", "5", "--leads", "5", "--seed", "1", "--scenario", str(scenario))
    scenario.write_text(json.dumps({"levels": {"exclusive": {"prize_cents": 1}}}))
    with pytest.raises(CommandError, match="levels.exclusive.prize_cents"):
        _run("replay", "--from", "2026-01-01", "--to", "2026-01-02", "--scenario", str(scenario))


def test_replay_of_an_empty_range(exclusive, semi, shared):
    data = json.loads(_run("replay", "--from", "2026-01-01", "--to", "2026-01-31", "--json"))
    assert data["baseline"]["leads"] == 0 and data["scenario"]["sell_through"] == 0.0
    with pytest.raises(CommandError, match="not a date"):
        _run("replay", "--from", "yesterday", "--to", "2026-01-31")
