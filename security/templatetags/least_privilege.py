"""Least privilege on other apps' pages, without those apps importing this one: the credential policy on the
Security page, and each scope's last use on a key's and an OAuth client's page."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.roles import Role, role_at_least
from policies.selectors import policy_for
from security.forms import CredentialPolicyForm
from security.scope_usage import client_scope_usage, key_scope_usage, user_client_scope_uses
from security.selectors import policy_violations

register = template.Library()


@register.inclusion_tag("security/policy_section.html", takes_context=True)
def credential_policy_section(context: dict[str, Any]) -> dict[str, Any]:
    access = context["access"]
    policy = policy_for(access.organization.pk)
    can_edit = role_at_least(access.role, Role.ADMIN)
    return {
        "access": access, "policy": policy, "can_edit": can_edit, "csrf_token": context.get("csrf_token"),
        "form": context.get("policy_form") or (CredentialPolicyForm(policy=policy) if can_edit else None),
        "violations": policy_violations(access.organization, policy),
        "can_manage": role_at_least(access.role, Role.DEVELOPER),
    }


@register.inclusion_tag("security/scope_usage.html")
def key_scope_usage_card(access: Any, key: Any, can_manage: bool = False) -> dict[str, Any]:
    return {"access": access, "key": key, "rows": key_scope_usage(key), "can_narrow": can_manage and key.can_be_rotated}


@register.inclusion_tag("security/scope_usage.html")
def client_scope_usage_card(access: Any, client: Any) -> dict[str, Any]:
    return {"access": access, "client": client, "rows": client_scope_usage(client)}


@register.simple_tag(takes_context=True)
def annotate_scope_uses(context: dict[str, Any], authorized: list[Any]) -> str:
    """On the authorized-apps page: give each listed client ``scope_uses``, ``[(scope, last used or None)]`` for
    the signed-in person's tokens, in one query whatever the number of clients."""
    user = context["user"]
    uses = user_client_scope_uses(user.pk, [item.client.pk for item in authorized])
    for item in authorized:
        seen = uses.get(item.client.pk, {})
        item.scope_uses = [(scope, seen.get(scope)) for scope in item.scopes]
    return ""
