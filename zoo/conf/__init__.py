"""The Hydra configs of zoo-train, shipped in the package (a package so Hydra finds them)."""
