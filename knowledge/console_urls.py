from django.urls import path

from knowledge import console_views

app_name = "knowledge_console"

urlpatterns = [
    path("", console_views.documents, name="documents"),
    path("search/", console_views.search, name="search"),
]
