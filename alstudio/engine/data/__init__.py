"""Biased Synbols datasets: sampling plans, rendering, caching and previews."""

from .cache import cache_path, load_or_generate
from .dataset import DatasetFileError, Split, SynbolsDataset
from .generate import GenerationCancelled, generate_dataset

__all__ = [
    "DatasetFileError", "GenerationCancelled", "Split", "SynbolsDataset", "cache_path",
    "generate_dataset", "load_or_generate",
]
