"""`{{ value|unseal }}`: open a secret sealed by hotlead.leads.codes.seal (used by the verification e-mail)."""
from django import template

from hotlead.leads.codes import unseal as _unseal

register = template.Library()


@register.filter
def unseal(value: str) -> str:
    return _unseal(value or "")
