from rest_framework import serializers


class LimitsSerializer(serializers.Serializer):
    max_memories = serializers.IntegerField(allow_null=True)
    saves_per_day = serializers.IntegerField(allow_null=True)
    enrichments_per_month = serializers.IntegerField(allow_null=True)
    ai_budget_usd_per_month = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True
    )
    searches_per_minute = serializers.IntegerField(allow_null=True)


class ResetsSerializer(serializers.Serializer):
    max_memories = serializers.DateTimeField(allow_null=True)
    saves_per_day = serializers.DateTimeField(allow_null=True)
    enrichments_per_month = serializers.DateTimeField(allow_null=True)
    ai_budget_usd_per_month = serializers.DateTimeField(allow_null=True)
    searches_per_minute = serializers.DateTimeField(allow_null=True)


class UsageSerializer(serializers.Serializer):
    plan = serializers.CharField()
    limits = LimitsSerializer(help_text="null means unlimited")
    used = LimitsSerializer(help_text="null: not tracked yet")
    resets_at = ResetsSerializer(help_text="null: never resets (stored memories)")
