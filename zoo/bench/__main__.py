"""`python -m zoo.bench`: the benchmark's documented entry point (the tool is `zoo.bench.command`)."""

from zoo.bench.command import main

if __name__ == "__main__":
    main()
