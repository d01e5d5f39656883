from django.urls import path

from knowledge import console_search, console_sources, console_views

app_name = "knowledge_console"

urlpatterns = [
    path("", console_views.documents, name="documents"),
    path("documents/<int:pk>/", console_views.document_detail, name="document"),
    path("documents/<int:pk>/delete/", console_views.document_delete_page, name="document-delete"),
    path("documents/<int:pk>/reindex/", console_views.document_reindex, name="document-reindex"),
    path("sources/new/", console_sources.url_source_new, name="source-new"),
    path("sources/<int:pk>/edit/", console_sources.url_source_edit, name="source-edit"),
    path("sources/<int:pk>/delete/", console_sources.url_source_delete, name="source-delete"),
    path("sources/<int:pk>/sync/", console_sources.source_sync, name="source-sync"),
    path("search/", console_search.search, name="search"),
]
