from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "hotlead.leads"
    label = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        # Create the funnel's series at start-up, so every process exports them (at 0) from the first scrape.
        from hotlead.leads import metrics  # noqa: F401
