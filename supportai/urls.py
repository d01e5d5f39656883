from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from bookings import public_api as bookings_public_api
from chat import public_api, widget_strings
from chat.views import demo_page
from escalations import public_api as escalations_public_api
from supportai import apis
from supportai.favicon import favicon
from supportai.health import healthz

handler400 = "supportai.error_pages.bad_request"
handler404 = "supportai.error_pages.not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("demo/", demo_page, name="demo"),
    path("admin/", admin.site.urls),
    path("console/conversations/", include("chat.console_urls")),
    path("console/knowledge/", include("knowledge.console_urls")),
    path("console/inbox/", include("escalations.console_urls")),
    path("console/bookings/", include("bookings.console_urls")),
    path("console/", include("supportai.console.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/tenant/", apis.TenantDetailApi.as_view(), name="api-tenant-detail"),
    path("", include("knowledge.urls")),
    path("", include("bookings.urls")),
    path("api/v1/public/chat/messages", public_api.post_message, name="public-chat-message"),
    path("api/v1/public/chat/messages/stream", public_api.stream_message, name="public-chat-stream"),
    path("api/v1/public/chat/escalate", escalations_public_api.escalate, name="public-chat-escalate"),
    path(
        "api/v1/public/chat/proposals/confirm",
        bookings_public_api.ProposalConfirmApi.as_view(),
        name="public-chat-proposal-confirm",
    ),
    path(
        "api/v1/public/chat/proposals/reject",
        bookings_public_api.ProposalRejectApi.as_view(),
        name="public-chat-proposal-reject",
    ),
    path("api/v1/public/widget/strings/<str:tags>", widget_strings.strings, name="public-widget-strings"),
]
