from celery import shared_task

from memories.lexicon import lexicon_rebuild, lexicon_refresh


@shared_task(acks_late=True)
def refresh_search_lexicon() -> int | None:
    """Each minute: the stems of memories changed since the last run join the dictionary that
    keyword search corrects typos against."""
    return lexicon_refresh()


@shared_task(acks_late=True)
def rebuild_search_lexicon() -> int | None:
    """Nightly: the dictionaries anew, without the stems of memories deleted since."""
    return lexicon_rebuild()
