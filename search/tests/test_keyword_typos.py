"""Keyword search's full-text side: typo tolerance through the stem dictionary (pg_trgm), and
the text search configuration as a setting (`manage.py textsearch`)."""

import io

import pytest
from django.core.management import CommandError, call_command

from ai.breaker import Forced, ai_breaker
from memories import text_config
from memories.lexicon import lexicon_rebuild, lexicon_refresh
from memories.models import SearchLexeme
from memories.services import memory_create, memory_delete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("searches_unlimited")]


@pytest.fixture(autouse=True)
def _forget_text_config():
    """A test that regenerates the column has it rolled back with its transaction; the
    process's cached name must go too."""
    text_config._cached = None
    yield
    text_config._cached = None


def found(api, q, mode="keyword"):
    response = api.get("/api/v1/search", {"q": q, "mode": mode})
    assert response.status_code == 200, response.content
    return response.json()


def ids(body):
    return [hit["memory"]["id"] for hit in body["results"]]


def test_misspelt_words_find_the_memory_once_the_dictionary_has_its_words(api, user):
    garden = memory_create(user=user, content="Planted tomatoes in the garden").memory
    soup = memory_create(user=user, content="Lentil soup recipe with cumin").memory
    assert found(api, "tomatos gardn")["results"] == []  # the dictionary is still empty

    assert lexicon_refresh() > 0
    body = found(api, "tomatos gardn")
    assert (body["mode_used"], body["degraded"]) == ("keyword", False)
    assert ids(body) == [str(garden.pk)]
    assert "<mark>tomatoes</mark>" in body["results"][0]["snippet"]
    assert ids(found(api, "recipie")) == [str(soup.pk)]
    assert ids(found(api, "lentl soop")) == [str(soup.pk)]
    assert found(api, "xylophone")["results"] == []  # nothing is spelt like it


def test_words_that_match_are_not_corrected(api, user):
    soup = memory_create(user=user, content="Lentil soup recipe").memory
    memory_create(user=user, content="Soap making notes")
    lexicon_refresh()
    # "soup" matches as typed: "soap", one letter away, is not added.
    assert ids(found(api, "soup")) == [str(soup.pk)]


def test_typo_correction_never_reaches_another_users_memories(api, user, other_user):
    memory_create(user=other_user, content="Zucchini bread recipe from grandmother")
    mine = memory_create(user=user, content="Carrot cake recipe").memory
    lexicon_refresh()
    assert ids(found(api, "zuchini")) == []  # the stem exists, but only in their memory
    assert ids(found(api, "recipie")) == [str(mine.pk)]


def test_other_users_words_never_change_my_corrections(api, user, other_user):
    mine = memory_create(user=user, content="Cardamom buns for Sunday").memory
    memory_create(user=other_user, content="cardamonk cardamonp cardamonb cardamonx")
    lexicon_refresh()
    assert ids(found(api, "cardamonn")) == [str(mine.pk)]
    assert not SearchLexeme.objects.filter(user=user, lexeme__startswith="cardamon").exists()


def test_one_refresh_at_a_time(user):
    """A refresh finding another one (or a rebuild) running skips its turn."""
    import psycopg
    from django.db import connection

    memory_create(user=user, content="Harpsichord lessons")
    settings_dict = connection.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"],
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        dbname=settings_dict["NAME"],
    ) as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtext('memories.lexicon'))")
        assert lexicon_refresh() is None
        assert lexicon_rebuild() is None
    assert lexicon_refresh() > 0  # the lock went with the other transaction


def test_degraded_search_corrects_typos_too(api, user):
    soup = memory_create(user=user, content="Lentil soup recipe with cumin").memory
    lexicon_refresh()
    ai_breaker.force(Forced.OPEN)
    body = found(api, "recipie", mode="hybrid")
    assert (body["mode_used"], body["degraded"]) == ("keyword", True)
    assert ids(body) == [str(soup.pk)]


def test_the_dictionary_follows_saves_edits_and_deletions(user):
    first = memory_create(user=user, content="Harpsichord lessons on Thursday").memory
    assert lexicon_refresh() > 0
    assert SearchLexeme.objects.filter(lexeme="harpsichord").exists()

    memory_create(user=user, content="Marimba concert tickets")
    assert lexicon_refresh() >= 2  # marimba, concert, ticket
    assert SearchLexeme.objects.filter(lexeme="marimba").exists()
    assert lexicon_refresh() == 0  # nothing changed since

    memory_delete(user=user, memory_id=first.pk)
    assert SearchLexeme.objects.filter(lexeme="harpsichord").exists()  # until a rebuild
    lexicon_rebuild()
    assert not SearchLexeme.objects.filter(lexeme="harpsichord").exists()
    assert SearchLexeme.objects.filter(lexeme="marimba").exists()


def test_numbers_urls_and_long_tokens_stay_out_of_the_dictionary(user):
    memory_create(
        user=user,
        content="Invoice 20431 at https://example.com/a/b paid "
        + "supercalifragilisticexpialidocious" * 2,
    )
    lexicon_refresh()
    stems = set(SearchLexeme.objects.values_list("lexeme", flat=True))
    assert {"invoic", "paid"} <= stems
    assert all(stem.isalpha() and 3 <= len(stem) <= 32 for stem in stems), stems


def test_the_text_search_configuration_is_a_setting(api, user, settings):
    memory_create(user=user, content="To be or not to be")
    assert found(api, "not to be")["results"] == []  # English stop words, nothing to match

    settings.SEARCH_TEXT_CONFIG = "simple"
    warnings = text_config.check_text_config(databases=["default"])
    assert [w.id for w in warnings] == ["memories.W001"]
    assert "textsearch apply" in warnings[0].hint

    out = io.StringIO()
    call_command("textsearch", "apply", stdout=out)
    assert "indexed with 'simple'" in out.getvalue()
    assert text_config.column_text_config() == "simple"
    assert text_config.check_text_config(databases=["default"]) == []
    assert len(found(api, "not to be")["results"]) == 1

    out = io.StringIO()
    call_command("textsearch", stdout=out)
    assert "indexed with:       simple" in out.getvalue()
    call_command("textsearch", "apply", stdout=out)
    assert "already 'simple'" in out.getvalue()


def test_an_unknown_text_search_configuration_is_refused(settings):
    with pytest.raises(CommandError, match="no text search configuration 'klingon'"):
        call_command("textsearch", "apply", "--config", "klingon", stdout=io.StringIO())
    assert text_config.column_text_config() == "english"


def test_the_owner_lexeme_keeps_keyword_search_to_the_owner(api, user, other_user):
    """The index finds a user's matches through their '#<id>' lexeme: text that spells it
    out in someone else's memory must not make that memory theirs."""
    from django.db import connection

    theirs = memory_create(user=other_user, content=f"ticket #{user.pk} and #{other_user.pk}")
    mine = memory_create(user=user, content="ticket for the train").memory
    assert ids(found(api, "ticket")) == [str(mine.pk)]
    assert ids(found(api, f"#{user.pk}")) == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(l ORDER BY l) FROM memories_memory,"
            " unnest(tsvector_to_array(search_vector)) l WHERE id = %s AND l LIKE '#%%'",
            [theirs.memory.pk],
        )
        assert cursor.fetchone()[0] == [f"#{other_user.pk}"]
    assert found(api, "the and of")["results"] == []  # stop words only: nothing, not everything
