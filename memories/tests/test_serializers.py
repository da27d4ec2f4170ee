"""MemoryWriteSerializer shares its declared fields between instances (shallow copies instead
of DRF's deep copies): nothing one instance does may show in another."""

from concurrent.futures import ThreadPoolExecutor

from memories.api.serializers import MemoryCreateSerializer, MemoryUpdateSerializer


def test_instances_keep_their_own_data_and_errors():
    good = MemoryCreateSerializer(data={"content": "Ferns like shade", "tags": ["plants"]})
    bad = MemoryCreateSerializer(data={"content": "", "tags": ["ok", 7, ""], "kind": "poem"})
    assert not bad.is_valid()
    assert good.is_valid(), good.errors
    assert good.validated_data == {"content": "Ferns like shade", "tags": ["plants"]}
    assert set(bad.errors) == {"content", "tags", "kind"}
    assert set(bad.errors["tags"]) == {1, 2}  # the list's items, by index
    assert good.errors == {}


def test_the_declared_fields_stay_unbound():
    MemoryCreateSerializer(data={"content": "x", "title": "t"}).is_valid()
    MemoryUpdateSerializer(data={"title": "t"}).is_valid()
    for serializer_class in (MemoryCreateSerializer, MemoryUpdateSerializer):
        for field in serializer_class._declared_fields.values():
            assert (field.field_name, field.parent) == (None, None)


def test_a_list_s_items_belong_to_the_serializer_being_validated():
    serializer = MemoryCreateSerializer(data={"content": "x", "tags": ["a"]}, context={"k": 1})
    child = serializer.fields["tags"].child
    assert child.root is serializer and child.context == {"k": 1}
    assert child is not MemoryCreateSerializer._declared_fields["tags"].child


def test_threads_validating_at_once_get_their_own_answers():
    def validate(number: int) -> tuple[bool, dict]:
        data = {"content": f"note {number}", "tags": [f"t{number}"]}
        if number % 2:
            data["kind"] = "not-a-kind"
            data["title"] = "x" * (301 + number % 5)  # a max_length error too
        serializer = MemoryCreateSerializer(data=data)
        valid = serializer.is_valid()
        return valid, (serializer.validated_data if valid else dict(serializer.errors))

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(validate, range(400)))
    for number, (valid, answer) in enumerate(answers):
        if number % 2:
            assert not valid and set(answer) == {"kind", "title"}
            assert "300" in str(answer["title"][0])
        else:
            assert valid and answer == {"content": f"note {number}", "tags": [f"t{number}"]}
