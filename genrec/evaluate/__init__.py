"""How good a run is: the paper's classification table, retrieval quality, hubness and head-to-head tests."""

from genrec.evaluate.headtohead import HeadToHead, head_to_head
from genrec.evaluate.hubness import hubness_report
from genrec.evaluate.metrics import classification_metrics
from genrec.evaluate.report import evaluate_run
from genrec.evaluate.retrieval import retrieval_report

__all__ = ["HeadToHead", "classification_metrics", "evaluate_run", "head_to_head", "hubness_report", "retrieval_report"]
