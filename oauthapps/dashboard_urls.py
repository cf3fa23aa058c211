from __future__ import annotations

from django.urls import path

from oauthapps import pages as views
from oauthapps.device_authorization import DeviceView

urlpatterns = [
    path("device", DeviceView.as_view(), name="device"),
    path("orgs/<slug:slug>/apps/<int:app_id>/clients/new/", views.client_create, name="client-create"),
    path("orgs/<slug:slug>/clients/", views.client_list, name="client-list"),
    path("orgs/<slug:slug>/clients/created/", views.client_secret_shown, name="client-secret-shown"),
    path("orgs/<slug:slug>/clients/<int:client_pk>/", views.client_detail, name="client-detail"),
    path("orgs/<slug:slug>/clients/<int:client_pk>/edit/", views.client_edit, name="client-edit"),
    path("orgs/<slug:slug>/clients/<int:client_pk>/rotate/", views.client_rotate, name="client-rotate"),
    path("orgs/<slug:slug>/clients/<int:client_pk>/delete/", views.client_delete, name="client-delete"),
    path("account/authorized-apps/", views.authorized_apps, name="authorized-apps"),
    path("account/authorized-apps/<int:client_pk>/revoke/", views.authorized_app_revoke,
         name="authorized-app-revoke"),
]
