from django.urls import path

from escalations import console_views

app_name = "escalations_console"

urlpatterns = [
    path("", console_views.inbox, name="inbox"),
    path("<int:pk>/", console_views.inbox_detail, name="detail"),
    path("<int:pk>/claim/", console_views.claim, name="claim"),
    path("<int:pk>/assign/", console_views.assign, name="assign"),
    path("<int:pk>/reply/", console_views.reply, name="reply"),
    path("<int:pk>/hand-back/", console_views.hand_back, name="hand_back"),
    path("<int:pk>/resolve/", console_views.resolve, name="resolve"),
    path("notifications/<str:channel>/enable/", console_views.switch_on, name="switch_on"),
]
