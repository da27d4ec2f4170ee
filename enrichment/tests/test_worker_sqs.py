"""The production transport: a Celery worker on SQS (moto_server on loopback), end to end."""

import json
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from django.conf import settings

from embedded import servers
from memories.models import Embedding, Memory
from tests.workers import ROOT, Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

MEMORIES = 25


@pytest.fixture
def moto_sqs(tmp_path):
    port = servers.free_port()
    with open(tmp_path / "moto.log", "wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        servers.wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        servers.stop(process)


def sqs_env(endpoint: str, prefix: str, vendor) -> dict[str, str]:
    return {
        "CELERY_BROKER_URL": f"sqs://testing:testing@{endpoint.removeprefix('http://')}",
        "SQS_SECURE": "false",
        "SQS_QUEUE_PREFIX": prefix,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AI_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": vendor.url + "/v1",
        "ENRICHMENT_BATCH_SIZE": "10",
    }


SAVE_SCRIPT = """
from accounts.models import User
from memories.services import memory_create
user = User.objects.get(pk={user_id})
for i in range({count}):
    memory_create(user=user, content=f"sqs note {{i}} about mountain hiking")
"""


def test_worker_on_sqs_enriches_memories_end_to_end(user, vendor, moto_sqs, tmp_path):
    prefix = f"test-{uuid.uuid4().hex[:8]}-"
    env = sqs_env(moto_sqs, prefix, vendor)
    worker = Worker(env, tmp_path / "worker.log")
    # The deployment step: the queue, with its redrive policy to a dead-letter queue.
    setup = subprocess.run(
        [sys.executable, "manage.py", "sqs_queues"],
        cwd=ROOT,
        env=worker.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert setup.returncode == 0, setup.stderr
    try:
        worker.start()
        # Saves made by another process configured for SQS: each save's commit queues the
        # enrichment task on SQS, as the web process does in production.
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                SAVE_SCRIPT.format(user_id=user.pk, count=MEMORIES),
            ],
            cwd=ROOT,
            env=worker.env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert Memory.objects.filter(user=user).count() == MEMORIES
        wait_until(
            lambda: not Memory.objects.exclude(enrichment_status="enriched").exists(),
            timeout=90,
            interval=0.5,
            message=worker.log(),
        )
        sqs = boto3.client(
            "sqs",
            endpoint_url=moto_sqs,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        queues = sqs.list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
        (queue_url,) = [url for url in queues if url.endswith(f"{prefix}celery")]

        def attributes() -> dict:
            return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
                "Attributes"
            ]

        # Every message was acknowledged (deleted from SQS), none left to come back.
        wait_until(
            lambda: (
                attributes()["ApproximateNumberOfMessages"] == "0"
                and attributes()["ApproximateNumberOfMessagesNotVisible"] == "0"
            ),
            timeout=30,
            interval=0.5,
            message=str(attributes()),
        )
    finally:
        worker.stop()

    assert Embedding.objects.filter(user=user).count() == MEMORIES
    assert "enrichment.tasks.enrich_pending" in worker.log()
    queue = attributes()
    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f"{prefix}celery-dead-letter")
    assert int(redrive["maxReceiveCount"]) == 10
    assert int(queue["VisibilityTimeout"]) > settings.ENRICHMENT_TASK_TIME_LIMIT
