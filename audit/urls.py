from __future__ import annotations

from django.urls import path

from audit import views

urlpatterns = [
    path("orgs/<slug:slug>/audit/", views.org_audit, name="org-audit"),
    path("orgs/<slug:slug>/audit/export/", views.org_audit_export, name="org-audit-export"),
]
