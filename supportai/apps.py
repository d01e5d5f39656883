from django.apps import AppConfig


class SupportAIConfig(AppConfig):
    name = "supportai"
    verbose_name = "Tenancy"
    default_auto_field = "django.db.models.BigAutoField"
