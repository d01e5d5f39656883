from django.urls import path

from chat import console_views

app_name = "chat_console"

urlpatterns = [
    path("", console_views.conversations, name="conversations"),
    path("<int:pk>/", console_views.conversation_detail, name="conversation"),
]
