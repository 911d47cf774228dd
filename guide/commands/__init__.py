"""One module per `guide` subcommand."""
