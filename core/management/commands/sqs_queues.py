"""Create (or update) the Celery queues on SQS, each with a dead-letter queue behind it.

kombu creates a missing queue by itself, but without a redrive policy; run this once per
deployment (it is idempotent) so a message that keeps killing workers ends in
`<prefix><queue>-dead-letter` after SQS_MAX_RECEIVE_COUNT receives instead of looping forever.
"""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit

import boto3
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def sqs_client():
    broker = urlsplit(settings.CELERY_BROKER_URL)
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    kwargs: dict = {"region_name": options.get("region", "us-east-1")}
    if broker.username:
        kwargs["aws_access_key_id"] = unquote(broker.username)
        kwargs["aws_secret_access_key"] = unquote(broker.password or "")
    if broker.hostname:
        scheme = "https" if options.get("is_secure") else "http"
        kwargs["endpoint_url"] = f"{scheme}://{broker.netloc.rpartition('@')[2]}"
    return boto3.client("sqs", **kwargs)


class Command(BaseCommand):
    help = "Create the Celery queues on SQS with a redrive policy to a dead-letter queue."

    def handle(self, *args, **options) -> None:
        if not settings.CELERY_BROKER_URL.startswith("sqs://"):
            raise CommandError("CELERY_BROKER_URL is not an sqs:// URL.")
        prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("queue_name_prefix", "")
        sqs = sqs_client()
        for queue in settings.CELERY_TASK_QUEUES:
            self._create(sqs, f"{prefix}{queue.name}")

    def _create(self, sqs, queue_name: str) -> None:
        dead_letter_url = sqs.create_queue(QueueName=f"{queue_name}-dead-letter")["QueueUrl"]
        dead_letter_arn = sqs.get_queue_attributes(
            QueueUrl=dead_letter_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        attributes = {
            "VisibilityTimeout": str(
                settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
            ),
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dead_letter_arn,
                    "maxReceiveCount": str(settings.SQS_MAX_RECEIVE_COUNT),
                }
            ),
        }
        queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=attributes)
        self.stdout.write(
            f"{queue_name}: visibility {attributes['VisibilityTimeout']} s, dead letters after "
            f"{settings.SQS_MAX_RECEIVE_COUNT} receives go to {queue_name}-dead-letter"
        )
