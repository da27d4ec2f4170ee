"""Signals of memories, for the features built on them (which memories may not import)."""

from django.dispatch import Signal

# Sent by the enrichment pipeline once memories got their embedding and the transaction that
# stored it committed, with `model` (the embedding model's name) and `memories` (a list of
# memories.embeddings.EmbeddedMemory). Receivers must not raise: it is sent robustly.
memories_embedded = Signal()
