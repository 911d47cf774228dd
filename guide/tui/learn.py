"""Learn the elements: the question each answers, a definition, examples and teaching text."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from guide.bank import Bank
from guide.model import Element
from guide.report.text import number_name
from guide.tui.widgets import KeyBar, ReadingScroll, SizedScreen, clean


class LearnScreen(SizedScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (76, "-normal")]
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("tab", "focus_next", "Read the text")]

    def __init__(self, bank: Bank, element_id: str | None = None) -> None:
        super().__init__()
        self.bank = bank
        self.start = element_id

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(f"The {number_name(len(self.bank.elements))} elements of interpretability "
                                    "(Wang et al., 2024)", "bold"), id="learn-title")
        with Horizontal(id="learn-body"):
            yield OptionList(*[Option(Content.assemble((element.short, "bold"), " ", clean(element.name)), id=element.id)
                               for element in self.bank.elements.values()], id="learn-list")
            with ReadingScroll(id="learn-pane"):
                yield Static(id="learn-text")
        yield KeyBar()

    def on_mount(self) -> None:
        elements = list(self.bank.elements)
        listing = self.query_one(OptionList)
        listing.highlighted = elements.index(self.start) if self.start in elements else 0
        listing.focus()

    @on(OptionList.OptionHighlighted)
    def _show(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one("#learn-text", Static).update(lesson(self.bank, self.bank.elements[event.option.id]))
        self.query_one("#learn-pane").scroll_home(animate=False)


def lesson(bank: Bank, element: Element) -> Content:
    parts: list = [(f"{element.short}  {clean(element.name)}\n", "bold"), (clean(element.question), "italic"), "\n\n",
                   clean(element.definition), "\n", ("\nExamples\n", "bold")]
    parts += [f"• {clean(example)}\n" for example in element.examples]
    parts += [("\nWhat to keep in mind\n", "bold"), clean(element.teaching), "\n", ("\nHow to evaluate it\n", "bold")]
    parts += [f"• {clean(item.text)}\n" for item in element.evaluation]
    serving = [precedent for precedent in bank.precedents.values() if element.id in precedent.serves]
    if serving:
        parts.append(("\nPublished systems built mainly for it\n", "bold"))
        parts += [f"• {clean(precedent.title)} ({clean(_first_author(precedent.reference.authors))} "
                  f"{precedent.reference.year}): {clean(', '.join(bank.methods[family].name for family in precedent.built))}\n"
                  for precedent in serving]
    parts.append(("\nThe element names are the paper's; the definitions, examples, teaching notes and the "
                  "reading of each published system are this tool's.", "italic"))
    return Content.assemble(*parts)


def _first_author(authors: str) -> str:
    """'Ribli D, Horváth A, ...' -> 'Ribli et al.'; a single author stays as written."""
    names = [name.strip() for name in authors.split(",") if name.strip()]
    surname = names[0].rsplit(" ", 1)[0] if " " in names[0] else names[0]
    return surname + (" et al." if len(names) > 1 else "")
