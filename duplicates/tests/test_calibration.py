"""The calibration (issue 16, item 2): the command measures the labelled set with the local
model, picks t_high for precision ≥ 0.95, and the thresholds shipped for that model are the
ones it picks today."""

import io

import pytest
from django.core.management import call_command

from duplicates.calibration import LabelledPair, calibrate, load_pairs
from duplicates.migrations._seed import LOCAL_CALIBRATION, LOCAL_MODEL
from duplicates.models import Calibration

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def command_output(django_db_setup, django_db_blocker) -> str:
    """One run of the command with --save (embedding the 804 texts takes ~15 s)."""
    out = io.StringIO()
    with django_db_blocker.unblock():
        Calibration.objects.filter(model=LOCAL_MODEL).delete()
        try:
            call_command("calibrate_near_duplicates", "--save", stdout=out)
            saved = Calibration.objects.get(model=LOCAL_MODEL)
            out.write(f"\nSAVED {saved.t_high} {saved.t_low} {saved.precision} {saved.recall}")
        finally:  # the shipped row back, as migrations made it, for the tests after
            Calibration.objects.filter(model=LOCAL_MODEL).delete()
            Calibration.objects.create(model=LOCAL_MODEL, **LOCAL_CALIBRATION)
    return out.getvalue()


def test_the_command_prints_the_table_and_saves_thresholds_with_precision_095(command_output):
    assert "| threshold | near-duplicate precision | recall |" in command_output
    saved = command_output.rsplit("SAVED ", 1)[1].split()
    t_high, t_low, precision, recall = map(float, saved)
    assert precision >= 0.95
    assert 0 < recall < 1
    assert t_low < t_high
    assert f"t_high = {t_high:.3f}: precision {precision:.3f}" in command_output
    assert "recall at t_high by category" in command_output


def test_the_shipped_calibration_is_what_the_command_measures_now(command_output):
    t_high, t_low, precision, recall = map(float, command_output.rsplit("SAVED ", 1)[1].split())
    shipped = LOCAL_CALIBRATION
    assert (t_high, t_low) == (shipped["t_high"], shipped["t_low"])
    assert round(precision, 3) == shipped["precision"]
    assert round(recall, 3) == shipped["recall"]
    assert shipped["pairs"] == len(load_pairs())


def _pair(label: str, same_link: bool = False) -> LabelledPair:
    return LabelledPair("x", "a", "b", label, "c", same_link)


def test_t_high_is_where_precision_stays_above_the_target_not_a_lucky_spike():
    # Similarities by hand: a duplicate at 0.99, a non-duplicate at 0.9 and duplicates below.
    pairs = [_pair("duplicate")] * 19 + [_pair("related")] + [_pair("duplicate")] * 5
    sims = [0.99] * 19 + [0.9] + [0.85] * 5

    def embed(texts):  # a vector per text whose cosine with the next pair's is the wanted one
        import math

        return [[1.0, 0.0] for _ in sims] + [[s, math.sqrt(1 - s**2)] for s in sims]

    result = calibrate(model="m", embed=embed, pairs=pairs)
    # From 0.85 precision is 24/25 = 0.96 ≥ 0.95, and stays ≥ 0.95 above (0.95 at 0.9, 1 at
    # 0.99); every threshold from 0 to 0.85 calls the same pairs: the highest is taken.
    assert result.t_high == 0.85
    assert result.at(0.85).precision == pytest.approx(24 / 25)
    assert result.at(0.95).precision == 1.0


def test_the_same_link_counts_whatever_the_similarity():
    pairs = [_pair("duplicate", same_link=True), _pair("different")]

    def embed(texts):
        return [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]  # both pairs at 0.0

    result = calibrate(model="m", embed=embed, pairs=pairs)
    assert result.at(0.5).recall == 1.0  # the link pair is called at any threshold
    assert result.at(0.5).precision == 1.0
