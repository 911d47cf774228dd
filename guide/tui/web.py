"""The app's driver in a browser (under `guide serve`): Textual's web driver, told what to do when the server is
gone. Imported only when that driver is the one chosen, as Textual imports its own."""

from __future__ import annotations

import asyncio
import contextlib

from textual import messages
from textual.drivers.web_driver import WebDriver


class GuideWebDriver(WebDriver):
    """Textual's web driver, except that input ending without the app asking for it (the server killed or crashed:
    nothing can be typed again) ends the app as a closed tab does, through ExitApp, keeping what is typed. Textual's
    own left the app waiting for keys, until a write to the dead server failed and ended it with the text lost."""

    loop: asyncio.AbstractEventLoop | None = None

    def start_application_mode(self) -> None:
        self.loop = asyncio.get_running_loop()
        super().start_application_mode()

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set() and self.loop is not None:  # the event: the app stopped its driver itself
            # Not waited for: an app ending meanwhile may never run it.
            with contextlib.suppress(RuntimeError):  # its loop is closed: it has ended
                self.loop.call_soon_threadsafe(self._app.post_message, messages.ExitApp())
