"""`python -m zoo.conditioning`: the conditioning experiment (the command is
`zoo.cli.landscapes`)."""

from zoo.cli.landscapes import main

if __name__ == "__main__":
    main()
