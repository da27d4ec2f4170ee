"""Steer Postgres's planner in tests, to pin plans that the statistics of a busy database can
choose and a fresh test database does not."""

from django.db import connection

# With these off, `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` is
# planned as a nested-loop semi join that re-runs the subquery for every row.
_RESCAN_PLAN = ("enable_hashagg", "enable_hashjoin", "enable_material", "enable_sort")
# With these off, a join is a hash join over a sequential scan: rows come in the table's
# physical order, not in the order a CTE picked them.
_HASH_JOIN_PLAN = ("enable_nestloop", "enable_mergejoin", "enable_indexscan", "enable_bitmapscan")


def _turn_off(knobs: tuple[str, ...]) -> None:
    """For the rest of the test's transaction."""
    with connection.cursor() as cursor:
        for knob in knobs:
            cursor.execute(f"SET LOCAL {knob} = off")


def prefer_subquery_rescans() -> None:
    _turn_off(_RESCAN_PLAN)


def prefer_hash_joins_over_seq_scans() -> None:
    _turn_off(_HASH_JOIN_PLAN)
