"""One module per `guide` subcommand."""

ANSWERS_HELP = "answers file (YAML), a session the app saved, or design document (.md or .json)"
