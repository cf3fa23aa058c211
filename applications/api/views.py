"""Applications over HTTP. Thin: validate the shape, call a service, render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from applications import selectors, services
from applications.api.serializers import ApplicationInput, ApplicationOutput, ApplicationPatchInput
from portal.api.base import PortalAPIView


class ApplicationListView(PortalAPIView):
    required_scopes = {"GET": ["apps:read"], "POST": ["apps:write"]}

    @extend_schema(summary="List applications", responses={200: ApplicationOutput(many=True)})
    def get(self, request: Request) -> Response:
        return self.paginate(selectors.organization_applications(self.caller.organization), ApplicationOutput, request)

    @extend_schema(summary="Create an application", request=ApplicationInput, responses={201: ApplicationOutput})
    def post(self, request: Request) -> Response:
        data = self.validated(ApplicationInput, request)
        application = services.application_create(caller=self.caller, **data)
        return Response(ApplicationOutput(application).data, status=status.HTTP_201_CREATED)


class ApplicationDetailView(PortalAPIView):
    required_scopes = {"GET": ["apps:read"], "PATCH": ["apps:write"], "DELETE": ["apps:write"]}

    def get_application(self, application_id: int):
        return selectors.access_application_by_id(self.caller.organization, application_id)

    @extend_schema(summary="Get an application", responses={200: ApplicationOutput})
    def get(self, request: Request, application_id: int) -> Response:
        return Response(ApplicationOutput(self.get_application(application_id)).data)

    @extend_schema(summary="Change an application", request=ApplicationPatchInput, responses={200: ApplicationOutput})
    def patch(self, request: Request, application_id: int) -> Response:
        application = self.get_application(application_id)
        data = self.validated(ApplicationPatchInput, request)
        application = services.application_update(caller=self.caller, application=application, **data)
        return Response(ApplicationOutput(application).data)

    @extend_schema(summary="Delete an application, with its keys and OAuth clients", responses={204: None})
    def delete(self, request: Request, application_id: int) -> Response:
        services.application_delete(caller=self.caller, application=self.get_application(application_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
