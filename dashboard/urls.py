from __future__ import annotations

from django.urls import path

from dashboard import audit_views, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("orgs/<slug:slug>/", views.org_overview, name="org-overview"),
    path("orgs/<slug:slug>/audit/", audit_views.org_audit, name="org-audit"),
    path("orgs/<slug:slug>/audit/export/", audit_views.org_audit_export, name="org-audit-export"),
    path("orgs/<slug:slug>/members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    path("orgs/<slug:slug>/quick-start/", views.quick_start, name="quick-start"),
    path("orgs/<slug:slug>/apps/<int:app_id>/", views.app_detail, name="app-detail"),
    path("orgs/<slug:slug>/apps/<int:app_id>/delete/", views.app_delete, name="app-delete"),
]
