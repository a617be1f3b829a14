"""Architectures composed from blocks; each takes its parts as constructor arguments."""

from zoo.patterns.classifier import Classifier

__all__ = ["Classifier"]
