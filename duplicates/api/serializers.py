from __future__ import annotations

from rest_framework import serializers

from duplicates.models import Pair
from memories.api.serializers import MemorySerializer, memory_representation


class PairSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    memory = MemorySerializer(read_only=True, help_text="the older memory: a merge keeps it")
    similar = MemorySerializer(read_only=True, help_text="the newer one: a merge removes it")
    similarity = serializers.FloatField(read_only=True, help_text="cosine, 0 to 1")
    same_link = serializers.BooleanField(read_only=True, help_text="both link the same page")
    state = serializers.ChoiceField(choices=Pair.State.choices, read_only=True)


def pair_representation(pair: Pair) -> dict:
    memory, similar = pair.older_and_newer()
    return {
        "id": str(pair.pk),
        "memory": memory_representation(memory),
        "similar": memory_representation(similar),
        "similarity": round(pair.similarity, 4),
        "same_link": pair.same_link,
        "state": pair.state,
    }


class PairListSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="all open pairs, however many are listed")
    results = PairSerializer(many=True)


class PairListParamsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=50)


class MergeSerializer(serializers.Serializer):
    pair = PairSerializer()
    undo_until = serializers.DateTimeField(help_text="the merge can be undone until then")


class RelatedSerializer(serializers.Serializer):
    memory = MemorySerializer()
    similarity = serializers.FloatField()
    near_duplicate = serializers.BooleanField(help_text="also a candidate to merge, still open")
