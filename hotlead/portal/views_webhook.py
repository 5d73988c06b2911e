"""The portal's webhook page (SPEC §7): URL and events, the secret (shown once), the delivery log with
filters, Replay, Send test event and the one-click re-enable. Thin: one service call per action."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from hotlead.core.exceptions import ApplicationError, NotFound
from hotlead.portal.decorators import portal_login_required
from hotlead.portal.forms import form_errors_apply
from hotlead.webhooks import selectors, services
from hotlead.webhooks.enums import SUBSCRIBABLE, DeliveryStatus, EventType


class WebhookForm(forms.Form):
    url = forms.CharField(required=False, max_length=200, label="Endpoint URL",
                          help_text="https:// URL of your CRM's webhook receiver. Leave empty to stop sending.")
    events = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Events",
        choices=[(e, f"{e} — {EventType(e).label}") for e in SUBSCRIBABLE],
    )


class LogFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *DeliveryStatus.choices])
    event_type = forms.ChoiceField(required=False, label="Event",
                                   choices=[("", "Any event"), *((e.value, e.value) for e in EventType)])


def _page(request, *, form=None, new_secret: str | None = None):
    provider = request.provider
    endpoint = selectors.endpoint_for_provider(provider_id=provider.pk)
    if form is None:
        form = WebhookForm(initial={"url": endpoint.url if endpoint else "",
                                    "events": list(endpoint.events) if endpoint else list(SUBSCRIBABLE)})
    filters = LogFilterForm(request.GET or None)
    status = event_type = None
    if filters.is_valid():
        status = filters.cleaned_data["status"] or None
        event_type = filters.cleaned_data["event_type"] or None
    deliveries = selectors.deliveries_for_provider(provider_id=provider.pk, status=status, event_type=event_type,
                                                   limit=50)
    return render(request, "portal/webhook.html", {
        "endpoint": endpoint, "form": form, "filters": filters, "deliveries": deliveries, "new_secret": new_secret,
    })


@portal_login_required
@require_http_methods(["GET", "POST"])
def webhook(request):
    if request.method == "GET":
        return _page(request)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            _endpoint, secret = services.webhook_endpoint_configure(
                provider=request.provider, url=form.cleaned_data["url"], events=form.cleaned_data["events"],
                actor=request.user)
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, "Webhook settings saved.")
            if secret:  # shown in this answer only, never stored in the session
                return _page(request, new_secret=secret)
            return redirect("portal:webhook")
    return _page(request, form=form)


def _run(request, action, success: str):
    try:
        result = action()
    except NotFound:
        raise Http404("No such webhook delivery.") from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, success)
    return result


@portal_login_required
@require_POST
def webhook_rotate(request):
    result = _run(request, lambda: services.webhook_secret_rotate(provider_id=request.provider.pk,
                                                                  actor=request.user),
                  "New signing secret created. The previous one also signs for 24 hours.")
    if result is None:
        return redirect("portal:webhook")
    return _page(request, new_secret=result[1])


@portal_login_required
@require_POST
def webhook_test(request):
    _run(request, lambda: services.webhook_test_send(provider_id=request.provider.pk, actor=request.user),
         "Test event sent: it appears in the log below.")
    return redirect("portal:webhook")


@portal_login_required
@require_POST
def webhook_enable(request):
    _run(request, lambda: services.webhook_endpoint_enable(provider_id=request.provider.pk, actor=request.user),
         "Webhook enabled again.")
    return redirect("portal:webhook")


@portal_login_required
@require_POST
def webhook_replay(request, delivery_id: int):
    _run(request, lambda: services.webhook_delivery_replay(delivery_id=delivery_id, provider_id=request.provider.pk,
                                                           actor=request.user),
         "Replay queued: the same event (same webhook-id) is sent again.")
    return redirect("portal:webhook")
