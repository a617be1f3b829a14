"""Analyses of trained networks, torch alone: adversarial examples (`attacks`), feature
visualisation (`feature_vis`) and judging generated samples with a classifier (`judge`)."""
