#!/usr/bin/env python3
"""Smoke-test a running RightsDesk over real HTTP: log in, file a claim, find it in the list.

Uses only the standard library (urllib, http.cookiejar, html.parser) so that it tests the
server as a browser would, without the project's code. Forms are read generically: every
input, select and textarea of the form is sent with its default value, and only the fields
that matter (or that the page marks required and left empty) are filled in, so that small
changes to the filing form do not break it.

    python .ci/smoke_embedded.py http://127.0.0.1:8000 [--email legal@member.demo] [--password ...]
"""

import argparse
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from http.cookiejar import CookieJar

TOKYO = timezone(timedelta(hours=9))
REFERENCE = re.compile(r"/cases/((?:CL|IQ)-\d{4}-\d{6})/")


class SmokeFailure(Exception):
    pass


class Form:
    def __init__(self, attrs: dict):
        self.action = attrs.get("action") or ""
        self.method = (attrs.get("method") or "get").lower()
        self.fields: list[
            dict
        ] = []  # {"tag", "type", "name", "value", "checked", "required", "options", ...}

    def names(self) -> set[str]:
        return {f["name"] for f in self.fields if f.get("name")}


class FormParser(HTMLParser):
    """Collect every form with its inputs, selects (and options), textareas and buttons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {key: (value if value is not None else "") for key, value in attrs}
        if tag == "form":
            self._form = Form(attrs)
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input":
            self._form.fields.append(
                {
                    "tag": "input",
                    "type": (attrs.get("type") or "text").lower(),
                    "name": attrs.get("name"),
                    "value": attrs.get("value", ""),
                    "checked": "checked" in attrs,
                    "required": "required" in attrs,
                }
            )
        elif tag == "button":
            self._form.fields.append(
                {
                    "tag": "button",
                    "type": (attrs.get("type") or "submit").lower(),
                    "name": attrs.get("name"),
                    "value": attrs.get("value", ""),
                }
            )
        elif tag == "select":
            self._select = {
                "tag": "select",
                "name": attrs.get("name"),
                "multiple": "multiple" in attrs,
                "required": "required" in attrs,
                "options": [],
            }
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "selected": "selected" in attrs, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self._textarea = {
                "tag": "textarea",
                "name": attrs.get("name"),
                "value": "",
                "required": "required" in attrs,
            }
            self._form.fields.append(self._textarea)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
            if self._option["value"] is None:
                self._option["value"] = ""
        if self._textarea is not None:
            self._textarea["value"] += data


def parse(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


ERROR_BLOCK = re.compile(r'class="[^"]*\b(?:errorlist|alert-error)\b[^"]*"[^>]*>(.*?)</(?:ul|p|div)>', re.S)


def error_texts(html: str) -> list[str]:
    """Return the texts of the page's error messages, for a useful failure message."""
    texts = (re.sub(r"<[^>]+>", " ", block) for block in ERROR_BLOCK.findall(html))
    return [" ".join(text.split()) for text in texts if text.strip()]


def option_value(option: dict) -> str:
    return option["value"] if option["value"] is not None else option["text"].strip()


def form_defaults(form: Form) -> dict[str, list[str]]:
    """Return what a browser would send for the untouched form (buttons and files excluded)."""
    data: dict[str, list[str]] = {}
    for field in form.fields:
        name = field.get("name")
        if not name or field["tag"] == "button":
            continue
        if field["tag"] == "input":
            if field["type"] in ("submit", "button", "image", "reset", "file"):
                continue
            if field["type"] in ("checkbox", "radio"):
                if field["checked"]:
                    data.setdefault(name, []).append(field["value"] or "on")
                continue
            data.setdefault(name, []).append(field["value"])
        elif field["tag"] == "select":
            chosen = [option_value(o) for o in field["options"] if o["selected"]]
            if not chosen and not field["multiple"] and field["options"]:
                chosen = [option_value(field["options"][0])]
            data.setdefault(name, []).extend(chosen)
        elif field["tag"] == "textarea":
            data.setdefault(name, []).append(field["value"].lstrip("\n"))
    return data


def fill_required(form: Form, data: dict[str, list[str]]) -> None:
    """Give every field the page marks required, and left empty, a plausible value."""
    seen_at = (datetime.now(TOKYO) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    samples = {
        "email": "smoke@example.com",
        "url": "https://smoke.example/required",
        "number": "1",
        "date": seen_at[:10],
        "datetime-local": seen_at,
    }
    for field in form.fields:
        name = field.get("name")
        if not name or not field.get("required") or any(value.strip() for value in data.get(name, [])):
            continue
        if field["tag"] == "select":
            values = [option_value(o) for o in field["options"] if option_value(o)]
            if values:
                data[name] = [values[0]]
        elif field["tag"] == "textarea":
            data[name] = ["Smoke test."]
        elif field["tag"] == "input" and field["type"] in ("radio", "checkbox"):
            data[name] = [next(f["value"] for f in form.fields if f.get("name") == name)]
        elif field["tag"] == "input" and field["type"] not in ("hidden", "file", "submit", "button"):
            data[name] = [samples.get(field["type"], "smoke")]


def choose_option(form: Form, name: str, preferred: tuple[str, ...]) -> str | None:
    """Return the first preferred value the field offers, else its first non-empty one."""
    values = []
    for field in form.fields:
        if field.get("name") != name:
            continue
        if field["tag"] == "select":
            values += [option_value(o) for o in field["options"]]
        elif field["tag"] == "input":
            values.append(field["value"])
    values = [v for v in values if v]
    for value in preferred:
        if value in values:
            return value
    return values[0] if values else None


class Browser:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/") + "/"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base_url, path)

    def get(self, path: str) -> tuple[str, str]:
        return self._open(urllib.request.Request(self.url(path), headers={"Accept-Language": "en"}))

    def post(self, path: str, data: dict[str, list[str]], referer: str) -> tuple[str, str]:
        body = urllib.parse.urlencode([(k, v) for k, values in data.items() for v in values]).encode()
        request = urllib.request.Request(
            self.url(path),
            data=body,
            headers={"Referer": referer, "Accept-Language": "en"},
            method="POST",
        )
        return self._open(request)

    def _open(self, request) -> tuple[str, str]:
        """Return (final URL after redirects, body); an HTTP error fails with the page's errors."""
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.geturl(), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")
            errors = error_texts(body)
            raise SmokeFailure(
                f"{request.get_method()} {request.full_url} answered {error.code}: {errors or body[:500]}"
            ) from None


def pick_form(parser: FormParser, wanted, description: str) -> Form:
    """Return the page's first POST form for which ``wanted(form)`` holds (the layout has others)."""
    forms = [form for form in parser.forms if form.method == "post" and wanted(form)]
    if not forms:
        raise SmokeFailure(f"No POST form with {description} on the page.")
    return forms[0]


def submit_target(form: Form, page_url: str) -> str:
    return urllib.parse.urljoin(page_url, form.action or page_url)


def log_in(browser: Browser, email: str, password: str) -> None:
    page_url, html = browser.get("login/")
    form = pick_form(parse(html), lambda f: any(x.get("type") == "password" for x in f.fields), "a password")
    data = form_defaults(form)
    password_fields = [f["name"] for f in form.fields if f.get("type") == "password"]
    login_fields = [
        f["name"]
        for f in form.fields
        if f["tag"] == "input" and f["type"] in ("email", "text") and f.get("name")
    ]
    if not password_fields or not login_fields:
        raise SmokeFailure("The login page has no email and password fields.")
    data[login_fields[0]] = [email]
    data[password_fields[0]] = [password]
    final_url, html = browser.post(submit_target(form, page_url), data, referer=page_url)
    if urllib.parse.urlparse(final_url).path.rstrip("/").endswith("/login"):
        raise SmokeFailure(f"Logging in as {email} failed: {error_texts(html)}")
    print(f"logged in as {email}; landed on {urllib.parse.urlparse(final_url).path}")


def file_claim(browser: Browser) -> str:
    page_url, html = browser.get("file/")
    form = pick_form(
        parse(html),
        lambda f: any(name.endswith("-TOTAL_FORMS") for name in f.names()),
        "an outputs formset (its management form)",
    )
    names = form.names()
    prefix = next(name[: -len("-TOTAL_FORMS")] for name in names if name.endswith("-TOTAL_FORMS"))

    stamp = datetime.now(TOKYO)
    data = form_defaults(form)
    if "kind" in names:
        data["kind"] = ["claim"]
    respondent = choose_option(form, "respondent", ())
    if respondent is None:
        raise SmokeFailure("The filing form offers no provider.")
    data["respondent"] = [respondent]
    data["title"] = [f"Smoke test claim {stamp:%Y-%m-%d %H:%M:%S}"]
    data["description"] = ["A generated video shows a character resembling ours. Filed by the CI smoke test."]
    if "legal_basis" in names:
        data["legal_basis"] = [choose_option(form, "legal_basis", ("character_likeness",)) or "other"]
    if "remedies" in names:
        data["remedies"] = [choose_option(form, "remedies", ("remove_output",))]
    output = {
        "product": "Smoke Video",
        "model_name": "smoke-1",
        "url": f"https://smoke.example/v/{stamp:%Y%m%d%H%M%S}",
        "seen_at": (stamp - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "prompt": "a character resembling ours, dancing",
    }
    for key, value in output.items():
        if f"{prefix}-0-{key}" in names:
            data[f"{prefix}-0-{key}"] = [value]
    fill_required(form, data)

    buttons = [f for f in form.fields if f["tag"] == "button" and f["type"] == "submit" and f.get("name")]
    file_button = next((b for b in buttons if b["value"] == "file"), buttons[-1] if buttons else None)
    if file_button is not None:
        data[file_button["name"]] = [file_button["value"]]

    final_url, html = browser.post(submit_target(form, page_url), data, referer=page_url)
    match = REFERENCE.search(urllib.parse.urlparse(final_url).path)
    if match is None:
        raise SmokeFailure(f"Filing did not lead to a case page but to {final_url}: {error_texts(html)}")
    reference = match.group(1)
    if reference not in html:
        raise SmokeFailure(f"The case page {final_url} does not show {reference}.")
    print(f"filed {reference}; redirected to {urllib.parse.urlparse(final_url).path}")
    return reference


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", nargs="?", default="http://127.0.0.1:8000/")
    parser.add_argument("--email", default="legal@member.demo")
    parser.add_argument("--password", default="demo-pass-2026")
    args = parser.parse_args(argv)

    browser = Browser(args.base_url)
    try:
        log_in(browser, args.email, args.password)
        reference = file_claim(browser)
        _url, listing = browser.get("cases/")
        if reference not in listing:
            raise SmokeFailure(f"{reference} is not on /cases/.")
        print(f"{reference} is listed on /cases/")
    except (SmokeFailure, urllib.error.URLError) as failure:
        print(f"SMOKE TEST FAILED: {failure}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
