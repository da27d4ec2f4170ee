from django.apps import AppConfig
from django.db.models.signals import pre_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.models import User
        from accounts.receivers import revoke_tokens_on_password_change

        pre_save.connect(
            revoke_tokens_on_password_change, sender=User, dispatch_uid="accounts-revoke-tokens"
        )
