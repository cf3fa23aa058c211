from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard"), name="home"),
    path("admin/", admin.site.urls),
    path("", include("portal.api.urls")),
    path("", include("oauthapps.urls")),
    path("", include("accounts.urls")),
    path("", include("audit.urls")),
    path("", include("applications.urls")),
    path("", include("apikeys.urls")),
    path("", include("oauthapps.dashboard_urls")),
    path("", include("webhooks.urls")),
    path("", include("notifications.urls")),
    path("", include("usage.urls")),
]

# A database that cannot be reached is a 503 with Retry-After, never a 500 (portal.unavailable).
handler500 = "portal.unavailable.server_error"
