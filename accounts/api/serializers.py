"""How the API shows members and invitations (also the ``data`` of the ``member.*`` events the services publish)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.roles import Role
from portal.api.fields import IsoDateTimeField


class MemberUserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class MemberOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    user = MemberUserOutput()
    role = serializers.ChoiceField(choices=Role.values)
    joinedAt = IsoDateTimeField(source="created_at")  # noqa: N815 (the API's own field name)


class InvitationOutput(serializers.Serializer):
    """An invitation; its token goes only by e-mail, to the person invited."""

    id = serializers.IntegerField(source="pk")
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.values)
    expiresAt = IsoDateTimeField(source="expires_at")  # noqa: N815
