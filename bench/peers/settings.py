"""The peers of ``bench/api_bench.py --peers``: what a team would build with drf-api-key and django-oauth-toolkit
instead of the portal, at their defaults. Django's project template (its middleware, sessions, messages), DRF at its
defaults, the database connections kept as the portal keeps its own. Run only by the benchmark, from a copy of both
libraries it installs itself (``api_bench.install_peers``)."""

from __future__ import annotations

import os
from pathlib import Path

from portal.env import database_from_url

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework_api_key",
    "oauth2_provider",
]
MIDDLEWARE = [  # django-admin startproject's
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bench.peers.urls"
# The portal's own reading of a database URL, so both run on the same terms: SQLite in WAL mode with a kept
# connection, PostgreSQL with psycopg's pool and prepared statements (or kept connections, "?pool=off").
DATABASES = {"default": database_from_url(os.environ["PEERS_DATABASE_URL"], Path(__file__).resolve().parent)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}]
