from django.urls import path

from bookings import console_catalog, console_views

app_name = "bookings_console"

urlpatterns = [
    path("", console_views.booking_list, name="list"),
    path("day/", console_views.booking_day, name="day"),
    path("new/", console_views.booking_new, name="new"),
    path("<int:pk>/", console_views.booking_detail, name="detail"),
    path("<int:pk>/cancel/", console_views.booking_cancel, name="cancel"),
    path("<int:pk>/reschedule/", console_views.booking_reschedule, name="reschedule"),
    path("<int:pk>/paid/", console_views.booking_record_payment, name="record_payment"),
    path("<int:pk>/refund/", console_views.booking_refund, name="refund"),
    path("<int:pk>/refund/offline/", console_views.booking_refund_offline, name="refund_offline"),
    path("<int:pk>/no-show/", console_views.booking_no_show, name="no_show"),
    path("<int:pk>/no-show/undo/", console_views.booking_undo_no_show, name="no_show_undo"),
    path("<int:pk>/emails/<int:email_pk>/retry/", console_views.booking_email_retry, name="email_retry"),
    path("services/", console_catalog.catalog_page, name="catalog"),
    path("services/new/", console_catalog.service_edit, name="service_new"),
    path("services/<int:pk>/", console_catalog.service_edit, name="service_edit"),
    path("services/rules/", console_catalog.rule_add, name="rule_add"),
    path("services/rules/<int:pk>/delete/", console_catalog.rule_delete, name="rule_delete"),
    path("services/blackouts/", console_catalog.blackout_add, name="blackout_add"),
    path("services/blackouts/<int:pk>/delete/", console_catalog.blackout_delete, name="blackout_delete"),
]
