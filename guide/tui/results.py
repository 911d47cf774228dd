"""The results: priorities, ranked method families with details on demand, the plan, open questions."""

from __future__ import annotations

from functools import cached_property, partial
from typing import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.selection import Selection
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option
from textual.widgets.tabbed_content import ContentTabs

from guide.bank import Bank
from guide.engine import (affected, applicable_caveats, joined_labels, left_out_text, passed_over_alternatives,
                          poor_fit_text, replaces_same_model, setting_shared, setting_unshared, similarity_rule)
from guide.model import (METHOD_STATUS_LABELS, UNCOVERED_LABEL, AnswerRecord, InstructorNotes, MethodResult,
                         PrecedentMatch, Result)
from guide.report.text import counted, level_range_labels, shown_title
from guide.session import drafts_words, left_empty_words
from guide.tui.widgets import (BAR_WIDTH, KeyBar, SizedScreen, clean, evidence_lines, hanging_text, level_bar,
                               show_content)

KIND_WORDS = {"post_hoc": "post hoc", "by_design": "by design", "either": "post hoc or by design"}


class ResultsScreen(SizedScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (76, "-normal"), (110, "-wide")]
    # The keys go to the priorities from the first frame: focusing the tab bar first, as Textual would, and
    # the priorities once the tab is activated restyled the tab bar in a frame of its own.
    AUTO_FOCUS = "#tab-priorities VerticalScroll"
    BINDINGS = [
        # The content has the focus, so ↑ ↓ and PageUp/PageDown scroll at once; ← → switch tabs from anywhere.
        Binding("left", "switch_tab(-1)", "Tabs", key_display="←→", priority=True),
        Binding("right", "switch_tab(1)", "Next tab", show=False, priority=True),
        Binding("e", "export", "Export"),
        Binding("b", "questions", "Questions"),
        Binding("v", "review", "Review"),
        Binding("c", "copy_example", "Copy to edit"),
    ]

    def __init__(self, walk) -> None:
        super().__init__()
        self.walk = walk
        self.result: Result = walk.result()

    def heading(self) -> Content:
        title = Content.assemble(("Results: ", "bold"), shown_title(self.walk.answers.title))
        if self.walk.read_only:
            title = Content.assemble(title, " · worked example")
        if left := self.walk.left_in_words():
            title = Content.assemble(title, (f" · {left}", "italic"))
        return title

    def retitled(self) -> None:
        show_content(self.query_one("#results-title", Static), self.heading())

    def compose(self) -> ComposeResult:
        yield Static(self.heading(), id="results-title")
        with TabbedContent(id="tabs"):
            with TabPane("Priorities", id="tab-priorities"):
                with VerticalScroll():
                    if self.walk.answers.reading:
                        yield Static(Content.assemble(("Whose reading: ", "italic"), clean(self.walk.answers.reading)),
                                     id="results-reading")
                    yield TextForWidth(partial(priorities, self.walk.bank, self.result), id="priorities")
            # The other tabs are filled when first shown: building them all made opening the results slow.
            for pane_id, (title, _) in self.unbuilt_tabs.items():
                yield TabPane(title, id=pane_id)
        yield KeyBar()

    @cached_property
    def unbuilt_tabs(self) -> dict[str, tuple[str, Callable[[], Widget]]]:
        """The tabs after the first not shown yet, by pane id: each one's title and what builds its content."""
        bank, result = self.walk.bank, self.result
        tabs: dict[str, tuple[str, Callable[[], Widget]]] = {"tab-methods": ("Methods", self._methods)}
        if result.precedents:
            tabs["tab-precedents"] = ("Like yours", lambda: VerticalScroll(*precedents(bank, result), id="precedents-pane"))
        tabs["tab-plan"] = ("Plan", lambda: VerticalScroll(TextForWidth(partial(plan, bank, result), id="plan")))
        tabs["tab-open"] = ("Open questions", lambda: VerticalScroll(
            Static(open_questions(bank, result, self.walk.left_empty, self.walk.drafted), id="open")))
        tabs["tab-answers"] = ("Answers", lambda: VerticalScroll(TextForWidth(partial(answers, result), id="answers")))
        notes = self.walk.answers.instructor_notes
        if notes and (notes.discuss or notes.common_mistakes):
            tabs["tab-discuss"] = ("Discuss", lambda: VerticalScroll(Static(discussion(notes), id="discuss")))
        return tabs

    def _methods(self) -> Widget:
        return Horizontal(OptionList(*method_options(self.result), id="methods", compact=True),
                          VerticalScroll(Static(id="method-detail"), id="method-detail-pane"), id="methods-body")

    def on_mount(self) -> None:
        # The underline under the first tab from the first frame: Textual places it once the tab bar is laid
        # out, and that took a frame of its own. The tab's text starts after its left padding.
        first = self.query_one(ContentTabs).active_tab
        if first is not None:
            underline, start = self.query_one("Underline"), first.styles.padding.left
            underline.highlight_start, underline.highlight_end = start, start + first.label.cell_length

    def action_switch_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        panes = [pane.id for pane in tabs.query(TabPane)]
        tabs.active = panes[(panes.index(tabs.active) + step) % len(panes)]

    @on(TabbedContent.TabActivated)
    async def _show_tab(self) -> None:
        pane = self.query_one(TabbedContent).active_pane
        if pane is not None and pane.id in self.unbuilt_tabs:
            _, build = self.unbuilt_tabs.pop(pane.id)
            await pane.mount(build())
            if pane.id == "tab-methods":
                self.query_one("#methods", OptionList).highlighted = 0
                self._detail()
        self._focus_content()

    def _focus_content(self) -> None:
        """Give the keys to what the active tab shows (its text, or the list of methods), not to the tab bar. A tab
        switched to while the one before was being built has no content yet: its own activation builds it, then
        gives it the keys."""
        pane = self.query_one(TabbedContent).active_pane
        content = next((widget for widget in pane.query("*") if widget.focusable), None) if pane else None
        if content is not None:
            content.focus()

    @on(OptionList.OptionHighlighted, "#methods")
    def _detail(self) -> None:
        methods = self.query_one("#methods", OptionList)
        if methods.highlighted is None:
            return
        method = self.result.methods[methods.highlighted]
        self.query_one("#method-detail", Static).update(method_detail(self.walk.bank, self.result, method))

    def action_export(self) -> None:
        self.app.action_export()

    def action_questions(self) -> None:
        self.app.back_to_questions()

    def action_review(self) -> None:
        self.app.action_review()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "Copy to edit" exists only for a worked example; hide it from the footer otherwise.
        return self.walk.read_only if action == "copy_example" else True

    def action_copy_example(self) -> None:
        if self.walk.read_only:
            self.app.copy_example()


class TextForWidth(Static):
    """Text written for the width it gets (a table's columns and wrapped lines' indents depend on it) and drawn
    a line at a time: the priorities and the plan.

    The priorities' hundred lines cost half of opening the results: written for a guessed width and again once
    laid out, then measured and rendered whole, twice over. Now they are written, wrapped and rendered once
    per width, when the layout asks for their height, and only the lines in view are drawn."""

    def __init__(self, write: Callable[[int], Content], *, id: str) -> None:
        super().__init__(id=id)
        self.write = write
        self.written: dict[int, tuple[Content, list[Strip]]] = {}  # by width: the text and its lines

    def _written(self, width: int) -> tuple[Content, list[Strip]]:
        if width not in self.written:
            text = self.write(width)
            self.written[width] = text, Visual.to_strips(self, text, width, None, self.visual_style)
        return self.written[width]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._written(width)[1]) if width else 0

    def render(self) -> Content:
        return self._written(self.size.width)[0]

    def render_line(self, y: int) -> Strip:
        lines = self._written(self.size.width)[1]
        return lines[y] if y < len(lines) else Strip.blank(self.size.width, self.visual_style.rich_style)

    def selection_updated(self, selection: Selection | None) -> None:
        self.written.clear()  # the lines carry the selection's colours
        super().selection_updated(selection)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.written.clear()  # a new theme: the lines keep their colours in them


def priorities(bank: Bank, result: Result, width: int = 80) -> Content:
    """One line per element where `width` allows it; on narrow screens confidence gets its own line."""
    parts: list = []
    name_width = max(len(clean(element.name)) for element in result.elements)
    level_width = max(len(level.label) for level in bank.meta.levels)
    fits = 2 + name_width + 1 + BAR_WIDTH + 2 + level_width + len("  confidence medium (score 100% known)") <= width
    for element in result.elements:
        parts += [(f"{element.short} {clean(element.name):<{name_width}} ", "bold"),
                  f"{level_bar(bank, element.score)} ", (f"{element.level_label:<{level_width}}", "bold"),
                  "  " if fits else "\n  ",
                  f"confidence {element.confidence_label} (score {element.confidence:.0%} known)\n"]
        if element.level_range[0] != element.level_range[1]:
            low, high = level_range_labels(bank, element)
            parts.append((f"  one uncertain answer could make it anything from {low} to {high}\n", "italic"))
    if result.complementary:
        names = ", ".join(clean(bank.methods[method].name) for method in result.complementary)
        parts += [("\nRecommended combination: ", "bold"), names, "\n"]
        if result.output_family_note:
            parts += [(clean(result.output_family_note), "italic"), "\n"]
    for element in result.uncovered:
        parts += [(f"{UNCOVERED_LABEL}: ", "bold"), clean(bank.elements[element].name), ": ",
                  clean(poor_fit_text(bank, result, element)), "\n"]
    parts.append(("\nWhy each level\n", "bold"))
    for element in result.elements:
        parts += ["\n", evidence_lines(bank, element, width)]
    return Content.assemble(*parts)


def method_options(result: Result) -> list[Option]:
    options = []
    ranks = {method.id: method.rank for method in result.methods}
    for method in result.methods:
        # The rank sits on the status line, so a name that wraps on a narrow screen stays flush left.
        # Only a family that does not simply fit the constraints spells out its status here.
        rank = f"#{method.rank} · " if method.rank is not None else ""
        status = "" if method.status == "recommended" else f" · {METHOD_STATUS_LABELS[method.status]}"
        # A family passed over as an alternative to the design's model says so where its rank would puzzle.
        passed_over = (" · alternative to " + ", ".join(f"#{ranks[other]}" for other in method.alternative_to)
                       if method.alternative_to and method.id not in result.complementary else "")
        options.append(Option(Content.assemble(
            (clean(method.name), "bold" if method.status == "recommended" else ""),
            f"\n  {rank}score {method.score:g}{status}{passed_over}"), id=method.id))
    return options


def method_detail(bank: Bank, result: Result, method: MethodResult) -> Content:
    family = bank.methods[method.id]
    parts: list = [(clean(family.name), "bold"), f"\n{KIND_WORDS[family.kind]}, {METHOD_STATUS_LABELS[method.status]}",
                   "; emerging" if family.emerging else "", "\n\n", clean(family.summary), "\n"]
    alternative = passed_over_alternatives(bank, result).get(method.id)
    same_model = replaces_same_model(bank, method, result)
    if alternative or same_model:
        parts += ["\n", (clean(f"{alternative[0].upper()}{alternative[1:]}." if alternative else same_model), "italic"),
                  "\n"]
    covers = ", ".join(f"{clean(bank.elements[element].name)} ({strength})" for element, strength in method.covers.items())
    parts += [("\nServes: ", "bold"), covers, "\n"]
    if method.why or method.evidence:
        parts.append(("\nWhy\n", "bold"))
        parts += [f"• {clean(line)}\n" for line in method.why]
        parts += [f"• {item.weight:+g}: {clean(item.because)}\n" for item in method.evidence]
    if family.needs:
        statuses = {need.id: need.status for need in result.needs}
        parts.append(("\nNeeds\n", "bold"))
        for need in family.needs:
            parts.append(f"• {clean(bank.needs[need].label)}: {statuses.get(need, 'unknown')}\n")
            if statuses.get(need) == "unavailable":
                parts.append((f"  {clean(bank.needs[need].explain_missing)}\n", "italic"))
    caveats = applicable_caveats(bank, method.id, result.needs)
    if caveats:
        parts.append(("\nCaveats\n", "bold"))
        parts += [f"• {clean(caveat.text)}{cite(bank, caveat.references)}\n" for caveat in caveats]
    parts.append(("\nRepresentative methods\n", "bold"))
    parts += [f"• {clean(item.name)}{cite(bank, [item.reference] if item.reference else [])}\n"
              for item in family.representatives]
    if family.libraries:
        parts += [("\nLibraries: ", "bold"), ", ".join(clean(library) for library in family.libraries), "\n"]
    if method.built_by:
        parts.append(("\nPublished systems that built it (nearest first)\n", "bold"))
        parts += [f"• {clean(bank.precedents[item].title)} ({bank.precedents[item].reference.year})\n"
                  for item in method.built_by]
    return Content.assemble(*parts)


def precedents(bank: Bank, result: Result) -> list[Widget]:
    """The published systems nearest to the answers, with what agreed and what their authors built
    (`precedent_details`)."""
    unshared = setting_unshared(bank, result)
    cards: list[Widget] = [Static(Content.assemble(("Published systems like yours\n", "bold"),
                                                   (f"{similarity_rule(bank)} They never change a score.", "italic"),
                                                   *([("\n" + clean(unshared), "bold")] if unshared else [])),
                                  id="precedents")]
    for number, match in enumerate(result.precedents, start=1):
        precedent = bank.precedents[match.id]
        shared = clean(setting_shared(bank, result, match))
        cards.append(Static(Content.assemble((f"{clean(precedent.title)} ({match.similarity:.0%} similar; {shared})\n",
                                              "bold"),
                                             clean(precedent.summary)), id=f"precedent-{number}", classes="precedent"))
        cards.append(TextForWidth(partial(precedent_details, bank, match), id=f"precedent-details-{number}"))
    return cards


def precedent_details(bank: Bank, match: PrecedentMatch, width: int) -> Content:
    """What a published system's authors built, and each answer that agrees under its question's prompt, as the
    Answers tab says it (a label alone, "Full access" or "Feasible", does not say what agreed), wrapped to `width`
    under itself."""
    agreeing = [(answer_line(bank.questions[question_id].prompt, labels), 2, 4)
                for question_id, labels in zip(match.matched, match.agreeing)]
    return hanging_text([
        (Content.assemble("Built: ", (", ".join(clean(bank.methods[family].name) for family in match.built), "bold")),
         2, 2),
        (Content("Agreeing answers:"), 2, 2), *agreeing, (Content.styled(clean(match.citation), "italic"), 2, 2)], width)


def cite(bank: Bank, reference_ids: list[str]) -> str:
    found = [clean(bank.references[item].citation) for item in reference_ids if item in bank.references]
    return f" ({'; '.join(found)})" if found else ""


def plan(bank: Bank, result: Result, width: int = 80) -> Content:
    """The plan, each item wrapped under its own start: a bullet's lines under its text, a conflict's under
    its label."""
    # Each paragraph with the indents of its first line and of the lines it wraps to.
    paragraphs: list[tuple[Content, int, int]] = [(Content.styled("Evaluation plan, element by element", "bold"), 0, 0)]

    def conflict_with(conflict: str | None) -> None:
        if conflict:
            paragraphs.append((Content.assemble(("Conflict with your answers. ", "bold"), clean(conflict)), 2, 4))

    def item(text: str, references: list[str], conflict: str | None) -> None:
        paragraphs.append((Content(f"• {text}{cite(bank, references)}"), 0, 2))
        conflict_with(conflict)

    def left_out(element_id: str | None) -> None:
        # A measure and a check of one name, apart in the document, are one line here, where they would sit together.
        texts = dict.fromkeys(left_out_text(bank, missing) for missing in result.left_out if missing.element == element_id)
        paragraphs.extend((Content.styled(f"• {clean(text)}", "italic"), 0, 2) for text in texts)

    if result.answer_checks or any(missing.element is None for missing in result.left_out):
        paragraphs += [(Content(""), 0, 0),
                       (Content.styled("What your answers call for, whatever families are built", "bold"), 0, 0)]
        for checks in result.answer_checks_by_rule():
            paragraphs += [(Content(""), 0, 0), (Content.styled(clean(checks[0].answer_text), "italic"), 0, 0)]
            for check in checks:
                item(clean(check.text), check.references, check.conflict)
        left_out(None)
    current = None
    for step in result.evaluation:
        if step.element != current:
            current = step.element
            level = next(element.level_label for element in result.elements if element.id == step.element)
            paragraphs += [(Content(""), 0, 0),
                           (Content.styled(f"{clean(bank.elements[step.element].name)} ({level})", "bold"), 0, 0)]
            for criterion in (criterion for criterion in result.acceptance if criterion.element == step.element):
                paragraphs.append((Content.assemble(
                    ("Accept when: ", "bold"), f"{clean(criterion.measure)} Threshold to agree on: "
                    f"{clean(criterion.threshold)} Sample: {clean(criterion.sample)} Who judges: "
                    f"{clean(criterion.judge)} When: {clean(criterion.when)}"), 0, 2))
                if criterion.replaces:
                    paragraphs.append((Content.styled(clean(criterion.replaces_heading()), "italic"), 2, 4))
                    paragraphs += [(Content(f"- {clean(measure)}"), 4, 6) for measure in criterion.replaces]
                conflict_with(criterion.conflict)
            left_out(step.element)
        source = "" if step.source == "element" else f" [for {clean(bank.methods[step.source].name)}]"
        item(f"{clean(step.text)}{source}", step.references, step.conflict)
    if not result.evaluation:
        paragraphs += [(Content(""), 0, 0), (Content("No element is needed, so there is nothing to evaluate yet."), 0, 0)]
    return hanging_text(paragraphs, width)


def open_questions(bank: Bank, result: Result, left_empty: list[str], drafted: Sequence[str] = ()) -> Content:
    """The questions that lower the results' confidence, then the text questions left empty (`Walk.left_empty`)
    and those holding a draft (`Walk.drafted`), so that this tab accounts for every question the heading says is
    left, and for text typed that no document holds."""
    empty = [(f"\n{left_empty_words(len(left_empty))} (they change no result)\n", "bold"),
             *(f"• {clean(bank.questions[question_id].prompt)}\n" for question_id in left_empty)] if left_empty else []
    if drafted:
        empty += [(f"\n{drafts_words(len(drafted))}, so not in the document: Enter in its box answers with it\n",
                   "bold"), *(f"• {clean(bank.questions[question_id].prompt)}\n" for question_id in drafted)]
    if not result.open_questions:
        settled = "No open questions lower the confidence of the results.\n" if empty else \
            "No open questions: every answer on the path is settled."
        return Content.assemble(settled, *empty)
    lower = "lowers" if len(result.open_questions) == 1 else "lower"
    parts: list = [(f"{counted(len(result.open_questions), 'open question')} {lower} the confidence of the results\n",
                    "bold")]
    for item in result.open_questions:
        elements, needs = affected(bank, item.affects)
        parts += ["\n", (f"{clean(item.prompt)} ({item.reason})\n", "bold"), f"  Find out: {clean(item.find_out)}\n"]
        if elements:
            parts.append(f"  Affects: {', '.join(clean(bank.elements[element].name) for element in elements)}\n")
        if needs:
            parts.append(f"  Decides whether: {'; '.join(clean(label.lower()) for label in needs)}\n")
    return Content.assemble(*parts, *empty)


def answer_line(prompt: str, said: str) -> Content:
    """An answer under its question, as a bullet: the prompt, then what was answered in bold."""
    return Content.assemble(f"• {clean(prompt)} ", (clean(said), "bold"))


def answers(result: Result, width: int = 80) -> Content:
    """The answers, wrapped to `width`: a question's lines under its text, not under its bullet, its note under it."""
    def answered(record: AnswerRecord) -> list[tuple[Content, int, int]]:
        labels = joined_labels(clean(label) for label in record.labels)
        said = [(answer_line(record.prompt, labels or "not answered"), 0, 2)]
        if record.note:
            said.append((Content.styled(f"note: {clean(record.note)}", "italic"), 2, 4))
        return said

    paragraphs = [(Content.styled("Answers on the path", "bold"), 0, 0)]
    for record in result.answers:
        paragraphs += answered(record)
    if result.set_aside:
        paragraphs += [(Content(""), 0, 0), (Content.styled("Set aside: off the path, kept but not counted", "bold"), 0, 0),
                       (Content("These answers and notes belong to questions that a changed answer took off the path. "
                                "They come back if you change that answer back."), 0, 0)]
        for record in result.set_aside:
            paragraphs += answered(record)
    return hanging_text(paragraphs, width)


def discussion(notes: InstructorNotes) -> Content:
    """A worked example's teaching notes: what to discuss and the mistakes students often make."""
    parts: list = []
    for heading, items in (("To discuss", notes.discuss), ("Common mistakes", notes.common_mistakes)):
        if items:
            parts.append((f"{heading}\n", "bold"))
            parts += [f"• {clean(item)}\n" for item in items]
            parts.append("\n")
    return Content.assemble(*parts)
