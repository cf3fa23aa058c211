from __future__ import annotations

from allauth.account import views as allauth_views
from django.urls import include, path

from accounts.invitations import views as invitations
from accounts.memberships import views as memberships
from accounts.organizations import views as organizations
from accounts.people import views as people

urlpatterns = [
    # django-allauth runs every page under /accounts/ (contract section 11). The three addresses of section 8 keep
    # their names; sign-in goes through the portal's guard against guessing first.
    path("accounts/signup/", allauth_views.signup, name="signup"),
    path("accounts/login/", people.LoginView.as_view(), name="login"),
    path("accounts/logout/", allauth_views.logout, name="logout"),
    path("accounts/password/", people.PasswordChangeView.as_view(), name="password-change"),
    path("accounts/verification/resend/", people.verification_resend, name="verification-resend"),
    path("accounts/2fa/recovery-codes/", people.RecoveryCodesView.as_view(), name="recovery-codes"),
    path("accounts/2fa/recovery-codes/download/", people.recovery_codes_download, name="recovery-codes-download"),
    path("accounts/sessions/", people.sessions_list, name="sessions"),
    path("accounts/sessions/<int:session_id>/end/", people.session_end, name="session-end"),
    path("accounts/", include("allauth.urls")),
    path("orgs/new/", organizations.org_create, name="org-create"),
    path("orgs/<slug:slug>/members/", memberships.org_members, name="org-members"),
    path("orgs/<slug:slug>/security/", organizations.org_security, name="org-security"),
    path("orgs/<slug:slug>/members/<int:membership_id>/role/", memberships.member_role, name="member-role"),
    path("orgs/<slug:slug>/invitations/", invitations.invitation_create_view, name="invitation-create"),
    path(
        "orgs/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        invitations.invitation_revoke_view,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>/", invitations.invitation_accept_view, name="invitation-accept"),
]
