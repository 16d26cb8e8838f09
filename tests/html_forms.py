"""Reading a page's forms as a browser does: where each form goes and what it sends.

Tests that drive the server's pages over plain HTTP follow the forms the page itself
renders (action, method, hidden fields, the clicked button) instead of posting to URLs
the test knows: a form that posts to the wrong place fails the test, as it fails a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin


@dataclass
class Button:
    name: str | None
    value: str
    text: str


@dataclass
class Form:
    action: str  # as written in the page ("" means the page's own URL)
    method: str
    id: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # what is sent without typing
    inputs: dict[str, str] = field(default_factory=dict)  # every named field -> its type
    radios: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)

    def target(self, page_url: str) -> str:
        return urljoin(page_url, self.action)

    def data(self, button: Button | None = None, **typed: str) -> dict[str, str]:
        unknown = set(typed) - set(self.inputs)
        assert not unknown, f"the form has no field {sorted(unknown)} (fields: {sorted(self.inputs)})"
        data = {**self.fields, **typed}
        if button is not None and button.name:
            data[button.name] = button.value
        return data

    def button(self, name: str | None = None, value: str | None = None) -> Button:
        for b in self.buttons:
            if (name is None or b.name == name) and (value is None or b.value == value):
                return b
        raise AssertionError(f"no button {name}={value} in form (buttons: {self.buttons})")


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._button: dict[str, Any] | None = None
        self._owned: list[tuple[str, Button]] = []  # buttons outside a form, with form="id"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower(), a.get("id", ""))
            self.forms.append(self._form)
        elif tag == "button" and a.get("form"):
            self._button = a
            self._owned.append((a["form"], Button(a.get("name") or None, a.get("value", ""), "")))
        elif self._form is None:
            return
        elif tag == "input":
            self._input(self._form, a)
        elif tag in ("textarea", "select") and a.get("name"):
            self._form.inputs[a["name"]] = tag
        elif tag == "button":
            self._button = a
            self._form.buttons.append(Button(a.get("name") or None, a.get("value", ""), ""))

    @staticmethod
    def _input(form: Form, a: dict[str, str]) -> None:
        name, kind = a.get("name"), a.get("type", "text").lower()
        if kind == "submit":
            form.buttons.append(Button(name or None, a.get("value", ""), a.get("value", "")))
            return
        if not name:
            return
        form.inputs[name] = kind
        if kind == "radio":
            form.radios.setdefault(name, []).append(a.get("value", "on"))
            if "checked" in a:
                form.fields[name] = a.get("value", "on")
        elif kind == "checkbox":
            if "checked" in a:
                form.fields[name] = a.get("value", "on")
        elif kind != "password":
            form.fields[name] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._button is not None and self._button.get("form"):
            self._owned[-1][1].text += data.strip()
        elif self._button is not None and self._form is not None:
            self._form.buttons[-1].text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "button":
            if self._form is not None and self._form.buttons and not (self._button or {}).get("form"):
                self._form.buttons[-1].text = self._form.buttons[-1].text.strip()
            self._button = None


def forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    for form_id, button in parser._owned:  # a button's form= attribute: it submits that form
        for form in parser.forms:
            if form.id == form_id:
                form.buttons.append(button)
    return parser.forms


def form_with(html: str, field_name: str) -> Form:
    """The page's form that has a field (input, radio, button) of this name."""
    for form in forms(html):
        if field_name in form.inputs or any(b.name == field_name for b in form.buttons):
            return form
    raise AssertionError(f"no form with a field {field_name!r} in the page")
