"""Architectures composed from blocks; each takes its parts as constructor arguments."""

from zoo.patterns.classifier import Classifier
from zoo.patterns.deep_mlp import DeepMLP
from zoo.patterns.memory_reader import MemoryReader
from zoo.patterns.sequence import SequenceModel
from zoo.patterns.vqa import ConcatVQA, FiLMVQA

__all__ = ["Classifier", "ConcatVQA", "DeepMLP", "FiLMVQA", "MemoryReader", "SequenceModel"]
