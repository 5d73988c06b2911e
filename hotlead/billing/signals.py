"""What the billing app announces to the apps ranked above it, which it does not import (docs/architecture.md)."""
from django.dispatch import Signal

# provider_id=int; sent inside the transaction that moved the balance (levels re-matches subscriptions to it)
funds_changed = Signal()
