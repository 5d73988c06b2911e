from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "hotlead.providers"
    label = "providers"
    verbose_name = "Providers"

    def ready(self) -> None:
        # in ready(): accounts and the provider services import models: not loadable before the apps are
        from hotlead.accounts.models import Role
        from hotlead.accounts.services import login_role_check_register
        from hotlead.providers.services import provider_login_check

        login_role_check_register(role=Role.PROVIDER, check=provider_login_check)
