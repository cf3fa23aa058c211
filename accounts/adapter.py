"""The portal's side of django-allauth: who is signing up (a person with a personal organization), which IP
they come from (``portal.net.client_ip``, as everywhere else), how two-factor secrets are stored, and where
account events are audited.

Every mail allauth sends (verification, password reset, "someone tried to sign up with your address", the
security notices) goes through ``PortalAccountAdapter.send_mail``, which renders it in the request and hands it to
``portal.mail``: stored encrypted (a verification or reset link is as good as a password for a while), sent by the
worker from its row id once the request's writes commit (contract section 12: no mail is sent from a request).
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from django.contrib.sites.shortcuts import get_current_site
from django.forms import BaseForm
from django.http import HttpRequest
from django.urls import reverse

from accounts.memberships.services import SESSION_CURRENT_ORG
from accounts.models import User
from accounts.people.services import user_password_reset_requested, user_session_ended, user_signup
from portal import encryption
from portal.callers import Caller
from portal.conf import portal_settings
from portal.mail import send_mail_after_commit
from portal.net import client_ip


class PortalAccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)

    def save_user(self, request: HttpRequest, user: User, form: BaseForm, commit: bool = True) -> User:
        """A new person and the personal organization they own, in one transaction (``user_signup``)."""
        data = form.cleaned_data
        user, organization = user_signup(
            email=data["email"], password=data["password1"], full_name=data.get("full_name") or ""
        )
        request.session[SESSION_CURRENT_ORG] = organization.slug
        return user

    def get_password_change_redirect_url(self, request: HttpRequest) -> str:
        return reverse("dashboard")

    def send_password_reset_mail(self, user: User, email: str, context: dict[str, Any]) -> None:
        user_password_reset_requested(user=user)
        super().send_password_reset_mail(user, email, context)

    def send_confirmation_mail(self, request: HttpRequest, emailconfirmation: Any, signup: bool) -> None:
        """A link to confirm an address, unless the address belongs to another account (contract section 11: no
        account oracle). The page and its message are then the same as for a free address, and the owner of the
        address is told instead; no link is sent, so nothing can change."""
        address = emailconfirmation.email_address
        taken = (User.objects.filter(email__iexact=address.email).exclude(pk=address.user_id).exists()
                 or EmailAddress.objects.filter(email__iexact=address.email, verified=True)
                 .exclude(user_id=address.user_id).exists())
        if not signup and taken:
            self.send_mail("account/email/email_taken", address.email, {})
            return
        super().send_confirmation_mail(request, emailconfirmation, signup)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render the mail as allauth does, and queue it for the worker instead of sending it. Links in the portal's
        texts start with ``PORTAL_BASE_URL`` (``base_url``)."""
        request = allauth_context.request
        message = self.render_mail(template_prefix, email, {
            "request": request, "email": email, "current_site": get_current_site(request),
            "base_url": portal_settings.BASE_URL, **context})
        html = next((content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"),
                    "")
        send_mail_after_commit(kind=template_prefix.replace("/email/", "."), subject=message.subject,
                               body=message.body, html=html, to=list(message.to))


class PortalMFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and the recovery-code seed are stored encrypted with ``PORTAL_ENCRYPTION_KEYS``."""

    def encrypt(self, text: str) -> str:
        return encryption.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return encryption.decrypt(encrypted_text)


class PortalUserSessionsAdapter(DefaultUserSessionsAdapter):
    def end_sessions(self, sessions) -> None:
        for session in sessions:
            user_session_ended(caller=Caller.for_person(session.user), session=session)
