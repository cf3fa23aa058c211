from __future__ import annotations

from django.urls import path

from apikeys import views

urlpatterns = [
    path("orgs/<slug:slug>/apps/<int:app_id>/keys/new/", views.key_create, name="key-create"),
    path("orgs/<slug:slug>/keys/", views.key_list, name="key-list"),
    path("orgs/<slug:slug>/keys/created/", views.key_created, name="key-created"),
    path("orgs/<slug:slug>/keys/<str:public_id>/", views.key_detail, name="key-detail"),
    path("orgs/<slug:slug>/keys/<str:public_id>/revoke/", views.key_revoke, name="key-revoke"),
    path("orgs/<slug:slug>/keys/<str:public_id>/rotate/", views.key_rotate, name="key-rotate"),
    path("orgs/<slug:slug>/keys/<str:public_id>/keep/", views.key_keep, name="key-keep"),
]
