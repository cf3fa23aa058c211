from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("portal.api.urls")),
    path("", include("oauthapps.urls")),
    path("", include("accounts.urls")),
    path("", include("audit.urls")),
    path("", include("apikeys.urls")),
    path("", include("oauthapps.dashboard_urls")),
]
