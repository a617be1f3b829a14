"""The benchmark's yardsticks: `python train.py`'s default run written by hand in plain
PyTorch (`hand_train`) and in the style of lightning-hydra-template (`template_train`). They
live in a source checkout only: the wheel leaves them out."""
