"""
Modern forms: a transformer reverses a string
=============================================

The transformer keeps the encoder-decoder pattern and drops recurrence: every output step
attends to every source position at once (Vaswani et al. 2017). To reverse a string, the
decoder's cross-attention must look at the source symbol it is about to emit, so its weights
trace the anti-diagonal.

This example loads the shipped ``transformer_seq2seq.reverse``
(:class:`zoo.patterns.TransformerSeq2Seq`), decodes test strings of
:class:`zoo.data.SequenceTaskDataModule` greedily, and draws one string's cross-attention.
"""

import matplotlib.pyplot as plt
import torch

import zoo
from zoo.data import SequenceTaskDataModule
from zoo.tasks.seq2seq import exact_match

net = zoo.create_model("transformer_seq2seq.reverse", pretrained=True).eval()
data = SequenceTaskDataModule(task="reverse", vocab=10, lengths=[4, 16], test_lengths=[4, 20])
source, lengths, _, target = data.load()["test"]  # target: the reversal, then the end token
source, lengths, target = source[:400], lengths[:400], target[:400]
with torch.no_grad():
    tokens, attention = net.greedy(source, lengths, steps=target.shape[1])
exact = exact_match(tokens, target)
for low, high in ((4, 16), (17, 20)):
    here = (lengths >= low) & (lengths <= high)
    print(
        f"lengths {low}-{high}: exact match {exact[here].float().mean():.3f} of {int(here.sum())}"
    )
print("cross-attention weights (strings, output steps, source positions):", tuple(attention.shape))

# %%
# One string's cross-attention
# ----------------------------

i = int(((lengths >= 10) & (lengths <= 12) & exact).nonzero()[0])
n = int(lengths[i])
weights = attention[i]
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.imshow(weights[:n, :n], cmap="Blues")
ax.set(
    xlabel="source position", ylabel="output step", title=f"reversing {n} symbols: cross-attention"
)
fig.tight_layout()
plt.show()
