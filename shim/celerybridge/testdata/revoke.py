"""Revoke a task as the platform's operators do (celery control revoke).

Usage: revoke.py BROKER_URL TASK_ID
"""
import sys

from celery import Celery

broker, task_id = sys.argv[1:3]
Celery("revoke", broker=broker).control.revoke(task_id)
