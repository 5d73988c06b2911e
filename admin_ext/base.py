"""The console's ModelAdmin: unfold's, plus a guard on the changelist's bulk-action selection."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from unfold.admin import ModelAdmin as UnfoldModelAdmin

from admin_ext.paginator import EstimatedCountPaginator


class ModelAdmin(UnfoldModelAdmin):
    # no full COUNT(*) of a big table on every list load (see admin_ext/paginator.py)
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def response_action(self, request, queryset):
        """A bulk action's selected ids come from the form: a value that is not an id of this model (a
        hand-made POST) gets a message and the list again, instead of the server error Django gives it."""
        pk = self.model._meta.pk
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            try:
                pk.get_prep_value(pk.to_python(value))
            except (ValidationError, ValueError, TypeError, OverflowError):
                self.message_user(request, "The selection is not valid: choose the rows again.", messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """A detail page is titled by what it shows ("Bay Roofing Co.", "Distribution run #4 …"), not
        "Change provider" or "DistributionRun object (4)"."""
        if obj is not None and not add:
            context["title"] = str(obj)
            context["subtitle"] = None
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


def choice_badge(obj, field: str):
    """A status badge's value for unfold's `@display(label={code: colour})`: (code, human label), so the colour
    is picked by the stored code and the badge reads "Refunded", not "refunded" (issue 13, plain language)."""
    value = getattr(obj, field)
    label = getattr(obj, f"get_{field}_display", None)
    return (value, label()) if label is not None and value not in (None, "") else value
