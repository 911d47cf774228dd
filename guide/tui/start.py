"""The start screen: what the tool does, the five elements at a glance, and where to begin."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from guide.bank import Bank
from guide.tui.widgets import KeyBar, SizedScreen, clean, shorten, show_content

INTRO = ("guide walks you through the interpretability framework of Wang et al. (IEEE Access, 2024): you describe "
         "the use case, users, goals, risks and constraints of a medical-imaging model, and it shows which elements "
         "of interpretability the model needs and why. It then ranks method families for those elements, plans how "
         "to evaluate them, and writes the design document.")


class Glance(Static):
    """The heading and a line per element (one widget: every widget costs start-up time). A question too long
    for the line ends after a whole word, with an ellipsis."""

    def __init__(self, bank: Bank) -> None:
        super().__init__(self.lines(bank, 80), id="glance")
        self.bank = bank

    @staticmethod
    def lines(bank: Bank, width: int) -> Content:
        rows = [Content.styled("The five elements", "bold")]
        for element in bank.elements.values():
            name = f"{element.short} {clean(element.name)}  "
            rows.append(Content.assemble((name, "bold"), shorten(clean(element.question), width - len(name))))
        return Content("\n").join(rows)

    def on_resize(self) -> None:
        show_content(self, self.lines(self.bank, self.content_region.width))


class StartScreen(SizedScreen):
    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]
    AUTO_FOCUS = "#menu"
    BINDINGS = [
        Binding("n", "app.new_design", "New"),
        Binding("r", "resume", "Resume"),  # on the key bar while there is a design to resume
        Binding("p", "app.presets", "Presets"),
        Binding("o", "app.open_file", "Open"),
        Binding("l", "app.learn", "Learn"),
    ]

    def compose(self) -> ComposeResult:
        bank = self.app.bank
        with VerticalScroll(id="start"):
            yield Static(Content.styled("guide: what should “interpretable” mean for your model?", "bold"),
                         id="start-title")
            yield Static(INTRO, id="start-intro")
            yield Glance(bank)
            yield OptionList(id="menu")
            yield Static(id="start-error")
        yield KeyBar()

    def __init__(self) -> None:
        super().__init__()
        self.resumable = False

    def on_mount(self) -> None:
        self.refresh_menu()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.resumable if action == "resume" else True

    def action_resume(self) -> None:
        self.app.action_resume()

    def on_screen_resume(self) -> None:
        self.refresh_menu()

    def refresh_menu(self) -> None:
        saved, problem = self.app.saved_session()
        self.resumable = saved is not None
        self.refresh_bindings()
        entries = [("new", "n", "Start a new design")]
        if saved is not None:
            stages = saved.bank.meta.stages
            stage = ("at the results" if saved.question is None else
                     f"at {clean(stages[saved.stage_number(saved.question) - 1].title).lower()}")
            count = len(saved.answered_on_path)
            entries.append(("resume", "r", f"Resume “{clean(saved.answers.title)}”: {count} answer(s), {stage}"))
        entries.append(("presets", "p", "Open a preset case as a worked example"))
        if self.app.offers_resume:
            entries.append(("open", "o", "Open an answers file or design document"))
        entries += [("learn", "l", "Learn the five elements"), ("help", "?", "Help: keys and the framework")]
        menu = self.query_one("#menu", OptionList)
        menu.set_options([Option(Content.assemble((key, "bold"), "  ", label), id=action) for action, key, label in entries])
        menu.highlighted = 1 if saved is not None else 0
        menu.focus()
        error = self.query_one("#start-error", Static)
        if problem:
            error.update(Content.assemble(("The saved session cannot be resumed: ", "bold"), clean(str(problem))))
        elif not self.app.offers_resume:
            error.update("In a browser this tab's answers are saved on the server for this tab only and cannot "
                         "be resumed from another tab: export the design document to keep them (its front "
                         "matter holds every answer).")
        error.display = bool(problem) or not self.app.offers_resume

    @on(OptionList.OptionSelected, "#menu")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        actions = {"new": self.app.action_new_design, "resume": self.app.action_resume,
                   "presets": self.app.action_presets, "open": self.app.action_open_file,
                   "learn": self.app.action_learn, "help": self.app.action_help}
        actions[event.option.id]()
