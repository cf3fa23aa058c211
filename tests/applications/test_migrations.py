from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

pytestmark = pytest.mark.django_db

content_type_migration = importlib.import_module("applications.migrations.0002_content_type_follows_the_model")


def test_permissions_granted_on_the_old_content_type_follow_the_model_to_its_new_app():
    ContentType.objects.filter(app_label="applications", model="application").delete()
    old = ContentType.objects.create(app_label="apikeys", model="application")
    permission = Permission.objects.create(content_type=old, codename="change_application", name="Can change")

    content_type_migration.follow(apps, None, "apikeys", "applications")

    permission.refresh_from_db()
    assert permission.content_type.app_label == "applications"
    assert not ContentType.objects.filter(app_label="apikeys", model="application").exists()


def test_a_database_that_already_has_the_new_content_type_is_left_alone():
    new = ContentType.objects.get_for_model(apps.get_model("applications", "Application"))
    stale = ContentType.objects.create(app_label="apikeys", model="application")

    content_type_migration.follow(apps, None, "apikeys", "applications")

    assert ContentType.objects.get(pk=new.pk).app_label == "applications"
    assert ContentType.objects.get(pk=stale.pk).app_label == "apikeys"
