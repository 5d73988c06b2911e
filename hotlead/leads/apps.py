from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "hotlead.leads"
    label = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        # in ready(): the models and selectors are not loadable before the apps are
        from django.db.models.signals import post_delete, post_save

        # Create the funnel's series at start-up, so every process exports them (at 0) from the first scrape.
        from hotlead.leads import metrics  # noqa: F401
        from hotlead.leads.models import Category
        from hotlead.leads.selectors import categories_active_forget

        # The intake's copy of the active categories is dropped whenever one changes in this process.
        post_save.connect(categories_active_forget, sender=Category, dispatch_uid="leads.categories_active_forget")
        post_delete.connect(categories_active_forget, sender=Category, dispatch_uid="leads.categories_active_forget")
