import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rightsdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules inside an app's sub-packages, which autodiscovery (``<app>.tasks``) does not reach.
app.autodiscover_tasks(["claims.dashboards", "claims.reports"])
