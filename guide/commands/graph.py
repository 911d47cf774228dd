"""`guide graph`: the decision graph, or one case's walk through it, as Mermaid or DOT."""

from __future__ import annotations

import argparse

from guide.commands import add_output_options, input_path


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "graph", parents=[common], help="draw the decision graph, or the walk one case takes through it",
        description="Write the decision graph of the bank (questions and their routing, rules, elements, needs "
                    "and method families) as a Mermaid or Graphviz DOT diagram; with --case or --answers, only "
                    "the questions that case was asked and the evidence edges that fired.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--case", metavar="NAME", help="draw the walk of a preset case (see `guide cases`)")
    source.add_argument("--answers", metavar="FILE", type=input_path, help="draw the walk of an answers file or design document")
    parser.add_argument("--routing", action="store_true",
                        help="only the questions and the routing between them, without rules, elements, needs and methods")
    add_output_options(parser, ("mermaid", "dot"), "mermaid", "diagram language")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from guide.bank import read_answers
    from guide.commands.run import answers_source
    from guide.diagram import bank_diagram, flow_only, render_diagram, walk_diagram
    from guide.engine import evaluate
    from guide.files import write_output
    from guide.frontend import load_bank_option

    bank = load_bank_option(args)
    if args.case is None and args.answers is None:
        diagram = bank_diagram(bank)
    else:
        diagram = walk_diagram(bank, evaluate(bank, read_answers(answers_source(args, bank), bank)))
    write_output(render_diagram(flow_only(diagram) if args.routing else diagram, args.format), args.out)
    return 0
