"""What the leads app announces to the apps ranked above it, which it does not import (docs/architecture.md)."""
from django.dispatch import Signal

# lead=Lead; sent inside the approving transaction (distribution queues the lead's sale after commit)
lead_approved = Signal()
