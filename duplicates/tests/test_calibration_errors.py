"""calibrate_near_duplicates says why it cannot run (the slow runs are in test_calibration)."""

import pytest
from django.core.management import CommandError, call_command

from ai.breaker import Forced, ai_breaker

pytestmark = pytest.mark.django_db


def test_a_provider_out_of_reach_is_named_in_the_error(openai_fake):
    ai_breaker.force(Forced.OPEN)
    try:
        with pytest.raises(CommandError) as raised:
            call_command("calibrate_near_duplicates")
    finally:
        ai_breaker.force(None)
    assert str(raised.value) == "the embedding model cannot be reached: breaker_open"
    assert openai_fake.embedding_calls == 0


def test_a_missing_labelled_set_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"no labelled set at .*nowhere\.jsonl"):
        call_command("calibrate_near_duplicates", pairs=tmp_path / "nowhere.jsonl")
