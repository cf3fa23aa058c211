"""The OAuth 2.0 endpoints, under DOT's ``oauth2_provider`` namespace so its metadata view finds them."""

from django.urls import path
from oauth2_provider.views import OAuthServerMetadataView

from oauthapps import views

app_name = "oauth2_provider"

urlpatterns = [
    path("oauth/authorize/", views.ConsentView.as_view(), name="authorize"),
    path("oauth/token/", views.PortalTokenView.as_view(), name="token"),
    path("oauth/revoke/", views.PortalRevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/introspect/", views.IntrospectView.as_view(), name="introspect"),
    path(".well-known/oauth-authorization-server", OAuthServerMetadataView.as_view(), name="oauth-server-metadata"),
]
