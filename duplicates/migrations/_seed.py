"""What migration 0002 creates: the `near_duplicates` flag, off (percent 0, nobody listed;
roll it out in admin or with `manage.py waffle_flag near_duplicates --percent N`), and the
calibration of the local model as `manage.py calibrate_near_duplicates` measured it on the
labelled set (docs/near-duplicates.md; duplicates/tests/test_calibration.py checks that it
still does)."""

FLAG = {
    "name": "near_duplicates",
    "everyone": None,
    "percent": 0,
    "note": "Near-duplicate candidates (issue 16); the percentage is sticky per user.",
}
LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_CALIBRATION = {
    "t_high": 0.97,
    "t_low": 0.61,
    "precision": 0.953,
    "recall": 0.447,
    "pairs": 402,
}


def seed(flag_model, calibration_model) -> None:
    flag_model.objects.get_or_create(name=FLAG["name"], defaults=FLAG)
    calibration_model.objects.get_or_create(model=LOCAL_MODEL, defaults=LOCAL_CALIBRATION)


def ensure() -> None:
    """Create what is missing (tests that flush the database use this)."""
    from waffle import get_waffle_flag_model

    from duplicates.models import Calibration

    seed(get_waffle_flag_model(), Calibration)
