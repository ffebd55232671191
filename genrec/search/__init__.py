"""Nearest-neighbour search over unit embeddings: exact cosine search, and an approximate index for
catalogues of a million tracks."""

from genrec.search.index import AnnIndex, ExactIndex, VectorIndex, choose_kind
from genrec.search.vectors import cosine_similarities, l2_normalize

__all__ = ["AnnIndex", "ExactIndex", "VectorIndex", "choose_kind", "cosine_similarities", "l2_normalize"]
