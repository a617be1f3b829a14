"""`python -m zoo.conditioning`: the conditioning experiment (the command is
`zoo.cli.conditioning`)."""

from zoo.cli.conditioning import main

if __name__ == "__main__":
    main()
