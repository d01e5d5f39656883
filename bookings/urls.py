from django.urls import path

from bookings import views, webhooks

app_name = "bookings"

urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("bookings/checkout/test/<str:token>/", views.test_checkout, name="test_checkout"),
    path("bookings/checkout/done/", views.checkout_done, name="checkout_done"),
]
