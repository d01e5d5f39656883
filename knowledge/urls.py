from django.urls import path

from knowledge import api_retrieval, api_sources, apis

urlpatterns = [
    path("api/v1/knowledge/documents/", apis.DocumentsApi.as_view(), name="api-knowledge-documents"),
    path("api/v1/knowledge/documents/<int:pk>/", apis.DocumentDetailApi.as_view(), name="api-knowledge-document"),
    path("api/v1/knowledge/sources/", api_sources.UrlSourceCreateApi.as_view(), name="api-knowledge-source-create"),
    path("api/v1/knowledge/sources/<int:pk>/", api_sources.SourceDetailApi.as_view(), name="api-knowledge-source"),
    path(
        "api/v1/knowledge/sources/<int:pk>/sync/", api_sources.SourceSyncApi.as_view(), name="api-knowledge-source-sync"
    ),
    path("api/v1/knowledge/search/", api_retrieval.RetrieveApi.as_view(), name="api-knowledge-search"),
]
