from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from routing import checks  # noqa: F401  (registers the system checks)
        from routing.config import routing_settings

        # A malformed ROUTING_TIER<n> stops daphne, celery and manage.py here, naming the variable, rather than
        # letting them start and fail every chat turn.
        routing_settings()
