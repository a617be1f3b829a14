"""
Generative and dense models: GAN, PixelCNN, U-Net
=================================================

Three ways to produce a whole image rather than a label. A GAN's generator learns to fool a
discriminator (Goodfellow et al. 2014); a PixelCNN writes an image pixel by pixel, each from
the ones before it through masked convolutions (van den Oord et al. 2016); a U-Net labels
every pixel, its skips carrying detail from each scale of the encoder to the decoder
(Ronneberger et al. 2015).

This example samples the shipped ``gan.digits`` (:class:`zoo.patterns.GAN`) and
``pixelcnn.digits`` (:class:`zoo.patterns.PixelCNN`), asks ``cnn.digits`` what it sees in
them, and segments generated shapes with ``unet.shapes`` (:class:`zoo.patterns.UNet`).
"""

import matplotlib.pyplot as plt
import torch

import zoo
from zoo.analysis.judge import judge_samples
from zoo.data import ShapesDataModule

generator = torch.Generator().manual_seed(0)
gan = zoo.create_model("gan.digits", pretrained=True).eval()
pixelcnn = zoo.create_model("pixelcnn.digits", pretrained=True).eval()
judge = zoo.create_model("cnn.digits", pretrained=True).eval()
with torch.no_grad():
    samples = {"GAN": gan.sample(200, generator), "PixelCNN": pixelcnn.sample(200, generator)}
for name, images in samples.items():
    verdict = judge_samples(images, judge)
    print(
        f"{name}: judged by cnn.digits, confidence {verdict['confidence']:.3f}, spread {verdict['spread']:.3f}"
    )

unet = zoo.create_model("unet.shapes", pretrained=True).eval()
x, mask = ShapesDataModule(seed=0).load()["test"][:2]
with torch.no_grad():
    predicted = unet(x[:4]).argmax(1)
print(f"U-Net pixel accuracy on 4 test images: {(predicted == mask[:4]).float().mean():.3f}")

# %%
# Samples and segmentations
# -------------------------

fig, axes = plt.subplots(3, 8, figsize=(8, 3.4))
for c in range(8):
    axes[0, c].imshow(samples["GAN"][c, 0], cmap="gray_r")
    axes[1, c].imshow(samples["PixelCNN"][c, 0], cmap="gray_r")
    pair = c // 2
    shown = x[pair, 0] if c % 2 == 0 else predicted[pair]
    axes[2, c].imshow(shown, cmap="gray" if c % 2 == 0 else "viridis")
for ax in axes.flat:
    ax.set(xticks=[], yticks=[])
for r, label in enumerate(("GAN", "PixelCNN", "U-Net: image, labels")):
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.tight_layout()
plt.show()
