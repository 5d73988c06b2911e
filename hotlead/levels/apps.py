from django.apps import AppConfig


class LevelsConfig(AppConfig):
    name = "hotlead.levels"
    label = "levels"
    verbose_name = "Marketplace"
