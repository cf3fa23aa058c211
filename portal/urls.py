from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # The API first: its paths are tried on every call, and none of the others begins with "api/".
    path("", include("portal.api.urls")),
    path("", RedirectView.as_view(pattern_name="dashboard"), name="home"),
    path("admin/", admin.site.urls),
    # Section 18: resource servers' introspection in front of oauthapps' own, and /gateway/auth.
    path("", include("gateway.urls")),
    path("", include("oauthapps.urls")),
    path("", include("accounts.urls")),
    path("", include("applications.urls")),
    path("", include("apikeys.urls")),
    path("", include("oauthapps.dashboard_urls")),
    path("", include("webhooks.urls")),
    path("", include("notifications.urls")),
    path("", include("usage.urls")),
    path("", include("security.urls")),
    # The top floor last: its "orgs/<slug>/" must not shadow the fixed addresses above (orgs/new/).
    path("", include("dashboard.urls")),
]

# A database that cannot be reached is a 503 with Retry-After, never a 500; a request refused before any view (an
# unknown Host) is JSON on an API path (portal.unavailable).
handler500 = "portal.unavailable.server_error"
handler400 = "portal.unavailable.bad_request"
