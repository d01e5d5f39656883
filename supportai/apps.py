from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_delete, pre_save


class SupportAIConfig(AppConfig):
    name = "supportai"
    verbose_name = "Tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from supportai import checks  # noqa: F401  (registers the system checks)
        from supportai.memberships import refuse_last_owner_deactivation, refuse_last_owner_delete

        pre_delete.connect(refuse_last_owner_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="last-owner-delete")
        pre_save.connect(
            refuse_last_owner_deactivation, sender=settings.AUTH_USER_MODEL, dispatch_uid="last-owner-deactivation"
        )
