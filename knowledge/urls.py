from django.urls import path

from knowledge import apis

urlpatterns = [
    path("api/v1/knowledge/documents/", apis.DocumentsApi.as_view(), name="api-knowledge-documents"),
    path("api/v1/knowledge/documents/<int:pk>/", apis.DocumentDetailApi.as_view(), name="api-knowledge-document"),
    path("api/v1/knowledge/sources/", apis.UrlSourceCreateApi.as_view(), name="api-knowledge-source-create"),
    path("api/v1/knowledge/sources/<int:pk>/", apis.SourceDetailApi.as_view(), name="api-knowledge-source"),
    path("api/v1/knowledge/sources/<int:pk>/sync/", apis.SourceSyncApi.as_view(), name="api-knowledge-source-sync"),
    path("api/v1/knowledge/search/", apis.RetrieveApi.as_view(), name="api-knowledge-search"),
]
