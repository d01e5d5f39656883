from django.urls import path

from knowledge import console_views

app_name = "knowledge_console"

urlpatterns = [
    path("", console_views.documents, name="documents"),
    path("sources/<int:pk>/sync/", console_views.source_sync, name="source-sync"),
    path("search/", console_views.search, name="search"),
]
