from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hotlead.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # in ready(): two-factor's plugins import models: not loadable before the apps are
        from hotlead.accounts.two_factor import two_factor_install

        two_factor_install()
