"""The what-if simulator in the console (SPEC §10.1): pick a synthetic market or a date range, edit the levels,
run it as a background job, watch its progress, compare baseline and scenario in charts and tables.
Past runs are kept with their inputs. The domain work is `hotlead.simulator.services`.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib import admin
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from admin_ext.base import ModelAdmin
from hotlead.core.exceptions import ApplicationError
from hotlead.core.money import money_format
from hotlead.levels.models import CompetitionLevel
from hotlead.simulator.exports import report_xlsx
from hotlead.simulator.models import SimulationRun, SimulationSource, SimulationStatus
from hotlead.simulator.report import HEADLINE
from hotlead.simulator.services.runs import JOB_MAX_LEADS, JOB_MAX_PROVIDERS, simulation_run_create

TEMPLATE_NEW = "admin/simulator/new.html"
TEMPLATE_RUN = "admin/simulator/run.html"


def _int_field(label: str, initial: int | None, *, minimum: int, maximum: int, required: bool = True):
    return forms.IntegerField(label=label, initial=initial, min_value=minimum, max_value=maximum, required=required,
                              widget=UnfoldAdminIntegerFieldWidget)


class SimulationForm(forms.Form):
    source = forms.ChoiceField(choices=SimulationSource.choices, initial=SimulationSource.SYNTHETIC,
                               widget=UnfoldAdminSelectWidget)
    providers = _int_field("Providers (synthetic)", 200, minimum=1, maximum=JOB_MAX_PROVIDERS, required=False)
    leads = _int_field("Leads (synthetic)", 500, minimum=1, maximum=JOB_MAX_LEADS, required=False)
    seed = _int_field("Seed (synthetic)", 1, minimum=0, maximum=2**31 - 1, required=False)
    days = _int_field("Days (synthetic)", 14, minimum=1, maximum=90, required=False)
    date_from = forms.DateField(label="From (replay, UTC)", required=False,
                                widget=UnfoldAdminTextInputWidget(attrs={"type": "date"}))
    date_to = forms.DateField(label="To, inclusive (replay, UTC)", required=False,
                              widget=UnfoldAdminTextInputWidget(attrs={"type": "date"}))
    balance_scale = forms.FloatField(label="Scale every balance by", initial=1.0, min_value=0, max_value=100,
                                     widget=UnfoldAdminTextInputWidget)

    def __init__(self, *args, levels: list[CompetitionLevel], **kwargs):
        super().__init__(*args, **kwargs)
        self.levels = levels
        for level in levels:
            self.fields[f"price_{level.slug}"] = _int_field(f"{level.name}: price (cents)", level.price_cents,
                                                            minimum=0, maximum=10_000_000)
            self.fields[f"max_{level.slug}"] = _int_field(f"{level.name}: max buyers", level.max_recipients,
                                                          minimum=1, maximum=100)
            self.fields[f"active_{level.slug}"] = forms.BooleanField(label=f"{level.name}: active", required=False,
                                                                     initial=level.active,
                                                                     widget=UnfoldBooleanSwitchWidget)

    def level_rows(self):
        return [(level, self[f"price_{level.slug}"], self[f"max_{level.slug}"], self[f"active_{level.slug}"])
                for level in self.levels]

    def clean(self):
        data = super().clean()
        if data.get("source") == SimulationSource.SYNTHETIC:
            for name in ("providers", "leads", "seed", "days"):
                if data.get(name) is None:
                    self.add_error(name, "Required for a synthetic market.")
        elif data.get("source") == SimulationSource.REPLAY:
            if not data.get("date_from"):
                self.add_error("date_from", "Required for a replay.")
            if not data.get("date_to"):
                self.add_error("date_to", "Required for a replay.")
            if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
                self.add_error("date_to", "The range must end on or after its first day.")
        return data

    def params(self) -> dict:
        d = self.cleaned_data
        if d["source"] == SimulationSource.SYNTHETIC:
            return {k: d[k] for k in ("providers", "leads", "seed", "days")}
        start = datetime.combine(d["date_from"], time.min, tzinfo=UTC)
        end = datetime.combine(d["date_to"], time.min, tzinfo=UTC) + timedelta(days=1)
        return {"from": start.isoformat(), "to": end.isoformat()}

    def scenario(self) -> dict:
        """Only what differs from the market as it is: an untouched form is the baseline."""
        d = self.cleaned_data
        levels = {}
        for level in self.levels:
            changes = {}
            if d[f"price_{level.slug}"] != level.price_cents:
                changes["price_cents"] = d[f"price_{level.slug}"]
            if d[f"max_{level.slug}"] != level.max_recipients:
                changes["max_recipients"] = d[f"max_{level.slug}"]
            if d[f"active_{level.slug}"] != level.active:
                changes["active"] = d[f"active_{level.slug}"]
            if changes:
                levels[level.slug] = changes
        scenario: dict = {"levels": levels} if levels else {}
        if d.get("balance_scale") not in (None, 1.0):
            scenario["providers"] = {"balance_scale": d["balance_scale"]}
        return scenario


def _fmt(key: str, value) -> str:
    if key.endswith("_cents"):
        return money_format(value)
    if key == "sell_through":
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return f"{value:,}"


def run_context(run: SimulationRun) -> dict:
    """The comparison as unfold tables and Chart.js data."""
    if not run.result:
        return {}
    base, scen = run.result["baseline"], run.result["scenario"]
    summary = {"headers": ["Measure", "Baseline", "Scenario", "Change"],
               "rows": [[label.replace(" (cents)", "").replace("(cents, ", "("), _fmt(key, base[key]),
                         _fmt(key, scen[key]),
                         ("+" if scen[key] - base[key] > 0 else "") + _fmt(key, scen[key] - base[key])]
                        for key, label in HEADLINE]}
    slugs = sorted(set(base["by_level"]) | set(scen["by_level"]))
    revenue_chart = json.dumps({
        "labels": slugs,
        "datasets": [
            {"label": "Baseline revenue ($)", "data": [base["by_level"].get(s, {}).get("revenue_cents", 0) / 100
                                                       for s in slugs], "backgroundColor": "var(--color-base-400)"},
            {"label": "Scenario revenue ($)", "data": [scen["by_level"].get(s, {}).get("revenue_cents", 0) / 100
                                                       for s in slugs], "backgroundColor": "var(--color-primary-600)"},
        ]})
    reasons = sorted(set(base["unsold_by_reason"]) | set(scen["unsold_by_reason"]))
    unsold_chart = json.dumps({
        "labels": reasons,
        "datasets": [
            {"label": "Baseline", "data": [base["unsold_by_reason"].get(r, 0) for r in reasons],
             "backgroundColor": "var(--color-base-400)"},
            {"label": "Scenario", "data": [scen["unsold_by_reason"].get(r, 0) for r in reasons],
             "backgroundColor": "var(--color-primary-600)"},
        ]})
    scen_by = {p["provider"]: p for p in scen["providers"]}
    providers = {"headers": ["Provider", "Leads (baseline)", "Spend (baseline)", "Leads (scenario)",
                             "Spend (scenario)"],
                 "rows": [[p["provider"], p["leads"], money_format(p["spend_cents"]),
                           scen_by.get(p["provider"], {}).get("leads", 0),
                           money_format(scen_by.get(p["provider"], {}).get("spend_cents", 0))]
                          for p in base["providers"][:25]]}
    funds = {"headers": ["Side", "Provider", "Out of funds at"],
             "rows": [[side, o["provider"], o["at"][:16].replace("T", " ")]
                      for side, data in (("Baseline", base), ("Scenario", scen)) for o in data["out_of_funds"][:25]]}
    return {"summary": summary, "revenue_chart": revenue_chart, "unsold_chart": unsold_chart,
            "providers_table": providers, "funds_table": funds}


@admin.register(SimulationRun)
class SimulationRunAdmin(ModelAdmin):
    list_display = ("id", "source", "inputs", "status_badge", "progress", "created_at", "created_by")
    list_filter = ("source", "status")
    ordering = ("-created_at", "-id")
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False  # a run is kept as it ran: its page shows it, nothing edits it

    @admin.display(description="Inputs")
    def inputs(self, obj):
        params = ", ".join(f"{k} {v}" for k, v in obj.params.items())
        changes = json.dumps(obj.scenario, sort_keys=True) if obj.scenario else "no change (baseline only)"
        return f"{params} · {changes}"

    @admin.display(description="Status")
    def status_badge(self, obj):
        return obj.get_status_display()

    @admin.display(description="Progress")
    def progress(self, obj):
        return f"{obj.progress_percent}%"

    def get_urls(self):
        return [path("<int:object_id>/xlsx/", self.admin_site.admin_view(self.xlsx_view),
                     name="simulator_simulationrun_xlsx"), *super().get_urls()]

    def _levels(self):
        return list(CompetitionLevel.objects.filter(archived_at__isnull=True).order_by("rank", "id"))

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise Http404
        levels = self._levels()
        form = SimulationForm(request.POST or None, levels=levels)
        error = ""
        if request.method == "POST" and form.is_valid():
            try:
                run = simulation_run_create(source=form.cleaned_data["source"], params=form.params(),
                                            scenario=form.scenario(), actor=request.user)
            except ApplicationError as exc:
                fields = exc.details.get("fields", []) if isinstance(exc.details, dict) else []
                error = " ".join(f"{f['field']}: {f['message']}" for f in fields) or exc.message
            else:
                return HttpResponseRedirect(reverse("admin:simulator_simulationrun_change", args=[run.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "New what-if simulation", "error": error,
                   "back_url": reverse("admin:simulator_simulationrun_changelist")}
        return TemplateResponse(request, TEMPLATE_NEW, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        if run is None or not self.has_view_permission(request, run):
            raise Http404
        running = run.status in (SimulationStatus.QUEUED, SimulationStatus.RUNNING)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "run": run,
                   "title": str(run), "running": running, "original": run,
                   "inputs": self.inputs(run), **run_context(run),
                   "xlsx_url": reverse("admin:simulator_simulationrun_xlsx", args=[run.pk]) if run.result else None,
                   "back_url": reverse("admin:simulator_simulationrun_changelist"),
                   "new_url": reverse("admin:simulator_simulationrun_add")}
        return TemplateResponse(request, TEMPLATE_RUN, context)

    def xlsx_view(self, request, object_id):
        run = SimulationRun.objects.filter(pk=object_id).first()
        if run is None or not run.result or not self.has_view_permission(request, run):
            raise Http404
        content = report_xlsx(run.result, inputs={"source": run.source, **run.params,
                                                  "scenario": json.dumps(run.scenario, sort_keys=True)})
        response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument."
                                                      "spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="simulation-{run.pk}.xlsx"'
        return response

