"""`python -m zoo.bench`: the benchmark's documented entry point (the tool is `zoo.cli.bench`)."""

from zoo.cli.bench import main

if __name__ == "__main__":
    main()
