from django.apps import AppConfig


class LevelsConfig(AppConfig):
    name = "hotlead.levels"
    label = "levels"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        # in ready(): the receivers import models: not loadable before the apps are
        from hotlead.billing.signals import funds_changed
        from hotlead.levels.receivers import funds_changed_sync

        funds_changed.connect(funds_changed_sync, dispatch_uid="levels_funds_changed")
