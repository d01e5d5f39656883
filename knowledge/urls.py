from django.urls import path

from knowledge import apis

urlpatterns = [
    path("api/v1/knowledge/documents/", apis.DocumentUploadApi.as_view(), name="api-knowledge-upload"),
    path("api/v1/knowledge/documents/<int:pk>/", apis.DocumentDetailApi.as_view(), name="api-knowledge-document"),
    path("api/v1/knowledge/search/", apis.RetrieveApi.as_view(), name="api-knowledge-search"),
]
