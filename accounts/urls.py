from __future__ import annotations

from allauth.account import views as allauth_views
from django.urls import include, path

from accounts import views

urlpatterns = [
    # django-allauth runs every page under /accounts/ (contract section 11). The three addresses of section 8 keep
    # their names; sign-in goes through the portal's guard against guessing first.
    path("accounts/signup/", allauth_views.signup, name="signup"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", allauth_views.logout, name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("accounts/verification/resend/", views.verification_resend, name="verification-resend"),
    path("accounts/2fa/recovery-codes/", views.RecoveryCodesView.as_view(), name="recovery-codes"),
    path("accounts/2fa/recovery-codes/download/", views.recovery_codes_download, name="recovery-codes-download"),
    path("accounts/sessions/", views.sessions_list, name="sessions"),
    path("accounts/sessions/<int:session_id>/end/", views.session_end, name="session-end"),
    path("accounts/", include("allauth.urls")),
    path("orgs/new/", views.org_create, name="org-create"),
    path("orgs/<slug:slug>/members/", views.org_members, name="org-members"),
    path("orgs/<slug:slug>/security/", views.org_security, name="org-security"),
    path("orgs/<slug:slug>/members/<int:membership_id>/role/", views.member_role, name="member-role"),
    path("orgs/<slug:slug>/invitations/", views.invitation_create_view, name="invitation-create"),
    path(
        "orgs/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke_view,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation-accept"),
]
