"""`{{ value|unseal }}`: open a secret sealed by hotlead.leads.codes.seal (used by the verification e-mail);
`{{ value|unseal_part:"code" }}`: one of several secrets sealed together by `codes.seal_many`. The verification
e-mail shows `{{ secrets_sealed|unseal_part:"code" }}{{ code_sealed|unseal }}`: one of the two is in its context
(`code_sealed` in an e-mail queued before the secrets were sealed together), the other renders empty."""
from django import template

from hotlead.leads import codes

register = template.Library()


@register.filter
def unseal(value: str) -> str:
    return codes.unseal(value or "")


@register.filter
def unseal_part(value: str, name: str) -> str:
    return codes.unseal_part(value or "", name)
