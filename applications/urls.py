from __future__ import annotations

from django.urls import path

from applications import views

urlpatterns = [
    path("orgs/<slug:slug>/apps/", views.app_list, name="app-list"),
    path("orgs/<slug:slug>/quick-start/", views.quick_start, name="quick-start"),
    path("orgs/<slug:slug>/apps/<int:app_id>/", views.app_detail, name="app-detail"),
    path("orgs/<slug:slug>/apps/<int:app_id>/delete/", views.app_delete, name="app-delete"),
]
