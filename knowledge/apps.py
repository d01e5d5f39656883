from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from knowledge import checks  # noqa: F401  (registers the system checks)
        from knowledge.demo import seed_demo_knowledge
        from supportai.demo import DEMO_STEPS

        if seed_demo_knowledge not in DEMO_STEPS:
            DEMO_STEPS.append(seed_demo_knowledge)
