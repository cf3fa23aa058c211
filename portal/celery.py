"""The Celery app: ``celery -A portal worker --beat --loglevel INFO`` from the project folder.

Every ``CELERY_*`` setting comes from ``portal.settings`` (which reads the environment); nothing here reads
it. Tasks live in the feature apps (``tasks.py``, found by ``autodiscover_tasks``) and the beat schedule names
them by string, so this module imports no feature app.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
