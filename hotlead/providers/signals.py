"""What the providers app announces to the apps ranked above it, which it does not import (docs/architecture.md)."""
from django.dispatch import Signal

# provider=Provider; sent inside the registering transaction (billing opens the provider's account)
provider_registered = Signal()
# provider=Provider, actor; sent when a profile update changed webhook_url (webhooks keeps the endpoint)
provider_webhook_url_changed = Signal()
