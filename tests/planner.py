"""Steer Postgres's planner in tests, to pin plans that the statistics of a busy database can
choose and a fresh test database does not."""

from django.db import connection

# With these off, `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` is
# planned as a nested-loop semi join that re-runs the subquery for every row.
_RESCAN_PLAN = ("enable_hashagg", "enable_hashjoin", "enable_material", "enable_sort")


def prefer_subquery_rescans() -> None:
    """For the rest of the test's transaction."""
    with connection.cursor() as cursor:
        for knob in _RESCAN_PLAN:
            cursor.execute(f"SET LOCAL {knob} = off")
