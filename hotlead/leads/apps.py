from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "hotlead.leads"
    label = "leads"
    verbose_name = "Leads"
