from __future__ import annotations

from django.urls import path

from applications import views

urlpatterns = [
    path("orgs/<slug:slug>/apps/", views.app_list, name="app-list"),
]
