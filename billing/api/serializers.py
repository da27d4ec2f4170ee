from rest_framework import serializers

from billing.limits import LIMITS


def _limit_fields(*, decimal_places: int) -> dict[str, serializers.Field]:
    """One nullable field per plan limit (billing.limits.LIMITS), a number of its type."""
    return {
        name: (
            serializers.DecimalField(max_digits=14, decimal_places=decimal_places, allow_null=True)
            if limit.decimal
            else serializers.IntegerField(allow_null=True)
        )
        for name, limit in LIMITS.items()
    }


LimitsSerializer = type(
    "LimitsSerializer", (serializers.Serializer,), _limit_fields(decimal_places=4)
)
# AI spend is counted to the 1e-8 dollar (the ledger's precision).
UsedSerializer = type("UsedSerializer", (serializers.Serializer,), _limit_fields(decimal_places=8))
ResetsSerializer = type(
    "ResetsSerializer",
    (serializers.Serializer,),
    {name: serializers.DateTimeField(allow_null=True) for name in LIMITS},
)


class UsageSerializer(serializers.Serializer):
    plan = serializers.CharField()
    limits = LimitsSerializer(help_text="null means unlimited")
    used = UsedSerializer(help_text="AI spend in USD this month; counts of the rest")
    resets_at = ResetsSerializer(help_text="null: never resets (stored memories)")
