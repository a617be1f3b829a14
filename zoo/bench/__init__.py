"""What the zoo's training costs, as ratios to plain PyTorch measured in the same run.

`steps` times one training step of a model (the same initial weights, batch order and
optimizer in every row, so every row must end on the same loss); `processes` times whole
`train.py` runs against a hand-written script (`hand_train`) and a lightning-hydra-template
style pipeline (`template_train`); `streaming` reads images from shards and from memory.
`zoo.bench.command` runs them all and writes the table and a JSON file.
"""
