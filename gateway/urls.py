from django.urls import path

from gateway import introspection, views

urlpatterns = [
    path("gateway/auth", views.GatewayAuthView.as_view(), name="gateway-auth"),
    # Before oauthapps' own pattern for the same path: it hands on every request that is not a resource server's.
    path("oauth/introspect/", introspection.ResourceServerIntrospectView.as_view(), name="introspect"),
]
