from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from members.tokens import api_token_issue


@pytest.fixture(autouse=True)
def evidence_storage(settings, tmp_path):
    """Keep uploaded evidence in a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api_client_for():
    """Return an API client authenticating as ``user`` with a fresh API token, as a machine client does."""

    def _client(user):
        _token, plaintext = api_token_issue(actor=None, user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        return client

    return _client


@pytest.fixture
def legal_api(api_client_for, legal):
    return api_client_for(legal)


@pytest.fixture
def agent_api(api_client_for, agent):
    return api_client_for(agent)


def case_url(case, suffix=""):
    return f"/api/v1/cases/{case.reference}/{suffix}"


def output_data(index=0, **overrides):
    data = {
        "product": "VidGen",
        "model_name": "vg-3",
        "url": f"https://vidgen.example/v/{index}",
        "seen_at": (timezone.now() - timedelta(hours=2)).isoformat(),
        "prompt": "a famous cat in a spaceship",
    }
    data.update(overrides)
    return data


def filing_data(provider, *, output_count=3, **overrides):
    data = {
        "kind": "claim",
        "respondent": provider.slug,
        "title": "Our character in generated video",
        "description": "The outputs show our character.",
        "legal_basis": "character_likeness",
        "remedies": ["remove_output", "block_prompts"],
        "priority": "high",
        "outputs": [output_data(i) for i in range(output_count)],
    }
    data.update(overrides)
    return data
