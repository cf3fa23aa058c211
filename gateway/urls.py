from django.urls import path

from gateway import introspection, views

urlpatterns = [
    path("gateway/auth", views.GatewayAuthView.as_view(), name="gateway-auth"),
    # Envoy's HTTP ext_authz appends the original path to its path_prefix (``/gateway/auth/orders/7``).
    path("gateway/auth/<path:original>", views.GatewayAuthView.as_view(), name="gateway-auth-path"),
    # Before oauthapps' own pattern for the same path: it hands on every request that is not a resource server's.
    path("oauth/introspect/", introspection.ResourceServerIntrospectView.as_view(), name="introspect"),
]
