"""Members and invitations over HTTP."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors
from accounts.api.serializers import InvitationOutput, MemberOutput
from accounts.invitations import services as invitation_services
from accounts.memberships import services as membership_services
from accounts.roles import Role
from portal.api.base import PortalAPIView, StrictInputSerializer


class MemberListView(PortalAPIView):
    required_scopes = {"GET": ["team:read"]}

    @extend_schema(summary="List members", responses={200: MemberOutput(many=True)})
    def get(self, request: Request) -> Response:
        members = selectors.organization_members(self.caller.organization).order_by("-created_at", "-id")
        return self.paginate(members, MemberOutput, request)


class MemberDetailView(PortalAPIView):
    required_scopes = {"DELETE": ["team:write"]}

    @extend_schema(summary="Remove a member", responses={204: None})
    def delete(self, request: Request, membership_id: int) -> Response:
        membership = selectors.access_membership_by_id(self.caller, membership_id)
        membership_services.membership_remove(caller=self.caller, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.values)


class InvitationCreateView(PortalAPIView):
    required_scopes = {"POST": ["team:write"]}

    @extend_schema(summary="Invite someone by e-mail", request=InvitationInput, responses={201: InvitationOutput})
    def post(self, request: Request) -> Response:
        data = self.validated(InvitationInput, request)
        invitation, _token = invitation_services.invitation_create(
            caller=self.caller, email=data["email"], role=data["role"],
        )
        return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)
