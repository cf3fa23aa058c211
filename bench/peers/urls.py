"""``/hello`` as the portal's ``GET /api/v1/hello``, once behind drf-api-key and once behind django-oauth-toolkit's DRF
authentication; DOT's own token endpoint at ``/o/token/``."""

from __future__ import annotations

from django.urls import include, path
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.permissions import HasAPIKey


def hello(request) -> Response:
    return Response({"message": f"Hello {request.query_params.get('name', 'World')}!"})


class KeyHello(APIView):
    """drf-api-key as its documentation shows it: the permission class, DRF's default authentication."""

    permission_classes = [HasAPIKey]
    get = staticmethod(lambda request: hello(request))


class BearerHello(APIView):
    """django-oauth-toolkit as its documentation shows it: its DRF authentication class and a scope check."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = ["read"]
    get = staticmethod(lambda request: hello(request))


urlpatterns = [
    path("key/hello", KeyHello.as_view()),
    path("bearer/hello", BearerHello.as_view()),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
