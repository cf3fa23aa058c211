from __future__ import annotations

from django.urls import path

from webhooks import views

urlpatterns = [
    path("orgs/<slug:slug>/webhooks/", views.webhook_list, name="webhook-list"),
    path("orgs/<slug:slug>/webhooks/secret/", views.webhook_secret, name="webhook-secret"),
    path("orgs/<slug:slug>/webhooks/<int:endpoint_id>/", views.webhook_detail, name="webhook-detail"),
    path("orgs/<slug:slug>/webhooks/<int:endpoint_id>/test/", views.webhook_test, name="webhook-test"),
    path("orgs/<slug:slug>/webhooks/<int:endpoint_id>/rotate/", views.webhook_rotate, name="webhook-rotate"),
    path("orgs/<slug:slug>/webhooks/<int:endpoint_id>/delete/", views.webhook_delete, name="webhook-delete"),
    path("orgs/<slug:slug>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend/", views.webhook_resend,
         name="webhook-resend"),
]
