"""`{{ value|account_unseal }}`: open a link sealed by hotlead.accounts.seal (verification, password reset)."""
from django import template

from hotlead.accounts.seal import account_unseal as _unseal

register = template.Library()


@register.filter
def account_unseal(value: str) -> str:
    return _unseal(value or "")
