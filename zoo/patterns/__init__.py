"""Architectures composed from blocks; each takes its parts as constructor arguments.

A pattern that ends in a head keeps it as `.head`, a `zoo.blocks.Head` (`MultiTask` keeps one
per task in `.heads`, a `ModuleDict` keyed by task name). `forward` returns the head's logits,
so a plain PyTorch loop needs nothing else: `loss = net.head.loss(net(x), y)` to train,
`net.head.predict_proba(logits)` / `net.head.predict(logits)` to use the outputs; with
`MultiTask`, `net.heads[name].loss(net(x)[name], y[name])`. A `head` argument may be a `Head`
or a callable taking the width it reads (a Hydra partial): `zoo.blocks.build_head`.
"""

from zoo.patterns.autoencoder import Autoencoder, EncoderDecoder
from zoo.patterns.classifier import Classifier
from zoo.patterns.deep_mlp import DeepMLP
from zoo.patterns.gan import GAN
from zoo.patterns.memory_reader import MemoryReader
from zoo.patterns.multi_input import MultiInput
from zoo.patterns.multitask import MultiTask
from zoo.patterns.pixelcnn import IndependentPixels, PixelCNN
from zoo.patterns.relation import RelationNetwork
from zoo.patterns.seq2seq import Seq2Seq
from zoo.patterns.sequence import SequenceModel
from zoo.patterns.siamese import Siamese
from zoo.patterns.simclr import SimCLR
from zoo.patterns.teacher_student import TeacherStudent
from zoo.patterns.transformer_seq2seq import TransformerSeq2Seq
from zoo.patterns.unet import UNet
from zoo.patterns.vae import VAE
from zoo.patterns.vit import PatchEmbedding, ViTEncoder
from zoo.patterns.vqa import ConcatVQA, FiLMVQA

__all__ = [
    "GAN",
    "VAE",
    "Autoencoder",
    "Classifier",
    "ConcatVQA",
    "DeepMLP",
    "EncoderDecoder",
    "FiLMVQA",
    "IndependentPixels",
    "MemoryReader",
    "MultiInput",
    "MultiTask",
    "PatchEmbedding",
    "PixelCNN",
    "RelationNetwork",
    "Seq2Seq",
    "SequenceModel",
    "Siamese",
    "SimCLR",
    "TeacherStudent",
    "TransformerSeq2Seq",
    "UNet",
    "ViTEncoder",
]
