from __future__ import annotations

from django.urls import path

from usage import views

urlpatterns = [
    path("orgs/<slug:slug>/requests/", views.request_log, name="usage-requests"),
]
