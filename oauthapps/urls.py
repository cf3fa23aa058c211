"""The OAuth 2.0 and OpenID Connect endpoints, under DOT's ``oauth2_provider`` namespace so its metadata views
find them."""

from django.urls import path

from oauthapps import device_authorization, endpoints, oidc_views

app_name = "oauth2_provider"

urlpatterns = [
    path("oauth/authorize/", endpoints.ConsentView.as_view(), name="authorize"),
    path("oauth/token/", endpoints.PortalTokenView.as_view(), name="token"),
    path("oauth/revoke/", endpoints.PortalRevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/introspect/", endpoints.IntrospectView.as_view(), name="introspect"),
    path("oauth/device-authorization/", device_authorization.DeviceAuthorizationView.as_view(),
         name="device-authorization"),
    path("oauth/userinfo/", oidc_views.PortalUserInfoView.as_view(), name="user-info"),
    path("oauth/jwks/", oidc_views.JwksView.as_view(), name="jwks-info"),
    path(".well-known/oauth-authorization-server", oidc_views.ServerMetadata.as_view(), name="oauth-server-metadata"),
    path(".well-known/openid-configuration", oidc_views.OpenIDConfiguration.as_view(),
         name="oidc-connect-discovery-info"),
]
