from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hotlead.accounts"
    label = "accounts"
    verbose_name = "Accounts"
