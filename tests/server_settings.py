"""Production settings for the gunicorn servers some tests start (debug off), but for static files: those tests
do not run ``collectstatic``, so pages find their assets without a manifest."""

from portal.settings import *  # noqa: F403

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
