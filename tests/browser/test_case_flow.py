"""A claim from filing to resolution, the way its users go through it in a browser.

A member's legal user files a claim with two outputs and a screenshot, the provider's agent
answers every output, and the member accepts. Each of them logs in through the login page.
"""

import hashlib
import re
import struct
import zlib

import pytest
from playwright.sync_api import Page, expect

from claims.models import Case, CaseState
from tests.browser.steps import log_in, log_out, snap, stylesheet_applied

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"CL-\d{4}-\d{6}")
OUTPUTS = [
    {
        "product": "VidGen",
        "model": "vg-3",
        "url": "https://vidgen.example/share/rain-walk",
        "seen_at": "2026-01-15T10:30",
    },
    {
        "product": "PixDream",
        "model": "pd-xl",
        "url": "https://pixdream.example/i/umbrella",
        "seen_at": "2026-01-16T21:05",
    },
]

TIMELINE_AFTER_ACCEPT = [
    "Created",
    "Evidence added",
    "Submitted",
    "Acknowledged",
    "Responded",
    "Response accepted",
]


def png_bytes(size: int = 16) -> bytes:
    """Return a small valid PNG (a colour gradient), built without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # Each scanline starts with filter type 0, then red and green rise across and down the image.
    rows = b"".join(
        b"\x00" + bytes(channel for x in range(size) for channel in (x * 15, y * 15, 128))
        for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def screenshot_file(tmp_path):
    path = tmp_path / "rain-walk-screenshot.png"
    path.write_bytes(png_bytes())
    return path


def file_claim(page: Page, *, provider, evidence_path) -> str:
    """File a claim with two outputs and one file through the filing form; return its reference."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="File a claim").click()
    expect(page.get_by_role("heading", name="File a claim or an inquiry")).to_be_visible()
    page.get_by_label("Provider").select_option(label=provider.name_en)
    page.get_by_label("Title").fill("Our heroine in generated videos")
    page.get_by_label("Description").fill("Both outputs show our heroine with her red umbrella.")
    page.get_by_label("Legal basis").select_option("character_likeness")
    page.get_by_label("Remove the output").check()
    rows = page.locator("[data-output-row]")
    for row, output in zip(rows.all(), OUTPUTS, strict=True):
        row.get_by_label("Product").fill(output["product"])
        row.get_by_label("Model").fill(output["model"])
        row.get_by_label("URL").fill(output["url"])
        row.get_by_label("Seen at").fill(output["seen_at"])
    page.get_by_label("Files for the whole case").set_input_files(evidence_path)
    snap(page, "01-filing-form")
    page.get_by_role("button", name="File", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="was filed with")).to_be_visible()
    reference = REFERENCE.search(page.url)
    assert reference, f"The filing did not lead to a case page: {page.url}"
    return reference.group()


def respond_form(page: Page):
    page.locator("#action-respond > summary").click()
    form = page.locator("#action-respond form")
    expect(form).to_be_visible()
    return form


@pytest.mark.django_db(transaction=True)
def test_claim_is_filed_answered_and_accepted(page, legal, agent, provider, screenshot_file):
    """A claim goes from filing to "Resolved" through the web UI, and its file comes back unchanged."""
    uploaded = screenshot_file.read_bytes()

    # The member's legal user files the claim.
    log_in(page, legal)
    assert stylesheet_applied(page)
    reference = file_claim(page, provider=provider, evidence_path=screenshot_file)
    expect(page.get_by_role("heading", name="Our heroine in generated videos")).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text(reference)
    snap(page, "02-filed-case")
    log_out(page)

    # The provider's agent lands on the "due next" queue, finds the case there and responds to each output.
    log_in(page, agent)
    expect(page.get_by_role("heading", name="Due next")).to_be_visible()
    page.get_by_role("link", name=reference).first.click()
    expect(page.get_by_role("heading", name="Our heroine in generated videos")).to_be_visible()
    snap(page, "03-agent-case")
    form = respond_form(page)
    form.get_by_label("Summary").fill("We removed the first output and are checking the second.")
    form.get_by_label("Contact name").fill("Sato Hanako")
    form.get_by_label("Contact email").fill("sato@provider.test")
    first = form.get_by_role("group", name=re.compile(r"^#1 VidGen"))
    second = form.get_by_role("group", name=re.compile(r"^#2 PixDream"))
    first.get_by_label("Outcome").select_option("removed")
    first.get_by_label("Rationale").fill("It reproduces the heroine's design.")
    first.get_by_label("Measures taken").fill("Share link disabled; prompt filter added.")
    second.get_by_label("Outcome").select_option("investigating")
    # Only spaces: the browser's own "required" check lets them through; the server must not.
    second.get_by_label("Rationale").fill("   ")
    snap(page, "04-respond-form")
    form.get_by_role("button", name="Respond").click()
    snap(page, "05-respond-error")
    form = page.locator("#action-respond form")
    second = form.get_by_role("group", name=re.compile(r"^#2 PixDream"))
    expect(second.get_by_label("Rationale")).to_have_attribute("aria-invalid", "true")
    expect(second).to_contain_text("This field is required.")
    # Rejected means nothing changed: the case is still waiting for its response.
    expect(page.get_by_role("region", name="Case")).to_contain_text("Submitted")
    assert Case.objects.get(reference=reference).state == CaseState.SUBMITTED

    second.get_by_label("Rationale").fill("We are comparing it with the heroine's model sheet.")
    form.get_by_role("button", name="Respond").click()
    expect(page.get_by_role("status").filter(has_text="Your response was sent")).to_be_visible()
    expect(page.get_by_role("region", name="Case")).to_contain_text("Responded")
    log_out(page)

    # The member reads the response and accepts it.
    log_in(page, legal)
    page.get_by_role("link", name=reference).click()
    responses = page.get_by_role("region", name="Responses")
    expect(responses).to_contain_text("It reproduces the heroine's design.")
    expect(responses).to_contain_text("Investigating")
    expect(responses).to_contain_text("Sato Hanako")
    snap(page, "06-member-sees-response")
    page.locator("#action-accept > summary").click()
    page.locator("#action-accept form").get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status").filter(has_text="the case is resolved")).to_be_visible()
    expect(page.get_by_role("region", name="Case")).to_contain_text("Resolved")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("Chain verified")
    # Each entry begins with what happened; a respond straight from "submitted" acknowledges first.
    expect(timeline.get_by_role("listitem")).to_have_text(
        [re.compile(rf"^\s*{label}\b") for label in TIMELINE_AFTER_ACCEPT]
    )
    snap(page, "07-resolved")

    with page.expect_download() as download_info:
        page.get_by_role("region", name="Evidence").get_by_role("link", name=screenshot_file.name).click()
    downloaded = download_info.value
    assert downloaded.suggested_filename == screenshot_file.name
    with open(downloaded.path(), "rb") as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == hashlib.sha256(uploaded).hexdigest()
