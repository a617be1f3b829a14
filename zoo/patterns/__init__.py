"""Architectures composed from blocks; each takes its parts as constructor arguments."""

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
from zoo.patterns.teacher_student import TeacherStudent
from zoo.patterns.unet import UNet
from zoo.patterns.vae import VAE
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
    "PixelCNN",
    "RelationNetwork",
    "Seq2Seq",
    "SequenceModel",
    "Siamese",
    "TeacherStudent",
    "UNet",
]
