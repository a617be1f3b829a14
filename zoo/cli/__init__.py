"""Command-line tools (`zoo-train`, `zoo-eval`, `zoo-predict`, ...): thin layers that parse
arguments, resolve a model source, call library functions and print. Nothing in the library
imports them."""
