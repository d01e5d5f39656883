from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bookings.customer_context import booking_lines
        from bookings.demo import seed_demo_bookings
        from bookings.protocol import BOOKING_PARSERS
        from chat.customer_context import CONTEXT_CONTRIBUTORS
        from chat.protocol import PARSERS
        from supportai.demo import DEMO_STEPS

        if seed_demo_bookings not in DEMO_STEPS:
            DEMO_STEPS.append(seed_demo_bookings)
        if booking_lines not in CONTEXT_CONTRIBUTORS:
            CONTEXT_CONTRIBUTORS.append(booking_lines)
        PARSERS.update(BOOKING_PARSERS)
