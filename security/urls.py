from __future__ import annotations

from django.urls import path

from security import views

urlpatterns = [
    path("orgs/<slug:slug>/security/credential-policy/", views.credential_policy_save, name="credential-policy"),
    path("orgs/<slug:slug>/keys/<str:public_id>/narrow/", views.key_narrow, name="key-narrow"),
]
