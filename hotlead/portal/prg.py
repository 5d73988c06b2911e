"""POST-redirect-GET for the portal: a form post always answers with a redirect, so a reload (or Back, or
Enter in the address bar) never re-posts and never lands on a POST-only URL's "405 Method Not Allowed".

- `post_only(page)`: a POST-only action URL opened with GET goes to its page instead of a 405.
- `form_stash` / `form_restore`: a form that failed validation is kept in the session (its errors, and its
  values except secrets) across the redirect and shown again on the page.
"""
from __future__ import annotations

from functools import wraps

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.shortcuts import redirect

SESSION_KEY = "portal_failed_forms"
_NEVER_KEPT = ("csrfmiddlewaretoken",)


def post_only(page: str, *, same_args: bool = True):
    """Like require_POST, but a GET (a reload, a bookmark) is redirected to `page` (a URL name, given the
    view's own URL arguments when `same_args`) rather than answered with 405."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != "POST":
                return redirect(page, *args, **kwargs) if same_args else redirect(page)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def form_stash(request, key: str, form: forms.Form) -> None:
    """Keep a failed form for the next page view (password fields are never kept)."""
    secret = {name for name, field in form.fields.items() if isinstance(field.widget, forms.PasswordInput)}
    data = {name: value for name, value in form.data.items() if name not in secret and name not in _NEVER_KEPT}
    stash = request.session.get(SESSION_KEY, {})
    stash[key] = {"data": data, "errors": form.errors.get_json_data()}
    request.session[SESSION_KEY] = stash


def form_restore(request, key: str, form_class, **kwargs) -> forms.Form | None:
    """The form stashed under `key` (bound to its values, with its errors), once; None when there is none."""
    stash = request.session.get(SESSION_KEY) or {}
    kept = stash.pop(key, None)
    if kept is None:
        return None
    request.session[SESSION_KEY] = stash
    form = form_class(kept["data"], **kwargs)
    form.full_clean()
    form._errors = ErrorDict()
    form.cleaned_data = {}
    for field, errors in kept["errors"].items():
        for error in errors:
            form.add_error(None if field == "__all__" else field,
                           ValidationError(error["message"], code=error.get("code") or None))
    return form
