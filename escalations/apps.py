from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from escalations.demo import seed_demo_escalations
        from supportai.demo import DEMO_STEPS

        if seed_demo_escalations not in DEMO_STEPS:
            DEMO_STEPS.append(seed_demo_escalations)
