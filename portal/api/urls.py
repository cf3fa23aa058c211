"""Every path of the REST API. Exact paths, no trailing slash; anything else under /api/ is a JSON 404."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from accounts.api.views import InvitationCreateView, MemberDetailView, MemberListView
from apikeys.api.views import ApiKeyDetailView, ApiKeyListView, ApiKeyRotateView
from applications.api.views import ApplicationDetailView, ApplicationListView
from audit.api.views import AuditEventListView
from leaks.api.views import CredentialRevokeView, GitHubSecretScanningView
from oauthapps.api.views import (
    JsonTokenView,
    OAuthClientDetailView,
    OAuthClientListView,
    OAuthClientRotateSecretView,
)
from portal.api.views import ApiDocsView, HelloView, MeView, NotFoundView, ScopesView
from security.api.views import ApiKeyScopeUsageView, OrganizationPolicyView
from usage.api.views import RequestLogListView, UsageView
from webhooks.api.views import (
    WebhookDeliveryListView,
    WebhookDeliveryRetryView,
    WebhookEndpointDetailView,
    WebhookEndpointListView,
    WebhookEndpointRotateSecretView,
    WebhookEndpointTestView,
)

v1 = [
    path("hello", HelloView.as_view(), name="api-hello"),
    path("me", MeView.as_view(), name="api-me"),
    path("scopes", ScopesView.as_view(), name="api-scopes"),
    path("applications", ApplicationListView.as_view(), name="api-applications"),
    path("applications/<int:application_id>", ApplicationDetailView.as_view(), name="api-application"),
    path("api-keys", ApiKeyListView.as_view(), name="api-api-keys"),
    path("api-keys/<str:key_id>", ApiKeyDetailView.as_view(), name="api-api-key"),
    path("api-keys/<str:key_id>/rotate", ApiKeyRotateView.as_view(), name="api-api-key-rotate"),
    path("members", MemberListView.as_view(), name="api-members"),
    path("members/<int:membership_id>", MemberDetailView.as_view(), name="api-member"),
    path("invitations", InvitationCreateView.as_view(), name="api-invitations"),
    path("audit-events", AuditEventListView.as_view(), name="api-audit-events"),
    path("oauth-clients", OAuthClientListView.as_view(), name="api-oauth-clients"),
    path("oauth-clients/<int:client_id>", OAuthClientDetailView.as_view(), name="api-oauth-client"),
    path("oauth-clients/<int:client_id>/rotate-secret", OAuthClientRotateSecretView.as_view(),
         name="api-oauth-client-rotate-secret"),
    path("auth", JsonTokenView.as_view(), name="api-auth"),
    path("credentials/revoke", CredentialRevokeView.as_view(), name="api-credentials-revoke"),
    path("secret-scanning/github", GitHubSecretScanningView.as_view(), name="api-secret-scanning-github"),
    path("webhooks", WebhookEndpointListView.as_view(), name="api-webhooks"),
    path("webhooks/<int:endpoint_id>", WebhookEndpointDetailView.as_view(), name="api-webhook"),
    path("webhooks/<int:endpoint_id>/rotate-secret", WebhookEndpointRotateSecretView.as_view(),
         name="api-webhook-rotate-secret"),
    path("webhooks/<int:endpoint_id>/test", WebhookEndpointTestView.as_view(), name="api-webhook-test"),
    path("webhooks/<int:endpoint_id>/deliveries", WebhookDeliveryListView.as_view(), name="api-webhook-deliveries"),
    path("webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/retry", WebhookDeliveryRetryView.as_view(),
         name="api-webhook-delivery-retry"),
    path("usage", UsageView.as_view(), name="api-usage"),
    path("request-logs", RequestLogListView.as_view(), name="api-request-logs"),
    path("organization/policy", OrganizationPolicyView.as_view(), name="api-organization-policy"),
    path("api-keys/<str:key_id>/scope-usage", ApiKeyScopeUsageView.as_view(), name="api-api-key-scope-usage"),
]

urlpatterns = [
    path("api/v1/", include(v1)),
    # The API reference, public: the OpenAPI 3 document and a page rendering it from /static/ (no CDN).
    path("api/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", NotFoundView.as_view()),
]
